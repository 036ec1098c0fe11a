// Package keyvault is armlet's Microsoft.KeyVault resource provider: key
// vaults with their access policies, soft delete (deleted vaults that can
// be recovered or purged) and private endpoints, as an Azure ML
// workspace's key vault needs them, and the data plane of its secrets
// (DataPlane, reached through armlet's HTTPS proxy).
//
// # Sources of truth
//
//   - A vault's access policies live in its record
//     (properties.accessPolicies); Microsoft.KeyVault/vaults/accessPolicies
//     is a virtual type whose PUT add, replace or remove changes them.
//   - A deleted vault is a record of its own at the subscription,
//     /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults/{name},
//     made when the vault goes (engine.Remover: deleted by itself or with
//     its resource group) and holding what a recover brings back. Clients
//     reach it where Azure serves it,
//     /subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/deletedVaults/{name}
//     (a route), and list them at the subscription.
//   - Vault names are global, as their host names are: a create looks the
//     name up among every subscription's vaults and deleted vaults.
//   - A vault's secrets live in kv.SpaceKeyVault under the vault's name
//     (secretStore). A soft-deleted vault keeps them, so a recover brings
//     them back; a purge or a reset drops them (resourceDeleted), and so
//     does the create of a vault whose name an expired deleted vault held.
//   - A vault is a private link target (group "vault") that records no
//     connections: the private endpoints keep them.
package keyvault

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/rpkit"
)

// Resource types of the provider.
const (
	Namespace          = "Microsoft.KeyVault"
	TypeVaults         = Namespace + "/vaults"
	TypeAccessPolicies = TypeVaults + "/accessPolicies"
	TypeDeletedVaults  = Namespace + "/deletedVaults"
	typeConnections    = TypeVaults + "/privateEndpointConnections"
	typeLinkResources  = TypeVaults + "/privateLinkResources"
)

// APIVersions are the vault api-versions armlet accepts, newest first:
// 2026-02-01 is what Terraform's azurerm sends (hashicorp/go-azure-sdk),
// 2024-11-01 armkeyvault v1.5, and the stable versions before them that
// templates, the Azure CLI and older SDKs send.
var APIVersions = []string{
	"2026-02-01", "2025-05-01", "2024-11-01", "2023-07-01", "2023-02-01", "2022-11-01",
	"2022-07-01", "2021-10-01", "2019-09-01", "2018-02-14",
}

// rbacByDefault is the first api-version that creates a vault with Azure
// RBAC rather than access policies when enableRbacAuthorization is not
// sent (Key Vault's "Azure RBAC as default access control" change).
const rbacByDefault = "2026-02-01"

// Options configures the provider.
type Options struct{}

// provider is the state every strategy of the package shares.
type provider struct {
	e       *engine.Engine
	secrets *secretStore
}

// Register adds the provider's resource types, the write observer that
// drops a recovered vault's deleted record, and the routes of deleted
// vaults and checkNameAvailability.
func Register(e *engine.Engine, _ Options) {
	p := &provider{e: e, secrets: &secretStore{kv: e.Space(kv.SpaceKeyVault), now: e.Now}}
	reg := e.Registry()
	reg.Register(&engine.Type{
		Name: TypeVaults, APIVersions: APIVersions, Tracked: true,
		// Vaults_CreateOrUpdate is long-running with 200 and 201 (the body
		// shows RegisteringDns until the vault is ready); an update
		// answers at once. Vaults_Delete answers 200 or 204.
		Put: engine.AsyncOperation, SyncUpdate: true, Delete: engine.Sync,
		Strategy: &vaultStrategy{p},
	})
	reg.Register(&engine.Type{Name: TypeAccessPolicies, APIVersions: APIVersions, Strategy: &accessPolicyStrategy{p}})
	reg.Register(&engine.Type{
		Name: TypeDeletedVaults, APIVersions: APIVersions,
		Put: engine.Sync, Delete: engine.Sync, Strategy: &deletedVaultStrategy{p},
	})
	e.OnWrite(p.vaultWritten)
	e.OnDelete(p.resourceDeleted)
	e.AddRoute(&deletedVaultRoute{p})
	e.AddRoute(rpkit.NameAvailability{Type: TypeVaults, Invalid: nameInvalid, Taken: p.nameTaken}.Route(e))
}

// vaultNameRule is Azure's wording of the vault name rule.
const vaultNameRule = "Vault name must only contain alphanumeric characters and dashes and cannot start with a number. " +
	"Vault name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens."

var vaultNameChars = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)

func validVaultName(n string) bool {
	return vaultNameChars.MatchString(n) && !strings.Contains(n, "--")
}

// vaultInUse is Azure's 409 VaultAlreadyExists text.
func vaultInUse(name string) string {
	return "The vault name '" + name + "' is already in use. Vault names are globally unique so it is possible that the name is already taken. " +
		"If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state. " +
		"If the vault is in a recoverable state then the vault will need to be purged before reusing the name. " +
		"For more information on soft delete and purging a vault follow this link https://go.microsoft.com/fwlink/?linkid=2147740."
}

// nameHolder is who holds a vault name: a live vault or a deleted one.
type nameHolder struct {
	vault   *engine.Resource // live, any subscription
	deleted *engine.Resource // deleted and not yet purged, any subscription
}

// nameHeld finds the live and the deleted vaults named name.
func (p *provider) nameHeld(ctx context.Context, name string) (nameHolder, error) {
	var h nameHolder
	var err error
	if h.vault, err = rpkit.FindByName(ctx, p.e, TypeVaults, name); err != nil {
		return h, err
	}
	subs, err := p.e.List(ctx, resourceid.Root, resourceid.TypeSubscriptions)
	if err != nil {
		return h, err
	}
	now := p.e.Now()
	for _, sub := range subs {
		dv, err := p.deletedVault(ctx, sub.ID.Name(), name)
		if err != nil {
			return h, err
		}
		if dv != nil && !expired(dv, now) {
			h.deleted = dv
			break
		}
	}
	return h, nil
}

// vaultWritten drops the deleted record of a vault that is live again
// (recovered): a create without recover is refused while one exists.
func (p *provider) vaultWritten(ctx context.Context, _ *engine.Request, r *engine.Resource) {
	if r.Type != TypeVaults {
		return
	}
	dv, err := p.deletedVault(ctx, r.ID.SubscriptionID(), r.ID.Name())
	if err == nil && dv != nil {
		err = p.e.Remove(keepingSecrets(ctx), dv.ID) // the recovered vault has them
	}
	if err != nil {
		p.e.Logger().Warn("keyvault: dropping a recovered vault's deleted record", "vault", r.ID.String(), "err", err)
	}
}

// keepSecretsKey marks a context whose removal of a deleted vault keeps
// the vault's secrets: the vault is live again (recovered) or being
// deleted anew (Removed replaces an expired record of its name).
type keepSecretsKey struct{}

func keepingSecrets(ctx context.Context) context.Context {
	return context.WithValue(ctx, keepSecretsKey{}, true)
}

// resourceDeleted drops the secrets of a vault name nothing holds any
// more: a deleted vault purged (or gone with a reset), or a vault deleted
// without leaving a deleted vault behind (a reset, which asks no
// strategy). A vault deleted by itself or with its resource group leaves
// its deleted vault (Removed runs first), which keeps the secrets.
func (p *provider) resourceDeleted(ctx context.Context, r *engine.Resource) {
	drop := false
	switch r.Type {
	case TypeDeletedVaults:
		keep, _ := ctx.Value(keepSecretsKey{}).(bool)
		drop = !keep
	case TypeVaults:
		dv, err := p.deletedVault(ctx, r.ID.SubscriptionID(), r.ID.Name())
		drop = err == nil && dv == nil
	}
	if !drop {
		return
	}
	if err := p.secrets.dropVault(ctx, r.ID.Name()); err != nil {
		p.e.Logger().Warn("keyvault: dropping a gone vault's secrets", "vault", r.ID.String(), "err", err)
	}
}

// methodNotAllowed is ARM's 405 for a verb a type does not serve.
func methodNotAllowed(method, typ string) *arm.Error {
	return arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s' for type '%s'.", method, typ)
}
