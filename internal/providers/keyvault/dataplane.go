package keyvault

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/rpkit"
)

// DNSSuffix is the host name suffix of every vault's data plane in
// Azure's public cloud: https://{name}.vault.azure.net.
const DNSSuffix = ".vault.azure.net"

// Audience is the token audience of Key Vault's data plane.
const Audience = "https://vault.azure.net"

// DataPlane answers a vault's data plane at https://{name}.vault.azure.net,
// which clients reach through armlet's HTTPS proxy (internal/proxy). It
// decides in Key Vault's order:
//
//  1. the bearer token, for Key Vault's audience: missing or invalid is 401
//     with Key Vault's challenge (WWW-Authenticate: Bearer
//     authorization="{login}/{tenant}", resource="https://vault.azure.net"),
//     which is how Key Vault clients learn where to get a token;
//  2. the vault: one armlet does not hold is 404 VaultNotFound;
//  3. the network: a request through a private endpoint to the vault
//     (group id "vault": netmodel.OriginFrom(ctx).Endpoint) passes;
//     any other is public, and a vault with publicNetworkAccess Disabled
//     refuses it 403 (innererror ForbiddenByConnection), one whose
//     networkAcls.defaultAction is Deny 403 (ForbiddenByFirewall) (the
//     proxy is public, and a client through it has no public address an
//     ipRule could name);
//  4. the api-version (400 BadParameter unless one of APIVersionsData);
//  5. the operation and its names (400 BadParameter for a name Key Vault
//     refuses, 405 for a verb the path does not serve);
//  6. the caller's permission under the vault's access model: with
//     enableRbacAuthorization a role assignment at the vault or above
//     whose dataActions grant the operation's data action (actions, such
//     as Owner's "*", grant none), else an access policy of the vault for
//     the caller's object id whose secret permissions hold the operation's
//     (403 with innererror ForbiddenByRbac or AccessDenied, and Key
//     Vault's message);
//  7. the operation: the secrets (secrets.go), and the certificate
//     contacts azurerm reads of every vault (none); keys and the rest of
//     certificates are 501 NotImplemented, naming the request.
//
// Every 403 is Key Vault's: code Forbidden, with the reason's code as
// innererror (ForbiddenByConnection, ForbiddenByFirewall, ForbiddenByRbac,
// AccessDenied, SecretDisabled), which flow records keep as their error
// code.
type DataPlane struct {
	e            *engine.Engine
	authenticate func(ctx context.Context, authorization string) (engine.Caller, *arm.Error)
	authorize    func(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID) error
	authority    string
	secrets      *secretStore
}

// APIVersionsData are the Key Vault data plane api-versions armlet
// accepts: 7.0 to 7.6 and the dated versions the newest SDKs send
// (azsecrets 1.5 sends 2025-07-01, 1.5.1 2026-04-01).
var APIVersionsData = []string{"2026-04-01", "2025-07-01", "7.6", "7.5", "7.4", "7.3", "7.2", "7.1", "7.0"}

// NewDataPlane returns the data plane of the vaults e holds. authenticate
// checks a bearer token for Audience; authorize checks a data action with
// Azure RBAC (its dataActions only) and returns the refusal, if any;
// authority is the token service's URL for armlet's tenant, which the
// challenge names.
func NewDataPlane(e *engine.Engine, authenticate func(ctx context.Context, authorization string) (engine.Caller, *arm.Error),
	authorize func(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID) error, authority string) *DataPlane {
	return &DataPlane{e: e, authenticate: authenticate, authorize: authorize, authority: authority,
		secrets: &secretStore{kv: e.Space(kv.SpaceKeyVault), now: e.Now}}
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
	// Private is true when the request came through a private endpoint to
	// the vault (group id "vault").
	Private bool
}

// Serve answers a request for the data plane at host (a vault's host name,
// from the proxy tunnel it came through).
func (d *DataPlane) Serve(ctx context.Context, host string, r *http.Request, body []byte) (*engine.Response, Target, error) {
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
		target.Vault, target.Private = v.ID, privateTo(ctx, v.ID)
	}
	caller, aerr := d.authenticate(ctx, r.Header.Get("Authorization"))
	if aerr != nil {
		return nil, target, d.unauthorized(aerr, r.Header.Get("Authorization") == "")
	}
	target.Caller = caller
	if v == nil {
		return nil, target, arm.NotFound("VaultNotFound", "The vault '%s' was not found.", name)
	}
	if !target.Private {
		if err := publicRefused(caller, v); err != nil {
			return nil, target, err
		}
	}
	op, err := parseOperation(r)
	if err != nil {
		return nil, target, err
	}
	if op.secret != "" {
		target.Vault = v.ID.Child("secrets", op.secret)
	}
	if op.action == "" {
		return nil, target, arm.Errorf(http.StatusNotImplemented, "NotImplemented",
			"armlet does not serve the Key Vault operation %s %s yet: it serves secrets (and answers that a vault has no certificate contacts) only.",
			r.Method, r.URL.EscapedPath())
	}
	target.Operation = op.action
	if err := checkDataAPIVersion(r); err != nil {
		return nil, target, err
	}
	if err := d.permitted(ctx, caller, v, op, target.Vault); err != nil {
		return nil, target, err
	}
	resp, err := d.serveSecrets(ctx, r, v, op, body)
	return resp, target, err
}

// privateTo reports whether the request arrived through a private
// endpoint to vault's "vault" sub-resource: a private endpoint to another
// vault (a record in a private DNS zone can point any name at it) is no
// private path to this one.
func privateTo(ctx context.Context, vault resourceid.ID) bool {
	ep := netmodel.OriginFrom(ctx).Endpoint
	return ep != nil && ep.TargetID.Equal(vault) && strings.EqualFold(ep.GroupID, "vault")
}

// publicRefused is the vault's refusal of a public request by its network
// rules, or nil: publicNetworkAccess Disabled, or a firewall that denies
// by default.
func publicRefused(caller engine.Caller, v *engine.Resource) error {
	if s, _ := v.Properties["publicNetworkAccess"].(string); strings.EqualFold(s, "Disabled") {
		return forbidden("ForbiddenByConnection",
			"Public network access is disabled and request is not from a trusted service nor via an approved private link.", caller, v)
	}
	if acls, _ := v.Properties["networkAcls"].(map[string]any); acls != nil {
		if a, _ := acls["defaultAction"].(string); strings.EqualFold(a, "Deny") {
			return forbidden("ForbiddenByFirewall", "Client address is not authorized and caller is not a trusted service.", caller, v)
		}
	}
	return nil
}

// forbidden is Key Vault's 403 for a network rule, with its caller and
// vault lines: code Forbidden, the rule's code as innererror.
func forbidden(code, reason string, caller engine.Caller, v *engine.Resource) *arm.Error {
	return arm.Errorf(http.StatusForbidden, codeForbidden, "%s\r\nCaller: appid=%s;oid=%s\r\nVault: %s;location=%s",
		reason, caller.AppID, caller.ObjectID, v.ID.Name(), engine.NormalizeLocation(v.Location)).WithInner(code)
}

// codeForbidden is Key Vault's general code of every 403; the innererror
// says why.
const codeForbidden = "Forbidden"

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
