package keyvault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/jsonbody"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// secretOp is a data-plane request resolved to a secret operation.
type secretOp struct {
	do      string // what to do: set, get, list, versions, update, delete, listDeleted, getDeleted, recover, purge
	secret  string // the secret's name, as sent
	version string // "" for the latest
	// action is the RBAC data action the operation needs ("" for a
	// request armlet does not serve); permission the permission of an
	// access policy, in category ("" for secrets; "certificates").
	action, permission, category string
}

// Data actions of Key Vault's secrets (Azure's operation names).
const secretActions = TypeVaults + "/secrets/"

var secretVersionChars = regexp.MustCompile(`^[0-9a-zA-Z]{1,64}$`)

// parseOperation resolves a request's path and verb. A path of another
// kind than secrets (keys, certificates) resolves to no operation.
func parseOperation(r *http.Request) (secretOp, error) {
	raw := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return secretOp{}, badParameter("The request URI contains an invalid escape: %v.", err)
		}
		segs[i] = u
	}
	kind := strings.ToLower(segs[0])
	if kind == "certificates" && len(segs) == 2 && strings.EqualFold(segs[1], "contacts") && r.Method == http.MethodGet {
		// What azurerm reads of every vault; the vault has none.
		return secretOp{do: "contacts", action: TypeVaults + "/certificatecontacts/read", permission: "managecontacts", category: "certificates"}, nil
	}
	if kind != "secrets" && kind != "deletedsecrets" {
		return secretOp{}, nil
	}
	if len(segs) == 2 && segs[1] == "" {
		segs = segs[:1] // "/secrets/" lists as "/secrets" does
	}
	m := r.Method
	notAllowed := arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The Key Vault operation %s %s is not supported.", m, r.URL.EscapedPath())
	if len(segs) > 3 {
		return secretOp{}, arm.NotFound("NotFound", "The request URI %s names no Key Vault operation.", r.URL.EscapedPath())
	}
	if len(segs) == 1 {
		switch {
		case m != http.MethodGet:
			return secretOp{}, notAllowed
		case kind == "secrets":
			return secretOp{do: "list", action: secretActions + "readMetadata/action", permission: "list"}, nil
		}
		return secretOp{do: "listDeleted", action: secretActions + "readMetadata/action", permission: "list"}, nil
	}
	if kind == "secrets" && len(segs) == 2 && m == http.MethodPost && strings.EqualFold(segs[1], "restore") {
		return secretOp{}, nil // restore: not served
	}
	op := secretOp{secret: segs[1]}
	if err := checkSecretName(op.secret); err != nil {
		return secretOp{}, err
	}
	switch {
	case kind == "deletedsecrets" && len(segs) == 2 && m == http.MethodGet:
		op.do, op.action, op.permission = "getDeleted", secretActions+"readMetadata/action", "list"
	case kind == "deletedsecrets" && len(segs) == 2 && m == http.MethodDelete:
		op.do, op.action, op.permission = "purge", secretActions+"purge/action", "purge"
	case kind == "deletedsecrets" && len(segs) == 3 && strings.EqualFold(segs[2], "recover") && m == http.MethodPost:
		op.do, op.action, op.permission = "recover", secretActions+"recover/action", "recover"
	case kind == "deletedsecrets":
		return secretOp{}, notAllowed
	case len(segs) == 3 && strings.EqualFold(segs[2], "backup") && m == http.MethodPost:
		return secretOp{}, nil // backup: not served
	case len(segs) == 3 && strings.EqualFold(segs[2], "versions"):
		if m != http.MethodGet {
			return secretOp{}, notAllowed
		}
		op.do, op.action, op.permission = "versions", secretActions+"readMetadata/action", "list"
	case len(segs) == 2 && m == http.MethodPut:
		op.do, op.action, op.permission = "set", secretActions+"setSecret/action", "set"
	case len(segs) == 2 && m == http.MethodDelete:
		op.do, op.action, op.permission = "delete", secretActions+"delete", "delete"
	case m == http.MethodGet:
		op.do, op.action, op.permission = "get", secretActions+"getSecret/action", "get"
	case m == http.MethodPatch:
		op.do, op.action, op.permission = "update", secretActions+"update/action", "set"
	default:
		return secretOp{}, notAllowed
	}
	if len(segs) == 3 && op.do != "versions" && op.do != "recover" {
		op.version = segs[2]
		if op.version != "" && !secretVersionChars.MatchString(op.version) {
			return secretOp{}, badParameter("The request URI contains an invalid secret version: %s.", clipName(op.version))
		}
	}
	return op, nil
}

// checkDataAPIVersion refuses a request without one of APIVersionsData.
//
// Choice: Key Vault's words for these cases are not known; armlet answers
// 400 BadParameter naming the version and the ones it accepts.
func checkDataAPIVersion(r *http.Request) error {
	v := engine.QueryValue(r.URL.Query(), "api-version")
	if v == "" {
		return badParameter("The api-version query parameter is missing; armlet's Key Vault accepts %s.", strings.Join(APIVersionsData, ", "))
	}
	if !slices.Contains(APIVersionsData, v) {
		return badParameter("The specified version (%s) is not recognized; armlet's Key Vault accepts %s.", clipName(v), strings.Join(APIVersionsData, ", "))
	}
	return nil
}

// permitted decides whether caller may perform op on vault v under the
// vault's access model; scope is the secret's ID (the vault's for lists).
func (d *DataPlane) permitted(ctx context.Context, caller engine.Caller, v *engine.Resource, op secretOp, scope resourceid.ID) error {
	location := engine.NormalizeLocation(v.Location)
	who := "appid=" + caller.AppID + ";oid=" + caller.ObjectID + ";iss=https://sts.windows.net/" + caller.TenantID + "/"
	if rbac, _ := v.Properties["enableRbacAuthorization"].(bool); rbac {
		if d.authorize == nil {
			return nil
		}
		err := d.authorize(ctx, caller, op.action, scope)
		if ae, ok := arm.AsError(err); ok && ae.Status == http.StatusForbidden {
			return arm.Errorf(http.StatusForbidden, codeForbidden,
				"Caller is not authorized to perform action on resource.\r\n"+
					"If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n"+
					"Caller: %s\r\nAction: '%s'\r\nResource: '%s'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: %s;location=%s\r\n",
				who, op.action, strings.ToLower(scope.String()), v.ID.Name(), location).WithInner("ForbiddenByRbac")
		}
		return err
	}
	category := op.category
	if category == "" {
		category = "secrets"
	}
	policies, _ := v.Properties["accessPolicies"].([]any)
	for _, p := range policies {
		policy, _ := p.(map[string]any)
		if policyAllows(policy, caller, category, op.permission) {
			return nil
		}
	}
	return arm.Errorf(http.StatusForbidden, codeForbidden,
		"The user, group or application '%s' does not have %s %s permission on key vault '%s;location=%s'. "+
			"For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
		who, category, op.permission, v.ID.Name(), location).WithInner("AccessDenied")
}

// policyAllows reports whether an access policy is the caller's and grants
// permission perm (or "all") of category ("secrets", "certificates").
//
// Choice: a policy is the caller's when its objectId is the caller's
// object id and its applicationId, if any, the caller's application id
// (Key Vault's compound identity, simplified); group object ids match no
// one, as armlet has no groups.
func policyAllows(policy map[string]any, caller engine.Caller, category, perm string) bool {
	oid, _ := policy["objectId"].(string)
	if oid == "" || !strings.EqualFold(oid, caller.ObjectID) {
		return false
	}
	if app, _ := policy["applicationId"].(string); app != "" && !strings.EqualFold(app, caller.AppID) {
		return false
	}
	perms, _ := policy["permissions"].(map[string]any)
	list, _ := perms[category].([]any)
	for _, p := range list {
		if s, _ := p.(string); strings.EqualFold(s, perm) || strings.EqualFold(s, "all") {
			return true
		}
	}
	return false
}

// serveSecrets performs a permitted secret operation on vault v.
func (d *DataPlane) serveSecrets(ctx context.Context, r *http.Request, v *engine.Resource, op secretOp, body []byte) (*engine.Response, error) {
	vs := vaultSecretsOf(v)
	vault := v.ID.Name()
	store := d.secrets
	switch op.do {
	case "set", "update":
		p, err := secretBody(body)
		if err != nil {
			return nil, err
		}
		if op.do == "set" {
			sv, err := store.set(ctx, vault, op.secret, p)
			if err != nil {
				return nil, err
			}
			h, _, err := store.live(ctx, vault, op.secret)
			if err != nil {
				return nil, err
			}
			return engine.JSON(http.StatusOK, vs.bundle(h, sv, true)), nil
		}
		h, sv, err := store.update(ctx, vault, op.secret, op.version, p)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, vs.bundle(h, sv, false)), nil
	case "get":
		h, sv, err := store.get(ctx, vault, op.secret, op.version)
		if err != nil {
			return nil, err
		}
		if !sv.Enabled {
			return nil, secretDisabled()
		}
		return engine.JSON(http.StatusOK, vs.bundle(h, sv, true)), nil
	case "delete":
		h, sv, err := store.remove(ctx, vault, op.secret, vs.retentionDays)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, vs.bundle(h, sv, false)), nil
	case "getDeleted":
		h, _, sv, err := store.deleted(ctx, vault, op.secret)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, vs.bundle(h, sv, false)), nil
	case "recover":
		h, sv, err := store.recover(ctx, vault, op.secret)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, vs.bundle(h, sv, false)), nil
	case "purge":
		if vs.protected {
			return nil, arm.Errorf(http.StatusForbidden, codeForbidden,
				"Operation \"purge\" is not allowed because purge protection is enabled for this vault. "+
					"Key Vault service will automatically purge it after the retention period has passed.")
		}
		if err := store.purge(ctx, vault, op.secret); err != nil {
			return nil, err
		}
		return &engine.Response{Status: http.StatusNoContent}, nil
	case "contacts":
		// Choice: Key Vault's answer for a vault without certificate
		// contacts is taken to be 404 ContactsNotFound; azurerm takes a 404
		// (as a 403) as "no contacts".
		return nil, arm.NotFound("ContactsNotFound", "The vault '%s' has no certificate contacts.", vault)
	case "list", "listDeleted":
		return d.listSecrets(ctx, r, vs, vault, op)
	case "versions":
		return d.listVersions(ctx, r, vs, vault, op)
	}
	return nil, errors.New("keyvault: unknown secret operation " + op.do)
}

// secretBody decodes a Set or Update Secret body.
//
// Choice: a body that repeats a member (ignoring case) or exceeds
// jsonbody's limits is refused, 400 as armlet refuses it for ARM
// (jsonbody.Check), so that the stored secret, the flow record and the
// answer read one interpretation of it.
func secretBody(body []byte) (secretParams, error) {
	var p secretParams
	if len(bytes.TrimSpace(body)) == 0 {
		return p, badParameter("The request body is empty; a secret's parameters are a JSON object.")
	}
	if err := jsonbody.Check(body); err != nil {
		return p, err
	}
	if err := json.Unmarshal(body, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return p, badParameter("The request body's member '%s' is a JSON %s; Key Vault expects %s.", te.Field, te.Value, jsonKind(te.Type.Kind()))
		}
		return p, badParameter("The request body is not a JSON object of a secret's parameters.")
	}
	return p, nil
}

// jsonKind names what a Go kind decodes from, in JSON's words.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer (Unix seconds)"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return "another type"
}

// page reads the paging parameters of a list: maxresults (1 to 25, 25
// when absent) and $skiptoken (a key to continue after, base64url).
func page(r *http.Request) (max int, after string, err error) {
	q := r.URL.Query()
	max = maxPage
	if s := engine.QueryValue(q, "maxresults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			return 0, "", badParameter("The value of maxresults (%s) is invalid: it must be between 1 and %d.", clipName(s), maxPage)
		}
		max = n
	}
	if tok := engine.QueryValue(q, "$skiptoken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !secretNameChars.Match(b) {
			return 0, "", badParameter("The $skiptoken is not one this vault gave.")
		}
		after = string(b)
	}
	return max, after, nil
}

// nextLink is the URL of the page after the key after, or nil.
func nextLink(r *http.Request, base, after string, max int) any {
	if after == "" {
		return nil
	}
	return base + "?api-version=" + url.QueryEscape(engine.QueryValue(r.URL.Query(), "api-version")) +
		"&$skiptoken=" + base64.RawURLEncoding.EncodeToString([]byte(after)) + "&maxresults=" + strconv.Itoa(max)
}

func (d *DataPlane) listSecrets(ctx context.Context, r *http.Request, vs vaultSecrets, vault string, op secretOp) (*engine.Response, error) {
	max, after, err := page(r)
	if err != nil {
		return nil, err
	}
	deleted := op.do == "listDeleted"
	items, next, err := d.secrets.list(ctx, vault, deleted, after, max)
	if err != nil {
		return nil, err
	}
	value := make([]any, 0, len(items))
	for _, it := range items {
		value = append(value, vs.item(it.head, it.version, false))
	}
	path := "/secrets"
	if deleted {
		path = "/deletedsecrets"
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": value, "nextLink": nextLink(r, vs.url+path, next, max)}), nil
}

func (d *DataPlane) listVersions(ctx context.Context, r *http.Request, vs vaultSecrets, vault string, op secretOp) (*engine.Response, error) {
	max, after, err := page(r)
	if err != nil {
		return nil, err
	}
	h, versions, next, err := d.secrets.versions(ctx, vault, op.secret, after, max)
	if err != nil {
		return nil, err
	}
	value := make([]any, 0, len(versions))
	for _, sv := range versions {
		value = append(value, vs.item(h, sv, true))
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": value, "nextLink": nextLink(r, vs.url+"/secrets/"+h.Name+"/versions", next, max)}), nil
}
