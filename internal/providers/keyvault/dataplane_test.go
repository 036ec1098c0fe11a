package keyvault

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// dataEnv is env with the data plane of its vaults, every request
// authenticated as objectID.
type dataEnv struct {
	*env
	dp *DataPlane
}

func newDataEnv(t *testing.T) *dataEnv {
	v := newEnv(t)
	auth := func(context.Context, string) (engine.Caller, *arm.Error) {
		return engine.Caller{ObjectID: objectID, AppID: "22222222-2222-3333-4444-555555555555", TenantID: tenant}, nil
	}
	return &dataEnv{v, NewDataPlane(v.Engine, auth, nil, "https://login.microsoftonline.com/"+tenant)}
}

// call sends a data-plane request to vault and returns its status, body
// and error code.
func (d *dataEnv) call(vault, method, target, body string) (int, map[string]any, string) {
	d.T.Helper()
	status, out, code, _ := d.callIn(context.Background(), vault, method, target, body)
	return status, out, code
}

// callIn is call in ctx (for its origin), with the request's Target.
func (d *dataEnv) callIn(ctx context.Context, vault, method, target, body string) (int, map[string]any, string, Target) {
	d.T.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "https://"+vault+".vault.azure.net"+target, rd)
	resp, t, err := d.dp.Serve(ctx, vault+".vault.azure.net", r, []byte(body))
	if err != nil {
		ae, ok := arm.AsError(err)
		if !ok {
			d.T.Fatalf("%s %s: %v", method, target, err)
		}
		if ae.InnerError != nil {
			return ae.Status, nil, ae.Code + "/" + ae.InnerError.Code, t
		}
		return ae.Status, nil, ae.Code, t
	}
	var out map[string]any
	if resp.Body != nil {
		b, _ := json.Marshal(resp.Body)
		_ = json.Unmarshal(b, &out)
	}
	return resp.Status, out, "", t
}

// must sends a request that must answer status.
func (d *dataEnv) must(vault, method, target, body string, status int) map[string]any {
	d.T.Helper()
	got, out, code := d.call(vault, method, target, body)
	if got != status {
		d.T.Fatalf("%s %s = %d %s, want %d", method, target, got, code, status)
	}
	return out
}

// TestSecretRefusals: what a client gets wrong is a Key Vault error with
// the right status, never a 500; a caller without the permission its
// access policy lacks is 403 AccessDenied.
func TestSecretRefusals(t *testing.T) {
	d := newDataEnv(t)
	d.create(vaultPath, vault(`"accessPolicies":[`+policy(`"get","list","set"`)+`]`))
	d.must("kv1", http.MethodPut, "/secrets/s1?api-version=7.4", `{"value":"v"}`, 200)
	d.must("kv1", http.MethodPut, "/secrets/off?api-version=7.4", `{"value":"v","attributes":{"enabled":false}}`, 200)
	cases := []struct {
		name, method, target, body string
		status                     int
		code                       string
	}{
		{"no api-version", "GET", "/secrets/s1", "", 400, "BadParameter"},
		{"unknown api-version", "GET", "/secrets/s1?api-version=9.9", "", 400, "BadParameter"},
		{"name with a dot", "GET", "/secrets/a.b?api-version=7.4", "", 400, "BadParameter"},
		{"encoded slash in a name", "GET", "/secrets/a%2Fb?api-version=7.4", "", 400, "BadParameter"},
		{"name too long", "GET", "/secrets/" + strings.Repeat("a", 128) + "?api-version=7.4", "", 400, "BadParameter"},
		{"bad version", "GET", "/secrets/s1/a-b?api-version=7.4", "", 400, "BadParameter"},
		{"unknown version", "GET", "/secrets/s1/0123456789abcdef0123456789abcdef?api-version=7.4", "", 404, "SecretNotFound"},
		{"unknown secret", "GET", "/secrets/nope?api-version=7.4", "", 404, "SecretNotFound"},
		{"set without value", "PUT", "/secrets/s2?api-version=7.4", `{"contentType":"x"}`, 400, "BadParameter"},
		{"set with a body not JSON", "PUT", "/secrets/s2?api-version=7.4", `value=x`, 400, "BadParameter"},
		{"set with an empty body", "PUT", "/secrets/s2?api-version=7.4", ``, 400, "BadParameter"},
		{"set with a number value", "PUT", "/secrets/s2?api-version=7.4", `{"value":1}`, 400, "BadParameter"},
		{"set with a string exp", "PUT", "/secrets/s2?api-version=7.4", `{"value":"x","attributes":{"exp":"soon"}}`, 400, "BadParameter"},
		{"set with value twice", "PUT", "/secrets/s2?api-version=7.4", `{"value":"a","Value":"b"}`, 400, "InvalidRequestContent"},
		{"value too large", "PUT", "/secrets/s2?api-version=7.4", `{"value":"` + strings.Repeat("x", 25*1024+1) + `"}`, 400, "BadParameter"},
		{"too many tags", "PUT", "/secrets/s2?api-version=7.4", `{"value":"x","tags":{` + manyTags(16) + `}}`, 400, "BadParameter"},
		{"update with a value", "PATCH", "/secrets/s1?api-version=7.4", `{"value":"x"}`, 400, "BadParameter"},
		{"maxresults 0", "GET", "/secrets?api-version=7.4&maxresults=0", "", 400, "BadParameter"},
		{"maxresults 26", "GET", "/secrets?api-version=7.4&maxresults=26", "", 400, "BadParameter"},
		{"a skiptoken not given", "GET", "/secrets?api-version=7.4&$skiptoken=%00%00", "", 400, "BadParameter"},
		{"POST to a secret", "POST", "/secrets/s1?api-version=7.4", "", 405, "MethodNotAllowed"},
		{"PUT to the list", "PUT", "/secrets?api-version=7.4", "", 405, "MethodNotAllowed"},
		{"too deep", "GET", "/secrets/s1/v/x?api-version=7.4", "", 404, "NotFound"},
		{"backup", "POST", "/secrets/s1/backup?api-version=7.4", "", 501, "NotImplemented"},
		{"keys", "GET", "/keys?api-version=7.4", "", 501, "NotImplemented"},
		{"a disabled secret's value", "GET", "/secrets/off?api-version=7.4", "", 403, "Forbidden/SecretDisabled"},
		{"delete without the permission", "DELETE", "/secrets/s1?api-version=7.4", "", 403, "Forbidden/AccessDenied"},
		{"purge without the permission", "DELETE", "/deletedsecrets/s1?api-version=7.4", "", 403, "Forbidden/AccessDenied"},
		{"recover without the permission", "POST", "/deletedsecrets/s1/recover?api-version=7.4", "", 403, "Forbidden/AccessDenied"},
		{"another vault", "GET", "/secrets/s1?api-version=7.4", "", 404, "VaultNotFound"},
		{"certificate contacts without the permission", "GET", "/certificates/contacts?api-version=7.4", "", 403, "Forbidden/AccessDenied"},
		{"certificate contacts set", "PUT", "/certificates/contacts?api-version=7.4", `{}`, 501, "NotImplemented"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vault := "kv1"
			if c.name == "another vault" {
				vault = "kv9"
			}
			if status, _, code := d.call(vault, c.method, c.target, c.body); status != c.status || code != c.code {
				t.Errorf("%s %s = %d %s, want %d %s", c.method, c.target, status, code, c.status, c.code)
			}
		})
	}
}

func manyTags(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = `"t` + string(rune('a'+i)) + `":"x"`
	}
	return strings.Join(tags, ",")
}

// TestVaultPrivateOrigin: a request whose origin is a private endpoint
// to the vault's "vault" sub-resource is private: served where the vault
// refuses public requests (publicNetworkAccess Disabled, or a firewall
// denying by default), its Target marked Private. A private endpoint to
// another vault, or to another sub-resource, is no private path to this
// one: such a request is public, and refused.
func TestVaultPrivateOrigin(t *testing.T) {
	d := newDataEnv(t)
	acl := `"accessPolicies":[` + policy(`"get","set"`) + `]`
	d.create(vaultPath, vault(acl+`,"publicNetworkAccess":"Disabled"`))
	d.create(rgPath+"/providers/Microsoft.KeyVault/vaults/kv2", vault(acl+`,"networkAcls":{"defaultAction":"Deny"}`))
	d.create(rgPath+"/providers/Microsoft.KeyVault/vaults/kv3", vault(acl))
	rg := resourceid.ResourceGroup(sub, "rg")
	id := func(name string) resourceid.ID { return rg.Child("Microsoft.KeyVault/vaults", name) }
	through := func(target, group string) context.Context {
		return netmodel.WithOrigin(context.Background(), netmodel.Origin{Listener: "10.0.0.1:443", Endpoint: &netmodel.Endpoint{
			ID: rg.Child("Microsoft.Network/privateEndpoints", "pe"), TargetID: id(target), GroupID: group}})
	}
	cases := []struct {
		name, vault string
		ctx         context.Context
		status      int
		code        string
		private     bool
	}{
		{"public, access disabled", "kv1", context.Background(), 403, "Forbidden/ForbiddenByConnection", false},
		{"private", "kv1", through("kv1", "vault"), 200, "", true},
		{"private, group id in another casing", "kv1", through("kv1", "Vault"), 200, "", true},
		{"through an endpoint to another vault", "kv1", through("kv3", "vault"), 403, "Forbidden/ForbiddenByConnection", false},
		{"through another sub-resource", "kv1", through("kv1", "blob"), 403, "Forbidden/ForbiddenByConnection", false},
		{"public, firewall denies", "kv2", context.Background(), 403, "Forbidden/ForbiddenByFirewall", false},
		{"private past the firewall", "kv2", through("kv2", "vault"), 200, "", true},
		{"private to an open vault", "kv3", through("kv3", "vault"), 200, "", true},
		{"public to an open vault", "kv3", context.Background(), 200, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, code, target := d.callIn(c.ctx, c.vault, http.MethodPut, "/secrets/s?api-version=7.4", `{"value":"v"}`)
			if status != c.status || code != c.code || target.Private != c.private {
				t.Errorf("= %d %s private %v, want %d %s private %v", status, code, target.Private, c.status, c.code, c.private)
			}
		})
	}
}

// TestSecretsFollowTheVault: a vault's secrets go with it into soft delete
// (the data plane does not answer for a deleted vault) and come back with a
// recover; a purge drops them, so a new vault of the name starts empty; a
// deleted secret whose purge date passes is gone and its name free; a
// reset leaves none in the store.
func TestSecretsFollowTheVault(t *testing.T) {
	d := newDataEnv(t)
	all := `"get","list","set","delete","recover","purge"`
	d.create(vaultPath, vault(`"accessPolicies":[`+policy(all)+`],"softDeleteRetentionInDays":7`))
	got := d.must("kv1", http.MethodPut, "/secrets/S1?api-version=7.4", `{"value":"one"}`, 200)
	if id, _ := got["id"].(string); !strings.HasPrefix(id, "https://kv1.vault.azure.net/secrets/S1/") || got["value"] != "one" {
		t.Fatalf("set = %v", got)
	}
	d.must("kv1", http.MethodPut, "/secrets/tmp?api-version=7.4", `{"value":"t"}`, 200)
	d.must("kv1", http.MethodDelete, "/secrets/tmp?api-version=7.4", "", 200)

	d.Must(http.MethodDelete, vaultPath, api, "", 200)
	if status, _, code := d.call("kv1", http.MethodGet, "/secrets/s1?api-version=7.4", ""); status != 404 || code != "VaultNotFound" {
		t.Fatalf("a deleted vault's secret: %d %s", status, code)
	}
	d.Must(http.MethodPut, vaultPath, api, vault(`"createMode":"recover"`), 201)
	d.Advance(2 * time.Second)
	if got := d.must("kv1", http.MethodGet, "/secrets/s1?api-version=7.4", "", 200); got["value"] != "one" {
		t.Fatalf("after the vault's recover = %v", got)
	}

	// A deleted secret past its purge date (the vault's retention) is gone.
	d.Advance(7*24*time.Hour + time.Minute)
	d.must("kv1", http.MethodGet, "/deletedsecrets?api-version=7.4", "", 200)
	if status, _, _ := d.call("kv1", http.MethodGet, "/deletedsecrets/tmp?api-version=7.4", ""); status != 404 {
		t.Errorf("a deleted secret past its purge date: %d", status)
	}
	d.must("kv1", http.MethodPut, "/secrets/tmp?api-version=7.4", `{"value":"t2"}`, 200)
	if v := d.must("kv1", http.MethodGet, "/secrets/tmp/versions?api-version=7.4", "", 200)["value"].([]any); len(v) != 1 {
		t.Errorf("versions of a secret set again after its purge date: %d, want 1", len(v))
	}

	// Purge the vault: a new vault of the name has no secrets.
	d.Must(http.MethodDelete, vaultPath, api, "", 200)
	resp, err := d.Serve(http.MethodPost, deletedPath("kv1")+"/purge", api, "")
	if err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("purge = %v %v", resp, err)
	}
	d.create(vaultPath, vault(`"accessPolicies":[`+policy(all)+`]`))
	if status, _, code := d.call("kv1", http.MethodGet, "/secrets/s1?api-version=7.4", ""); status != 404 || code != "SecretNotFound" {
		t.Errorf("a purged vault's secret in a new vault of its name: %d %s", status, code)
	}
	if v := d.must("kv1", http.MethodGet, "/secrets?api-version=7.4", "", 200)["value"].([]any); len(v) != 0 {
		t.Errorf("a new vault lists %v", v)
	}

	// A vault of a name whose deleted vault expired starts without that
	// vault's secrets and keeps its own through its delete and recover
	// (the expired record it replaces goes without taking them).
	kv3 := rgPath + "/providers/Microsoft.KeyVault/vaults/kv3"
	d.create(kv3, vault(`"accessPolicies":[`+policy(all)+`],"softDeleteRetentionInDays":7`))
	d.must("kv3", http.MethodPut, "/secrets/old?api-version=7.4", `{"value":"x"}`, 200)
	d.Must(http.MethodDelete, kv3, api, "", 200)
	d.Advance(7*24*time.Hour + time.Minute)
	d.create(kv3, vault(`"accessPolicies":[`+policy(all)+`],"softDeleteRetentionInDays":7`))
	d.must("kv3", http.MethodPut, "/secrets/new?api-version=7.4", `{"value":"y"}`, 200)
	d.Must(http.MethodDelete, kv3, api, "", 200)
	d.Must(http.MethodPut, kv3, api, vault(`"createMode":"recover"`), 201)
	d.Advance(2 * time.Second)
	d.must("kv3", http.MethodGet, "/secrets/new?api-version=7.4", "", 200)
	if status, _, _ := d.call("kv3", http.MethodGet, "/secrets/old?api-version=7.4", ""); status != 404 {
		t.Errorf("the expired vault's secret in the new vault of its name: %d", status)
	}

	// A reset (which asks no strategy) leaves no secret in the store,
	// of a live vault or of a deleted one.
	d.must("kv1", http.MethodPut, "/secrets/live?api-version=7.4", `{"value":"x"}`, 200)
	kv2 := rgPath + "/providers/Microsoft.KeyVault/vaults/kv2"
	d.create(kv2, vault(`"accessPolicies":[`+policy(all)+`]`))
	d.must("kv2", http.MethodPut, "/secrets/deleted?api-version=7.4", `{"value":"x"}`, 200)
	d.Must(http.MethodDelete, kv2, api, "", 200)
	if _, err := d.Engine.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left, err := d.dp.secrets.kv.Scan(context.Background(), nil, nil, 0); err != nil || len(left) != 0 {
		t.Errorf("after a reset the store keeps %d secret records (%v)", len(left), err)
	}
}

// TestSecretPaging: maxresults pages the list with nextLink, deleted
// secrets are left out of it, and the pages hold every secret once.
func TestSecretPaging(t *testing.T) {
	d := newDataEnv(t)
	d.create(vaultPath, vault(`"accessPolicies":[`+policy(`"get","list","set","delete"`)+`]`))
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		d.must("kv1", http.MethodPut, "/secrets/"+n+"?api-version=7.4", `{"value":"x"}`, 200)
	}
	d.must("kv1", http.MethodDelete, "/secrets/c?api-version=7.4", "", 200)
	seen := map[string]int{}
	target := "/secrets?api-version=7.4&maxresults=2"
	for pages := 0; target != ""; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		got := d.must("kv1", http.MethodGet, target, "", 200)
		for _, it := range got["value"].([]any) {
			seen[it.(map[string]any)["id"].(string)]++
		}
		next, _ := got["nextLink"].(string)
		target = strings.TrimPrefix(next, "https://kv1.vault.azure.net")
	}
	if len(seen) != 6 || seen["https://kv1.vault.azure.net/secrets/c"] != 0 {
		t.Errorf("listed %v", seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
}

// TestCertificateContacts: what azurerm reads of every vault; with the
// permission (managecontacts of certificates) the vault has none.
func TestCertificateContacts(t *testing.T) {
	d := newDataEnv(t)
	d.create(vaultPath, vault(`"accessPolicies":[{"tenantId":"`+tenant+`","objectId":"`+objectID+`","permissions":{"certificates":["ManageContacts"]}}]`))
	if status, _, code := d.call("kv1", http.MethodGet, "/certificates/contacts?api-version=7.4", ""); status != 404 || code != "ContactsNotFound" {
		t.Errorf("contacts = %d %s, want 404 ContactsNotFound", status, code)
	}
	if status, _, code := d.call("kv1", http.MethodGet, "/secrets?api-version=7.4", ""); status != 403 || code != "Forbidden/AccessDenied" {
		t.Errorf("a certificates permission lists secrets: %d %s", status, code)
	}
}
