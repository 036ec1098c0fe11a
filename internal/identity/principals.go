package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/armlet/armlet/internal/fleet"
	"github.com/armlet/armlet/internal/kv"
)

// BootstrapName is the display name of the bootstrap principal.
const BootstrapName = "armlet-bootstrap"

// MaxNameLength is the longest principal name accepted, in characters.
const MaxNameLength = 128

// Errors returned by the principal functions. Test with errors.Is.
var (
	// ErrInvalidName: a principal name that is empty, longer than
	// MaxNameLength characters, not UTF-8, with control characters, or with
	// leading or trailing white space.
	ErrInvalidName = errors.New("identity: invalid principal name")
	// ErrPrincipalNotFound: no principal has that client ID.
	ErrPrincipalNotFound = errors.New("identity: principal not found")
	// ErrBootstrapPrincipal: the bootstrap principal cannot be deleted.
	ErrBootstrapPrincipal = errors.New("identity: the bootstrap principal cannot be deleted")
)

// Credentials are what a client needs to log in as a service principal.
// ClientSecret is only ever available here: armlet keeps just its hash,
// except for the bootstrap principal (see Bootstrap).
type Credentials struct {
	Name         string `json:"name"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	ObjectID     string `json:"objectId"`
	TenantID     string `json:"tenantId"`
}

// Principal is a service principal as stored, without its secret.
type Principal struct {
	Name     string    `json:"name"`
	ClientID string    `json:"clientId"`
	ObjectID string    `json:"objectId"`
	TenantID string    `json:"tenantId"`
	Created  time.Time `json:"created"`
}

// principalRecord is the JSON stored at identity/principals/{clientId}.
type principalRecord struct {
	Principal
	// SecretSHA256 is the hex SHA-256 of the client secret.
	SecretSHA256 string `json:"secretSha256"`
}

func principalKey(clientID string) []byte {
	return []byte(keyPrincipalDir + strings.ToLower(clientID))
}

// ValidateName returns nil if name is acceptable as a principal name, or an
// error wrapping ErrInvalidName saying why not.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the name must not be empty", ErrInvalidName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: the name must be valid UTF-8", ErrInvalidName)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return fmt.Errorf("%w: the name must be at most %d characters", ErrInvalidName, MaxNameLength)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: the name must not start or end with white space", ErrInvalidName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: the name must not contain control characters", ErrInvalidName)
	}
	return nil
}

// CreatePrincipal creates a service principal named name with a new random
// client ID, object ID and 40-character secret, persists it (the secret
// only as a SHA-256 hash) and returns its credentials. The plain secret is
// not retrievable afterwards. Names need not be unique.
func (s *Service) CreatePrincipal(ctx context.Context, name string) (Credentials, error) {
	if err := ValidateName(name); err != nil {
		return Credentials{}, err
	}
	creds, rec := s.newPrincipal(name)
	val, err := json.Marshal(rec)
	if err != nil {
		return Credentials{}, err
	}
	if _, err := s.store.Txn(ctx, kv.Put(principalKey(creds.ClientID), val).If(kv.Absent)); err != nil {
		return Credentials{}, fmt.Errorf("identity: storing principal: %w", err)
	}
	s.log.Info("created service principal", "name", name, "clientId", creds.ClientID, "objectId", creds.ObjectID)
	return creds, nil
}

// newPrincipal makes fresh credentials and the record to store for them.
func (s *Service) newPrincipal(name string) (Credentials, principalRecord) {
	creds := Credentials{
		Name:         name,
		ClientID:     newGUID(),
		ClientSecret: newSecret(),
		ObjectID:     newGUID(),
		TenantID:     s.tenantID,
	}
	rec := principalRecord{
		Principal: Principal{
			Name:     name,
			ClientID: creds.ClientID,
			ObjectID: creds.ObjectID,
			TenantID: s.tenantID,
			Created:  s.clock.Now().UTC(),
		},
		SecretSHA256: hashSecret(creds.ClientSecret),
	}
	return creds, rec
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// secretMatches compares secret with the stored hash in constant time.
func (r *principalRecord) secretMatches(secret string) bool {
	want, err := hex.DecodeString(r.SecretSHA256)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(want, got[:]) == 1
}

// Principal returns the principal with the given client ID (any case), or an
// error wrapping ErrPrincipalNotFound.
func (s *Service) Principal(ctx context.Context, clientID string) (Principal, error) {
	rec, err := s.principalRecord(ctx, clientID)
	if err != nil {
		return Principal{}, err
	}
	return rec.Principal, nil
}

// principalRecord reads one stored record; the error wraps
// ErrPrincipalNotFound when there is none.
func (s *Service) principalRecord(ctx context.Context, clientID string) (principalRecord, error) {
	if !isGUID(clientID) {
		return principalRecord{}, fmt.Errorf("%w: %q", ErrPrincipalNotFound, clientID)
	}
	e, err := s.store.Get(ctx, principalKey(clientID))
	if errors.Is(err, kv.ErrNotFound) {
		return principalRecord{}, fmt.Errorf("%w: %s", ErrPrincipalNotFound, clientID)
	}
	if err != nil {
		return principalRecord{}, fmt.Errorf("identity: reading principal: %w", err)
	}
	var rec principalRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return principalRecord{}, fmt.Errorf("identity: principal record %s is corrupt: %w", clientID, err)
	}
	return rec, nil
}

// ListPrincipals returns every principal, ordered by client ID.
func (s *Service) ListPrincipals(ctx context.Context) ([]Principal, error) {
	var out []Principal
	err := s.eachPrincipal(ctx, func(rec principalRecord) { out = append(out, rec.Principal) })
	return out, err
}

// eachPrincipal calls f with every stored principal, ordered by client ID.
func (s *Service) eachPrincipal(ctx context.Context, f func(principalRecord)) error {
	var after []byte
	for {
		entries, err := s.store.Scan(ctx, []byte(keyPrincipalDir), after, 500)
		if err != nil {
			return fmt.Errorf("identity: listing principals: %w", err)
		}
		for _, e := range entries {
			var rec principalRecord
			if err := json.Unmarshal(e.Value, &rec); err != nil {
				return fmt.Errorf("identity: principal record %q is corrupt: %w", e.Key, err)
			}
			f(rec)
		}
		if len(entries) < 500 {
			return nil
		}
		after = entries[len(entries)-1].Key
	}
}

// PrincipalByObjectID returns the principal with the given object ID (any
// case), or an error wrapping ErrPrincipalNotFound. It scans all principals.
func (s *Service) PrincipalByObjectID(ctx context.Context, objectID string) (Principal, error) {
	all, err := s.ListPrincipals(ctx)
	if err != nil {
		return Principal{}, err
	}
	for _, p := range all {
		if strings.EqualFold(p.ObjectID, objectID) {
			return p, nil
		}
	}
	return Principal{}, fmt.Errorf("%w: object ID %s", ErrPrincipalNotFound, objectID)
}

// DeletePrincipal deletes the principal with the given client ID. Tokens
// already issued to it stop being accepted at once by this Service and
// within 5 seconds (the principal recheck interval) by other Services
// sharing the store. Deleting the
// bootstrap principal fails with ErrBootstrapPrincipal; deleting an unknown
// one with ErrPrincipalNotFound.
func (s *Service) DeletePrincipal(ctx context.Context, clientID string) error {
	if !isGUID(clientID) {
		return fmt.Errorf("%w: %q", ErrPrincipalNotFound, clientID)
	}
	if boot, ok, err := s.storedBootstrap(ctx); err != nil {
		return err
	} else if ok && strings.EqualFold(boot.ClientID, clientID) {
		return ErrBootstrapPrincipal
	}
	_, err := s.store.Txn(ctx, kv.Delete(principalKey(clientID)).If(kv.Present))
	if errors.Is(err, kv.ErrConflict) {
		return fmt.Errorf("%w: %s", ErrPrincipalNotFound, clientID)
	}
	if err != nil {
		return fmt.Errorf("identity: deleting principal: %w", err)
	}
	s.principals.forget(strings.ToLower(clientID))
	s.log.Info("deleted service principal", "clientId", clientID)
	return nil
}

// Bootstrap returns the bootstrap principal (name BootstrapName), creating it
// on the first call against a store. Its full credentials, plain secret
// included, are kept at "identity/bootstrap" so that every start returns the
// same ones (and can write them to connection.json). Concurrent first calls,
// in one process or in replicas sharing the store, all return the same
// principal.
func (s *Service) Bootstrap(ctx context.Context) (Credentials, error) {
	s.bootstrapMu.Lock()
	defer s.bootstrapMu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		creds, ok, err := s.storedBootstrap(ctx)
		if err != nil {
			return Credentials{}, err
		}
		if ok {
			return creds, nil
		}
		creds, rec := s.newPrincipal(BootstrapName)
		recVal, err := json.Marshal(rec)
		if err != nil {
			return Credentials{}, err
		}
		credVal, err := json.Marshal(creds)
		if err != nil {
			return Credentials{}, err
		}
		_, err = s.store.Txn(ctx,
			kv.Put([]byte(keyBootstrap), credVal).If(kv.Absent),
			kv.Put(principalKey(creds.ClientID), recVal).If(kv.Absent))
		if err == nil {
			s.log.Info("created bootstrap principal", "clientId", creds.ClientID, "objectId", creds.ObjectID)
			return creds, nil
		}
		if !errors.Is(err, kv.ErrConflict) {
			return Credentials{}, fmt.Errorf("identity: storing bootstrap principal: %w", err)
		}
		// Someone else created it first: read theirs.
	}
	return Credentials{}, errors.New("identity: bootstrap principal keeps changing under us")
}

// storedBootstrap reads identity/bootstrap; ok is false if it does not exist.
func (s *Service) storedBootstrap(ctx context.Context) (Credentials, bool, error) {
	e, err := s.store.Get(ctx, []byte(keyBootstrap))
	if errors.Is(err, kv.ErrNotFound) {
		return Credentials{}, false, nil
	}
	if err != nil {
		return Credentials{}, false, fmt.Errorf("identity: reading bootstrap principal: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(e.Value, &c); err != nil {
		return Credentials{}, false, fmt.Errorf("identity: bootstrap record is corrupt: %w", err)
	}
	return c, true, nil
}

// FollowPeers drops a cached principal as soon as another process sharing
// the store (an armlet replica on etcd) changes or deletes it, instead of
// at the next recheck, until ctx ends. On a store of this process's own it
// returns at once.
func (s *Service) FollowPeers(ctx context.Context) {
	fleet.Follow(ctx, s.store, []byte(keyPrincipalDir), func(e kv.Entry) {
		s.principals.forget(strings.TrimPrefix(string(e.Key), keyPrincipalDir))
	})
}

// Exported is a service principal as an export file holds it: the stored
// record, its secret as the SHA-256 hash armlet keeps. A file may give
// the plain ClientSecret instead (a hand-written seed), which is hashed.
type Exported struct {
	Name         string    `json:"name"`
	ClientID     string    `json:"clientId"`
	ObjectID     string    `json:"objectId,omitempty"`
	ClientSecret string    `json:"clientSecret,omitempty"`
	SecretSHA256 string    `json:"secretSha256,omitempty"`
	Created      time.Time `json:"created,omitzero"`
}

// ErrInvalidPrincipal is wrapped by the errors of CheckExported and
// ImportPrincipal for a principal of a file that cannot be stored (each
// is a *PrincipalError).
var ErrInvalidPrincipal = errors.New("identity: invalid principal")

// PrincipalError says which member of an imported principal is at fault
// and why. It wraps ErrInvalidPrincipal, and ErrInvalidName for the name.
type PrincipalError struct {
	Field  string // "name", "clientId", "objectId", "clientSecret" or "secretSha256"
	Reason string
	err    error
}

func (e *PrincipalError) Error() string {
	return "identity: invalid principal: " + e.Field + ": " + e.Reason
}

func (e *PrincipalError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrInvalidPrincipal}
	}
	return []error{ErrInvalidPrincipal, e.err}
}

func principalError(field, format string, args ...any) *PrincipalError {
	return &PrincipalError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// CheckExported returns nil if p can be imported, or a *PrincipalError.
func CheckExported(p Exported) error {
	if err := ValidateName(p.Name); err != nil {
		return &PrincipalError{Field: "name", Reason: strings.TrimPrefix(err.Error(), ErrInvalidName.Error()+": "), err: err}
	}
	switch {
	case !isGUID(p.ClientID):
		return principalError("clientId", "%q is not a GUID", p.ClientID)
	case p.ObjectID != "" && !isGUID(p.ObjectID):
		return principalError("objectId", "%q is not a GUID", p.ObjectID)
	case (p.ClientSecret == "") == (p.SecretSHA256 == ""):
		return principalError("clientSecret", "give either clientSecret (in clear) or secretSha256 (its hex SHA-256, as armlet export writes it), not both or neither")
	case p.SecretSHA256 != "":
		if b, err := hex.DecodeString(p.SecretSHA256); err != nil || len(b) != sha256.Size {
			return principalError("secretSha256", "it must be 64 hexadecimal digits")
		}
	}
	return nil
}

// ExportPrincipals returns every principal but the bootstrap one (each
// armlet has its own), ordered by client ID, with its secret's hash.
func (s *Service) ExportPrincipals(ctx context.Context) ([]Exported, error) {
	boot, _, err := s.storedBootstrap(ctx)
	if err != nil {
		return nil, err
	}
	var out []Exported
	err = s.eachPrincipal(ctx, func(rec principalRecord) {
		if !strings.EqualFold(rec.ClientID, boot.ClientID) {
			out = append(out, Exported{Name: rec.Name, ClientID: rec.ClientID, ObjectID: rec.ObjectID,
				SecretSHA256: rec.SecretSHA256, Created: rec.Created})
		}
	})
	return out, err
}

// ImportPrincipal stores p (checked with CheckExported first) in this
// Service's tenant, with a new object ID when p has none, unless a
// principal with its client ID exists: then it changes nothing and
// reports false. An object ID another principal has is refused (a
// *PrincipalError).
func (s *Service) ImportPrincipal(ctx context.Context, p Exported) (created bool, err error) {
	if err := CheckExported(p); err != nil {
		return false, err
	}
	if _, err := s.principalRecord(ctx, p.ClientID); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrPrincipalNotFound) {
		return false, err
	}
	if p.ObjectID == "" {
		p.ObjectID = newGUID()
	} else if other, err := s.PrincipalByObjectID(ctx, p.ObjectID); err == nil {
		return false, principalError("objectId", "the object id %s is the principal %s's", p.ObjectID, other.ClientID)
	} else if !errors.Is(err, ErrPrincipalNotFound) {
		return false, err
	}
	hash := p.SecretSHA256
	if hash == "" {
		hash = hashSecret(p.ClientSecret)
	}
	if p.Created.IsZero() {
		p.Created = s.clock.Now().UTC()
	}
	rec := principalRecord{
		Principal:    Principal{Name: p.Name, ClientID: strings.ToLower(p.ClientID), ObjectID: strings.ToLower(p.ObjectID), TenantID: s.tenantID, Created: p.Created},
		SecretSHA256: strings.ToLower(hash),
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	_, err = s.store.Txn(ctx, kv.Put(principalKey(p.ClientID), val).If(kv.Absent))
	if errors.Is(err, kv.ErrConflict) {
		return false, nil // imported meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("identity: storing principal: %w", err)
	}
	s.principals.forget(strings.ToLower(p.ClientID))
	s.log.Info("imported service principal", "name", p.Name, "clientId", p.ClientID, "objectId", p.ObjectID)
	return true, nil
}

// FindPrincipal returns the principal whose client ID or, failing that,
// object ID is id (any case), or an error wrapping ErrPrincipalNotFound.
func (s *Service) FindPrincipal(ctx context.Context, id string) (Principal, error) {
	p, err := s.Principal(ctx, id)
	if !errors.Is(err, ErrPrincipalNotFound) {
		return p, err
	}
	return s.PrincipalByObjectID(ctx, id)
}
