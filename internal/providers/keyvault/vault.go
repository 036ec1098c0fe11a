package keyvault

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
	"github.com/google/uuid"
)

// vaultStrategy serves Microsoft.KeyVault/vaults.
//
// A PUT needs properties.tenantId (a GUID: 400 BadRequest "An invalid value
// was provided for 'tenantId'.", Azure's text) and properties.sku
// ({family: A, name: standard|premium}); a name of 3 to 24 letters, digits
// and single hyphens starting with a letter (400 InvalidResourceName with
// Azure's rule). Names are global: a name a live vault has anywhere is 409
// VaultAlreadyExists; one a deleted vault of this subscription holds is 409
// ConflictError "A vault with the same name already exists in deleted
// state. ..." unless properties.createMode is recover, which brings the
// deleted vault back as it was (400 SoftDeletedVaultDoesNotExist when
// there is none in that location). A PUT of an existing vault is an update
// (200 at once) that keeps the properties it omits; PATCH merges.
//
// Soft delete is always on (enableSoftDelete false is 400 BadRequest, as
// Azure refuses it since soft delete became mandatory), and purge
// protection, once on, stays on (enablePurgeProtection false is 400 with
// Azure's text). softDeleteRetentionInDays is 7 to 90 (90 unless sent).
// enableRbacAuthorization defaults to false, and to true for a vault
// created at 2026-02-01 or newer.
type vaultStrategy struct{ *provider }

var (
	_ engine.Strategy          = (*vaultStrategy)(nil)
	_ engine.Renderer          = (*vaultStrategy)(nil)
	_ engine.ChildLister       = (*vaultStrategy)(nil)
	_ engine.Remover           = (*vaultStrategy)(nil)
	_ engine.PrivateLinkTarget = (*vaultStrategy)(nil)
)

const (
	codeVaultExists       = "VaultAlreadyExists"
	codeConflictError     = "ConflictError"
	codeNoDeletedVault    = "SoftDeletedVaultDoesNotExist"
	deletedStateMessage   = "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete."
	noDeletedVaultMessage = "A soft deleted vault with the given name does not exist. Ensure that the name for the vault that is being attempted to recover is in a recoverable state."
	maxAccessPolicies     = 1024
	defaultRetentionDays  = 90
)

func badRequest(target, format string, args ...any) *arm.Error {
	return arm.BadRequest(arm.CodeBadRequest, format, args...).WithTarget(target)
}

func (s *vaultStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	name := desired.ID.Name()
	if msg := nameInvalid(name); msg != "" {
		return arm.BadRequest(arm.CodeInvalidResourceName, "%s", msg).WithTarget("name")
	}
	if err := rpkit.CheckEnvelope(desired, "VaultCreateOrUpdateParameters"); err != nil {
		return err
	}
	sent, err := vaultProperties.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	recover := sent["createMode"] == "recover"
	delete(sent, "createMode")
	var props map[string]any
	switch {
	case old != nil:
		props = rpkit.Updated(old, nil, sent)
	case recover:
		if props, err = s.recover(ctx, desired); err != nil {
			return err
		}
	default:
		if err := s.checkNameFree(ctx, desired); err != nil {
			return err
		}
		// The name is free: secrets left under it are an expired deleted
		// vault's, which Azure has purged with it.
		if err := s.secrets.dropVault(ctx, name); err != nil {
			return err
		}
		props = sent
		setDefaults(props, req.APIVersion)
	}
	if err := checkVault(props, sent, old); err != nil {
		return err
	}
	desired.Properties = props
	return nil
}

// setDefaults fills in what Azure shows for what a create did not send.
func setDefaults(props map[string]any, apiVersion string) {
	defaults := map[string]any{
		"accessPolicies":               []any{},
		"enabledForDeployment":         false,
		"enabledForDiskEncryption":     false,
		"enabledForTemplateDeployment": false,
		"enableSoftDelete":             true,
		"softDeleteRetentionInDays":    json.Number("90"),
		"enableRbacAuthorization":      apiVersion >= rbacByDefault,
		"publicNetworkAccess":          "Enabled",
	}
	for k, v := range defaults {
		if _, ok := props[k]; !ok {
			props[k] = v
		}
	}
}

// checkVault checks what the schema cannot: GUIDs, ranges, the settings
// that cannot be undone. sent is what the request itself gave.
func checkVault(props, sent map[string]any, old *engine.Resource) error {
	if !isGUID(props["tenantId"]) {
		return badRequest("properties.tenantId", "An invalid value was provided for 'tenantId'.")
	}
	policies, _ := props["accessPolicies"].([]any)
	if len(policies) > maxAccessPolicies {
		return badRequest("properties.accessPolicies", "A vault can have at most %d access policies; this request has %d.", maxAccessPolicies, len(policies))
	}
	if err := checkPolicies("properties.accessPolicies", policies); err != nil {
		return err
	}
	if days, ok := props["softDeleteRetentionInDays"].(json.Number); ok {
		if n, _ := days.Int64(); n < 7 || n > 90 {
			return badRequest("properties.softDeleteRetentionInDays", "The property \"softDeleteRetentionInDays\" must be between 7 and 90; it is %s.", days)
		}
	}
	if v, ok := sent["enableSoftDelete"].(bool); ok && !v {
		return badRequest("properties.enableSoftDelete",
			"The property \"enableSoftDelete\" cannot be set to false. Soft delete is always on for a vault, and enabling it is an irreversible action.")
	}
	props["enableSoftDelete"] = true
	if v, ok := sent["enablePurgeProtection"].(bool); ok && !v {
		return badRequest("properties.enablePurgeProtection",
			"The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.")
	}
	return nil
}

// checkPolicies checks the GUIDs of access policies at path.
func checkPolicies(path string, policies []any) error {
	for i, p := range policies {
		entry := p.(map[string]any)
		at := path + "[" + strconv.Itoa(i) + "]"
		if !isGUID(entry["tenantId"]) {
			return badRequest(at+".tenantId", "An invalid value was provided for '%s.tenantId'.", at)
		}
		if app, ok := entry["applicationId"]; ok && !isGUID(app) {
			return badRequest(at+".applicationId", "An invalid value was provided for '%s.applicationId'.", at)
		}
	}
	return nil
}

func isGUID(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// checkNameFree refuses a create whose name a live or deleted vault holds.
func (s *vaultStrategy) checkNameFree(ctx context.Context, desired *engine.Resource) error {
	h, err := s.nameHeld(ctx, desired.ID.Name())
	switch {
	case err != nil:
		return err
	case h.vault != nil:
		return arm.Conflict(codeVaultExists, "%s", vaultInUse(desired.ID.Name()))
	case h.deleted != nil && strings.EqualFold(h.deleted.ID.SubscriptionID(), desired.ID.SubscriptionID()):
		return arm.Conflict(codeConflictError, deletedStateMessage)
	case h.deleted != nil:
		return arm.Conflict(codeVaultExists, "%s", vaultInUse(desired.ID.Name()))
	}
	return nil
}

// recover returns the properties of the deleted vault desired brings
// back. Choice: the vault comes back as it was deleted (access policies,
// settings, tags when the request sends none); the request's other
// properties are not applied.
func (s *vaultStrategy) recover(ctx context.Context, desired *engine.Resource) (map[string]any, error) {
	if h, err := s.nameHeld(ctx, desired.ID.Name()); err != nil {
		return nil, err
	} else if h.vault != nil {
		return nil, arm.Conflict(codeVaultExists, "%s", vaultInUse(desired.ID.Name()))
	}
	dv, err := s.deletedVault(ctx, desired.ID.SubscriptionID(), desired.ID.Name())
	if err != nil {
		return nil, err
	}
	var snap vaultSnapshot
	if dv == nil || expired(dv, s.e.Now()) || !dv.GetData(snapshotKey, &snap) ||
		!strings.EqualFold(engine.NormalizeLocation(stringProp(dv, "location")), desired.Location) {
		return nil, arm.BadRequest(codeNoDeletedVault, noDeletedVaultMessage).WithTarget("properties.createMode")
	}
	if desired.Tags == nil {
		desired.Tags = snap.Tags
	}
	return snap.Properties, nil
}

func stringProp(r *engine.Resource, name string) string {
	s, _ := r.Properties[name].(string)
	return s
}

// Render adds the vault URI and shows Azure's RegisteringDns while a
// create is under way.
func (s *vaultStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, apiVersion string, now time.Time) error {
	props := body["properties"].(map[string]any)
	props["vaultUri"] = "https://" + r.ID.Name() + ".vault.azure.net/"
	if r.ProvisioningState(now) == "Creating" {
		props["provisioningState"] = "RegisteringDns"
	}
	conns, err := rpkit.PrivateEndpointConnections(ctx, s.e, r, typeConnections)
	if err != nil {
		return err
	}
	if len(conns) > 0 {
		props["privateEndpointConnections"] = conns
	}
	if apiVersion < "2021-10-01" {
		delete(props, "publicNetworkAccess") // not in the older specs
	}
	return nil
}

// Removed leaves the deleted vault behind, with what a recover brings
// back and the date Azure purges it.
func (s *vaultStrategy) Removed(ctx context.Context, r *engine.Resource) {
	now := s.e.Now()
	days := int64(defaultRetentionDays)
	if n, ok := r.Properties["softDeleteRetentionInDays"].(json.Number); ok {
		days, _ = n.Int64()
	}
	tags := map[string]any{}
	for k, v := range r.Tags {
		tags[k] = v
	}
	protected, _ := r.Properties["enablePurgeProtection"].(bool)
	body := map[string]any{"properties": map[string]any{
		"vaultId":                r.ID.String(),
		"location":               r.Location,
		"tags":                   tags,
		"deletionDate":           now.UTC().Format(time.RFC3339),
		"scheduledPurgeDate":     now.Add(time.Duration(days) * 24 * time.Hour).UTC().Format(time.RFC3339),
		"purgeProtectionEnabled": protected,
	}}
	id := deletedID(r.ID.SubscriptionID(), r.ID.Name())
	// An expired deleted vault of the same name (Azure has purged it) makes
	// way for this one.
	err := s.e.Remove(keepingSecrets(ctx), id)
	if err == nil {
		_, err = s.e.ImportWith(ctx, id, body, APIVersions[0], engine.Caller{}, &vaultSnapshot{Properties: r.Properties, Tags: r.Tags})
	}
	if err != nil {
		s.e.Logger().Warn("keyvault: keeping a deleted vault", "vault", r.ID.String(), "err", err)
	}
}

// ListChildren serves privateLinkResources.
func (s *vaultStrategy) ListChildren(_ context.Context, _ *engine.Request, r *engine.Resource, child string) (*engine.Response, bool, error) {
	if !strings.EqualFold(child, "privateLinkResources") {
		return nil, false, nil
	}
	groups := []rpkit.LinkGroup{{ID: "vault", Members: []string{"default"}, Zones: []string{"privatelink.vaultcore.azure.net"}}}
	return rpkit.PrivateLinkResources(r, typeLinkResources, groups), true, nil
}

// PrivateLinkGroups: a vault serves one group, vault.
func (s *vaultStrategy) PrivateLinkGroups() []string { return []string{"vault"} }

// PrivateLinkFQDNs: {name}.vault.azure.net, whose A record Azure keeps in
// privatelink.vaultcore.azure.net.
func (s *vaultStrategy) PrivateLinkFQDNs(r *engine.Resource, _ string) []engine.PrivateLinkFQDN {
	return []engine.PrivateLinkFQDN{{FQDN: r.ID.Name() + ".vault.azure.net", Member: "default"}}
}
