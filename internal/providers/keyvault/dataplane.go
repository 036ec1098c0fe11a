package keyvault

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// DNSSuffix is the host name suffix of every vault's data plane in
// Azure's public cloud: https://{name}.vault.azure.net.
const DNSSuffix = ".vault.azure.net"

// Audience is the token audience of Key Vault's data plane.
const Audience = "https://vault.azure.net"

// DataPlane answers a vault's data plane at https://{name}.vault.azure.net,
// which clients reach through armlet's HTTPS proxy (internal/proxy). So
// far it decides what Key Vault decides before any operation, in Key
// Vault's order:
//
//  1. the bearer token, for Key Vault's audience: missing or invalid is 401
//     with Key Vault's challenge (WWW-Authenticate: Bearer
//     authorization="{login}/{tenant}", resource="https://vault.azure.net"),
//     which is how Key Vault clients learn where to get a token;
//  2. the network: a vault with publicNetworkAccess Disabled is 403
//     ForbiddenByConnection, one whose networkAcls.defaultAction is Deny
//     403 ForbiddenByFirewall (the proxy is public, and a client through
//     it has no public address an ipRule could name);
//  3. every operation past those is 501 NotImplemented, naming it: secrets,
//     keys and certificates are not served yet.
//
// That is enough for azurerm's azurerm_key_vault, which reads a private
// vault's certificate contacts and takes a 403 as "not reachable from here".
type DataPlane struct {
	e            *engine.Engine
	authenticate func(ctx context.Context, authorization string) (engine.Caller, *arm.Error)
	authority    string
}

// NewDataPlane returns the data plane of the vaults e holds. authenticate
// checks a bearer token for Audience; authority is the token service's
// URL for armlet's tenant, which the challenge names.
func NewDataPlane(e *engine.Engine, authenticate func(ctx context.Context, authorization string) (engine.Caller, *arm.Error), authority string) *DataPlane {
	return &DataPlane{e: e, authenticate: authenticate, authority: authority}
}

// vaultName is the vault a host name is the data plane of ("" when it is
// none: a vault name is one DNS label).
func vaultName(host string) string {
	name, ok := strings.CutSuffix(strings.ToLower(host), DNSSuffix)
	if !ok || !validVaultName(name) {
		return ""
	}
	return name
}

// Serves reports whether host is the data plane of a vault armlet holds,
// for the proxy to decide whether to open a tunnel: the name of a vault
// that does not exist does not resolve in Azure either.
func (d *DataPlane) Serves(ctx context.Context, host string) (bool, error) {
	name := vaultName(host)
	if name == "" {
		return false, nil
	}
	v, err := rpkit.FindByName(ctx, d.e, TypeVaults, name)
	return v != nil, err
}

// Target is what a data-plane request was resolved to, for its flow
// record, also when it is refused.
type Target struct {
	Caller engine.Caller
	// Vault is the vault's ID; the root ID when it was not resolved.
	Vault resourceid.ID
	// Operation names the request ("Microsoft.KeyVault/vaults/secrets/read").
	Operation string
}

// Serve answers a request for the data plane at host (a vault's host name,
// from the proxy tunnel it came through).
func (d *DataPlane) Serve(ctx context.Context, host string, r *http.Request) (*engine.Response, Target, error) {
	// The vault and the operation are resolved first, for the flow record
	// of every request, refused ones too; the answers keep Key Vault's
	// order (authentication before anything about the vault).
	target := Target{Operation: dataOperation(r)}
	name := vaultName(host)
	v, err := rpkit.FindByName(ctx, d.e, TypeVaults, name)
	if err != nil {
		return nil, target, err
	}
	if v != nil {
		target.Vault = v.ID
	}
	caller, aerr := d.authenticate(ctx, r.Header.Get("Authorization"))
	if aerr != nil {
		return nil, target, d.unauthorized(aerr, r.Header.Get("Authorization") == "")
	}
	target.Caller = caller
	if v == nil {
		return nil, target, arm.NotFound("VaultNotFound", "The vault '%s' was not found.", name)
	}
	if s, _ := v.Properties["publicNetworkAccess"].(string); strings.EqualFold(s, "Disabled") {
		return nil, target, forbidden("ForbiddenByConnection",
			"Public network access is disabled and request is not from a trusted service nor via an approved private link.", caller, v)
	}
	if acls, _ := v.Properties["networkAcls"].(map[string]any); acls != nil {
		if a, _ := acls["defaultAction"].(string); strings.EqualFold(a, "Deny") {
			return nil, target, forbidden("ForbiddenByFirewall", "Client address is not authorized and caller is not a trusted service.", caller, v)
		}
	}
	return nil, target, arm.Errorf(http.StatusNotImplemented, "NotImplemented",
		"armlet does not serve the Key Vault operation %s %s yet: it serves the vault's authentication and network checks only.",
		r.Method, r.URL.EscapedPath())
}

// forbidden is Key Vault's 403 for a network rule, with its caller and
// vault lines.
func forbidden(code, reason string, caller engine.Caller, v *engine.Resource) *arm.Error {
	return arm.Errorf(http.StatusForbidden, code, "%s\r\nCaller: appid=%s;oid=%s\r\nVault: %s;location=%s",
		reason, caller.AppID, caller.ObjectID, v.ID.Name(), engine.NormalizeLocation(v.Location))
}

// unauthorized is Key Vault's 401 for a request without a valid token,
// with the challenge that tells clients where to get one.
func (d *DataPlane) unauthorized(aerr *arm.Error, missing bool) *arm.Error {
	msg := aerr.Message
	if missing {
		msg = "AKV10000: Request is missing a Bearer or PoP token."
	}
	e := arm.Errorf(http.StatusUnauthorized, "Unauthorized", "%s", msg)
	e.Header = http.Header{"Www-Authenticate": {`Bearer authorization="` + d.authority + `", resource="` + Audience + `"`}}
	return e
}

// dataOperation names a data-plane request for flow records by the kind
// of object its path names and its verb: GET /secrets/s1 is
// "Microsoft.KeyVault/vaults/secrets/read".
func dataOperation(r *http.Request) string {
	kind, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	kind = strings.ToLower(kind)
	if kind == "" || strings.ContainsAny(kind, ".%") || len(kind) > 32 {
		kind = "vault"
	}
	return TypeVaults + "/" + kind + "/" + action.Verb(r.Method)
}
