package keyvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/google/uuid"
)

// secretStore keeps the secrets of every vault in kv.SpaceKeyVault, by
// vault name: vault names are global and a deleted vault keeps its name
// until it is purged, so a vault's secrets follow it through soft delete
// and recover without being copied (see the space's table for the keys).
//
// A secret is a head record (its name as first set, its latest version,
// its deletion if it is soft-deleted) and one record per version; a write
// changes the head on the condition that nobody changed it meanwhile, and
// retries, so concurrent sets of one secret each make a version and one of
// them is latest.
//
// Choice: secret values are stored as sent, unencrypted, like every other
// record of the data dir (whose files are the operator's own, mode 0600).
type secretStore struct {
	kv  kv.View
	now func() time.Time
}

// Limits of Key Vault's that armlet applies.
const (
	maxSecretValue = 25 * 1024 // bytes
	maxSecretTags  = 15
	maxPage        = 25
	writeAttempts  = 8
)

var secretNameChars = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

// secretHead is a secret's head record.
type secretHead struct {
	Name    string    `json:"name"`
	Latest  string    `json:"latest"`
	Deleted *deletion `json:"deleted,omitempty"`
}

// deletion is when a secret was soft-deleted and when it is purged.
type deletion struct {
	Date    int64 `json:"date"`
	PurgeAt int64 `json:"purgeAt"`
}

// secretVersion is one version of a secret. Times are Unix seconds, as
// Key Vault's attributes give them.
type secretVersion struct {
	Version     string            `json:"version"`
	Value       string            `json:"value"`
	ContentType string            `json:"contentType,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Enabled     bool              `json:"enabled"`
	NotBefore   *int64            `json:"nbf,omitempty"`
	Expires     *int64            `json:"exp,omitempty"`
	Created     int64             `json:"created"`
	Updated     int64             `json:"updated"`
}

// secretAttributes are the attributes a request sets.
type secretAttributes struct {
	Enabled   *bool  `json:"enabled"`
	NotBefore *int64 `json:"nbf"`
	Expires   *int64 `json:"exp"`
}

// secretParams is the body of Set Secret and of Update Secret (which
// sends no value).
type secretParams struct {
	Value       *string           `json:"value"`
	ContentType *string           `json:"contentType"`
	Tags        map[string]string `json:"tags"`
	Attributes  *secretAttributes `json:"attributes"`
}

func headKey(vault, name string) []byte {
	return []byte(strings.ToLower(vault) + "\x00s\x00" + strings.ToLower(name))
}

func versionPrefix(vault, name string) []byte {
	return []byte(strings.ToLower(vault) + "\x00v\x00" + strings.ToLower(name) + "\x00")
}

func versionKey(vault, name, version string) []byte {
	return append(versionPrefix(vault, name), strings.ToLower(version)...)
}

// errSecretNotFound is Key Vault's 404 for a secret (or version) the vault
// does not have, with the hint it gives.
func errSecretNotFound(what string) *arm.Error {
	return arm.NotFound("SecretNotFound", "A secret with (name/id) %s was not found in this key vault. "+
		"If you recently deleted this secret you may be able to recover it using the correct recovery command. "+
		"For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", what)
}

func badParameter(format string, args ...any) *arm.Error {
	return arm.BadRequest("BadParameter", format, args...)
}

// checkSecretName refuses a name Key Vault refuses: 1 to 127 letters,
// digits and dashes.
func checkSecretName(name string) error {
	if !secretNameChars.MatchString(name) {
		return badParameter("The request URI contains an invalid name: %s. A secret name is 1 to 127 letters, digits and dashes.", clipName(name))
	}
	return nil
}

// clipName keeps a refused name short in a message.
func clipName(s string) string {
	if len(s) > 130 {
		return s[:130] + "..."
	}
	return s
}

// head reads a secret's head; nil when there is none or its purge date
// has passed (Key Vault has purged it by then).
func (s *secretStore) head(ctx context.Context, vault, name string) (*secretHead, int64, error) {
	ent, err := s.kv.Get(ctx, headKey(vault, name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var h secretHead
	if err := json.Unmarshal(ent.Value, &h); err != nil {
		return nil, 0, fmt.Errorf("keyvault: secret head %q: %w", ent.Key, err)
	}
	if h.Deleted != nil && s.now().Unix() >= h.Deleted.PurgeAt {
		return nil, ent.Revision, nil
	}
	return &h, ent.Revision, nil
}

// version reads one version of a secret (nil when it has none such).
func (s *secretStore) version(ctx context.Context, vault, name, version string) (*secretVersion, error) {
	ent, err := s.kv.Get(ctx, versionKey(vault, name, version))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var v secretVersion
	if err := json.Unmarshal(ent.Value, &v); err != nil {
		return nil, fmt.Errorf("keyvault: secret version %q: %w", ent.Key, err)
	}
	return &v, nil
}

// headCond is the condition a write of a head read at rev holds on: the
// head is as it was read (absent when rev is 0).
func headCond(rev int64) kv.Cond {
	if rev == 0 {
		return kv.Absent
	}
	return kv.AtRevision(rev)
}

// retry runs write until it does not lose a race on a head.
func retry(write func() error) error {
	var err error
	for range writeAttempts {
		if err = write(); !errors.Is(err, kv.ErrConflict) {
			return err
		}
	}
	return arm.Conflict("Conflict", "The secret was changed by another request meanwhile; try again.").Wrap(err)
}

// set makes a new version of the secret name and makes it latest. A
// secret in the deleted state refuses it (Key Vault's 409); one whose purge
// date has passed is purged first.
func (s *secretStore) set(ctx context.Context, vault, name string, p secretParams) (*secretVersion, error) {
	if p.Value == nil {
		return nil, badParameter("The parameter 'value' is required.")
	}
	if len(*p.Value) > maxSecretValue {
		return nil, badParameter("The secret value is %d bytes; Key Vault stores at most %d.", len(*p.Value), maxSecretValue)
	}
	if err := checkTags(p.Tags); err != nil {
		return nil, err
	}
	now := s.now().Unix()
	v := &secretVersion{
		Version: strings.ReplaceAll(uuid.NewString(), "-", ""), Value: *p.Value, Tags: p.Tags,
		Enabled: true, Created: now, Updated: now,
	}
	if p.ContentType != nil {
		v.ContentType = *p.ContentType
	}
	applyAttributes(v, p.Attributes)
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	err = retry(func() error {
		h, rev, err := s.head(ctx, vault, name)
		if err != nil {
			return err
		}
		var ops []kv.Op
		switch {
		case h != nil && h.Deleted != nil:
			return arm.Conflict("Conflict", "Secret %s is currently in a deleted but recoverable state, and its name cannot be reused; "+
				"in this state, the secret can only be recovered or purged.", name)
		case h == nil && rev != 0:
			// A deleted secret past its purge date: Key Vault has purged
			// it, versions and all.
			if ops, err = s.purgeOps(ctx, vault, name, rev); err != nil {
				return err
			}
			ops = ops[1:] // the head is rewritten below, at the same condition
		case h == nil:
		default:
			name = h.Name
		}
		head, err := json.Marshal(secretHead{Name: name, Latest: v.Version})
		if err != nil {
			return err
		}
		ops = append(ops, kv.Put(headKey(vault, name), head).If(headCond(rev)), kv.Put(versionKey(vault, name, v.Version), raw))
		_, err = s.kv.Txn(ctx, ops...)
		return err
	})
	return v, err
}

func checkTags(tags map[string]string) error {
	if len(tags) > maxSecretTags {
		return badParameter("A secret can have at most %d tags; this request has %d.", maxSecretTags, len(tags))
	}
	return nil
}

func applyAttributes(v *secretVersion, a *secretAttributes) {
	if a == nil {
		return
	}
	if a.Enabled != nil {
		v.Enabled = *a.Enabled
	}
	if a.NotBefore != nil {
		v.NotBefore = a.NotBefore
	}
	if a.Expires != nil {
		v.Expires = a.Expires
	}
}

// live returns the head of a secret that exists and is not deleted, or
// Key Vault's 404.
func (s *secretStore) live(ctx context.Context, vault, name string) (*secretHead, int64, error) {
	h, rev, err := s.head(ctx, vault, name)
	if err != nil {
		return nil, 0, err
	}
	if h == nil || h.Deleted != nil {
		return nil, 0, errSecretNotFound(name)
	}
	return h, rev, nil
}

// get returns a version of a live secret, the latest when version is "".
func (s *secretStore) get(ctx context.Context, vault, name, version string) (*secretHead, *secretVersion, error) {
	h, _, err := s.live(ctx, vault, name)
	if err != nil {
		return nil, nil, err
	}
	want := version
	if want == "" {
		want = h.Latest
	}
	v, err := s.version(ctx, vault, name, want)
	if err == nil && v == nil {
		err = errSecretNotFound(name + "/" + version)
	}
	return h, v, err
}

// update changes the content type, tags and attributes of a version (the
// latest when version is "") in place.
func (s *secretStore) update(ctx context.Context, vault, name, version string, p secretParams) (*secretHead, *secretVersion, error) {
	if p.Value != nil {
		return nil, nil, badParameter("The parameter 'value' cannot be updated; set a new version of the secret instead.")
	}
	if err := checkTags(p.Tags); err != nil {
		return nil, nil, err
	}
	var h *secretHead
	var v *secretVersion
	err := retry(func() error {
		var rev int64
		var err error
		if h, rev, err = s.live(ctx, vault, name); err != nil {
			return err
		}
		want := version
		if want == "" {
			want = h.Latest
		}
		if v, err = s.version(ctx, vault, name, want); err != nil {
			return err
		}
		if v == nil {
			return errSecretNotFound(name + "/" + version)
		}
		if p.ContentType != nil {
			v.ContentType = *p.ContentType
		}
		if p.Tags != nil {
			v.Tags = p.Tags
		}
		applyAttributes(v, p.Attributes)
		v.Updated = s.now().Unix()
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		// The head's revision guards against a delete meanwhile.
		_, err = s.kv.Txn(ctx, kv.Put(headKey(vault, name), mustMarshal(h)).If(headCond(rev)), kv.Put(versionKey(vault, name, v.Version), raw))
		return err
	})
	return h, v, err
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// remove soft-deletes a live secret for retentionDays.
func (s *secretStore) remove(ctx context.Context, vault, name string, retentionDays int64) (*secretHead, *secretVersion, error) {
	var h *secretHead
	var v *secretVersion
	err := retry(func() error {
		var rev int64
		var err error
		if h, rev, err = s.live(ctx, vault, name); err != nil {
			return err
		}
		if v, err = s.version(ctx, vault, name, h.Latest); err != nil {
			return err
		}
		now := s.now()
		h.Deleted = &deletion{Date: now.Unix(), PurgeAt: now.Add(time.Duration(retentionDays) * 24 * time.Hour).Unix()}
		_, err = s.kv.Txn(ctx, kv.Put(headKey(vault, name), mustMarshal(h)).If(headCond(rev)))
		return err
	})
	if err == nil && v == nil {
		err = fmt.Errorf("keyvault: secret %s of vault %s has no version %s", name, vault, h.Latest)
	}
	return h, v, err
}

// deleted returns a soft-deleted secret and its latest version, or Key
// Vault's 404.
func (s *secretStore) deleted(ctx context.Context, vault, name string) (*secretHead, int64, *secretVersion, error) {
	h, rev, err := s.head(ctx, vault, name)
	if err != nil {
		return nil, 0, nil, err
	}
	if h == nil || h.Deleted == nil {
		return nil, 0, nil, errSecretNotFound(name)
	}
	v, err := s.version(ctx, vault, name, h.Latest)
	if err == nil && v == nil {
		err = fmt.Errorf("keyvault: secret %s of vault %s has no version %s", name, vault, h.Latest)
	}
	return h, rev, v, err
}

// recover brings a soft-deleted secret back as it was.
func (s *secretStore) recover(ctx context.Context, vault, name string) (*secretHead, *secretVersion, error) {
	var h *secretHead
	var v *secretVersion
	err := retry(func() error {
		var rev int64
		var err error
		if h, rev, v, err = s.deleted(ctx, vault, name); err != nil {
			return err
		}
		h.Deleted = nil
		_, err = s.kv.Txn(ctx, kv.Put(headKey(vault, name), mustMarshal(h)).If(headCond(rev)))
		return err
	})
	return h, v, err
}

// purge removes a soft-deleted secret for good.
func (s *secretStore) purge(ctx context.Context, vault, name string) error {
	return retry(func() error {
		_, rev, _, err := s.deleted(ctx, vault, name)
		if err != nil {
			return err
		}
		ops, err := s.purgeOps(ctx, vault, name, rev)
		if err != nil {
			return err
		}
		_, err = s.kv.Txn(ctx, ops...)
		return err
	})
}

// purgeOps are the deletes of a secret's head (first, on the condition
// that it is still at rev) and of every version.
func (s *secretStore) purgeOps(ctx context.Context, vault, name string, rev int64) ([]kv.Op, error) {
	ops := []kv.Op{kv.Delete(headKey(vault, name)).If(headCond(rev))}
	prefix := versionPrefix(vault, name)
	var after []byte
	for {
		ents, err := s.kv.Scan(ctx, prefix, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			ops = append(ops, kv.Delete(e.Key))
		}
		if len(ents) < 1000 {
			return ops, nil
		}
		after = ents[len(ents)-1].Key
	}
}

// dropVault removes every secret of the vault name: when the vault is
// purged, and before a vault of a name whose last holder Azure has purged
// is created, so that no secret outlives its vault.
func (s *secretStore) dropVault(ctx context.Context, vault string) error {
	prefix := []byte(strings.ToLower(vault) + "\x00")
	for {
		ents, err := s.kv.Scan(ctx, prefix, nil, 500)
		if err != nil || len(ents) == 0 {
			return err
		}
		ops := make([]kv.Op, len(ents))
		for i, e := range ents {
			ops[i] = kv.Delete(e.Key)
		}
		if _, err := s.kv.Txn(ctx, ops...); err != nil {
			return err
		}
	}
}

// listed is one secret of a list: its head and the version shown.
type listed struct {
	head    *secretHead
	version *secretVersion
}

// list returns up to max secrets of the vault after the head key after
// (relative to the vault's heads), deleted ones when deleted and live ones
// otherwise, and the key to continue after ("" at the end).
func (s *secretStore) list(ctx context.Context, vault string, deleted bool, after string, max int) ([]listed, string, error) {
	prefix := []byte(strings.ToLower(vault) + "\x00s\x00")
	var out []listed
	cursor := after
	for {
		var from []byte
		if cursor != "" {
			from = append(append([]byte{}, prefix...), cursor...)
		}
		ents, err := s.kv.Scan(ctx, prefix, from, max)
		if err != nil {
			return nil, "", err
		}
		for i, e := range ents {
			cursor = string(e.Key[len(prefix):])
			var h secretHead
			if err := json.Unmarshal(e.Value, &h); err != nil {
				return nil, "", fmt.Errorf("keyvault: secret head %q: %w", e.Key, err)
			}
			expired := h.Deleted != nil && s.now().Unix() >= h.Deleted.PurgeAt
			if expired || (h.Deleted != nil) != deleted {
				continue
			}
			v, err := s.version(ctx, vault, h.Name, h.Latest)
			if err != nil {
				return nil, "", err
			}
			if v != nil {
				out = append(out, listed{&h, v})
			}
			if len(out) == max {
				if i == len(ents)-1 && len(ents) < max {
					return out, "", nil
				}
				return out, cursor, nil
			}
		}
		if len(ents) < max {
			return out, "", nil
		}
	}
}

// versions returns up to max versions of a live secret after the version
// after, and the version to continue after ("" at the end).
func (s *secretStore) versions(ctx context.Context, vault, name, after string, max int) (*secretHead, []*secretVersion, string, error) {
	h, _, err := s.live(ctx, vault, name)
	if err != nil {
		return nil, nil, "", err
	}
	prefix := versionPrefix(vault, name)
	var from []byte
	if after != "" {
		from = append(append([]byte{}, prefix...), after...)
	}
	ents, err := s.kv.Scan(ctx, prefix, from, max)
	if err != nil {
		return nil, nil, "", err
	}
	out := make([]*secretVersion, 0, len(ents))
	for _, e := range ents {
		var v secretVersion
		if err := json.Unmarshal(e.Value, &v); err != nil {
			return nil, nil, "", fmt.Errorf("keyvault: secret version %q: %w", e.Key, err)
		}
		out = append(out, &v)
	}
	next := ""
	if len(ents) == max {
		next = out[len(out)-1].Version
	}
	return h, out, next, nil
}

// secretDisabled is Key Vault's refusal to read a disabled secret's value.
func secretDisabled() *arm.Error {
	return arm.Errorf(http.StatusForbidden, codeForbidden, "Operation get is not allowed on a disabled secret.").WithInner("SecretDisabled")
}

// vaultSecrets gives a vault's secrets their Key Vault shapes: the
// vault's URL for ids and its soft delete settings for recoveryLevel.
type vaultSecrets struct {
	url           string // https://{name}.vault.azure.net
	retentionDays int64
	protected     bool
}

func vaultSecretsOf(v *engine.Resource) vaultSecrets {
	days := int64(defaultRetentionDays)
	if n, ok := v.Properties["softDeleteRetentionInDays"].(json.Number); ok {
		days, _ = n.Int64()
	}
	protected, _ := v.Properties["enablePurgeProtection"].(bool)
	return vaultSecrets{url: "https://" + strings.ToLower(v.ID.Name()) + DNSSuffix, retentionDays: days, protected: protected}
}

// recoveryLevel is Key Vault's name for what a delete of a secret of the
// vault allows: soft delete is always on; purge protection takes purge
// away; a retention under 90 days is "Customized".
func (vs vaultSecrets) recoveryLevel() string {
	level := "Recoverable"
	if vs.retentionDays < defaultRetentionDays {
		level = "CustomizedRecoverable"
	}
	if !vs.protected {
		level += "+Purgeable"
	}
	return level
}

// attributes renders a version's attributes.
func (vs vaultSecrets) attributes(v *secretVersion) map[string]any {
	a := map[string]any{
		"enabled": v.Enabled, "created": v.Created, "updated": v.Updated,
		"recoveryLevel": vs.recoveryLevel(), "recoverableDays": vs.retentionDays,
	}
	if v.NotBefore != nil {
		a["nbf"] = *v.NotBefore
	}
	if v.Expires != nil {
		a["exp"] = *v.Expires
	}
	return a
}

// item renders a secret for a list (no value); withVersion gives the id
// of the version rather than the secret's.
func (vs vaultSecrets) item(h *secretHead, v *secretVersion, withVersion bool) map[string]any {
	id := vs.url + "/secrets/" + h.Name
	if withVersion {
		id += "/" + v.Version
	}
	out := map[string]any{"id": id, "attributes": vs.attributes(v)}
	if v.ContentType != "" {
		out["contentType"] = v.ContentType
	}
	if len(v.Tags) > 0 {
		out["tags"] = v.Tags
	}
	if h.Deleted != nil {
		vs.addDeletion(out, h)
	}
	return out
}

// bundle renders a version as Key Vault's SecretBundle, with its value
// when withValue.
func (vs vaultSecrets) bundle(h *secretHead, v *secretVersion, withValue bool) map[string]any {
	out := vs.item(h, v, true)
	if withValue {
		out["value"] = v.Value
	}
	return out
}

// addDeletion adds a deleted secret's recoveryId and dates.
func (vs vaultSecrets) addDeletion(out map[string]any, h *secretHead) {
	out["recoveryId"] = vs.url + "/deletedsecrets/" + h.Name
	out["deletedDate"] = h.Deleted.Date
	out["scheduledPurgeDate"] = h.Deleted.PurgeAt
}
