package authorization

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

func TestPrivateLinkLifecycle(t *testing.T) {
	v := newEnv(t)
	body := v.must(tenantA, http.MethodPut, rmplA+"pl1", ver, `{"location":"East US","tags":{"k":"v"}}`, http.StatusOK)
	want := map[string]any{
		"id": rmplA + "pl1", "name": "pl1", "type": TypePrivateLinks, "location": "eastus",
		"tags": map[string]any{"k": "v"}, "properties": map[string]any{"privateEndpointConnections": []any{}},
	}
	delete(body, "systemData")
	if !reflect.DeepEqual(body, want) {
		t.Fatalf("PUT body = %v\nwant %v", body, want)
	}
	// A GET-modify-PUT round trip with the read-only members works.
	v.must(tenantA, http.MethodPut, rmplA+"pl1", ver,
		`{"location":"eastus","tags":{"k":"v2"},"properties":{"privateEndpointConnections":[],"provisioningState":"Succeeded"}}`, http.StatusOK)
	v.must(tenantA, http.MethodPut, rmplA+"pl2", ver, `{"location":"westus"}`, http.StatusOK)
	v.must(tenantB, http.MethodPut, rmplB+"other", ver, `{"location":"westus"}`, http.StatusOK)

	got := v.must(tenantA, http.MethodGet, lower(rmplA)+"PL1", ver, "", http.StatusOK)
	if got["id"] != rmplA+"pl1" || got["tags"].(map[string]any)["k"] != "v2" {
		t.Errorf("GET = %v", got)
	}
	byRG := listNames(t, v.must(tenantA, http.MethodGet, strings.TrimSuffix(rmplA, "/"), ver, "", http.StatusOK))
	bySub := listNames(t, v.must(tenantA, http.MethodGet, "/subscriptions/"+subA+"/providers/Microsoft.Authorization/resourceManagementPrivateLinks", ver, "", http.StatusOK))
	if !reflect.DeepEqual(byRG, []string{"pl1", "pl2"}) || !reflect.DeepEqual(bySub, []string{"pl1", "pl2"}) {
		t.Errorf("list by resource group = %v, by subscription = %v; want [pl1 pl2]", byRG, bySub)
	}
	v.must(tenantA, http.MethodDelete, rmplA+"pl1", ver, "", http.StatusOK)
	v.must(tenantA, http.MethodDelete, rmplA+"pl1", ver, "", http.StatusNoContent)
	v.fail(tenantA, http.MethodGet, rmplA+"pl1", ver, "", http.StatusNotFound, "ResourceNotFound")
}

func TestPrivateLinkValidation(t *testing.T) {
	v := newEnv(t)
	tests := []struct {
		name, path, version, body string
		status                    int
		code                      string
	}{
		{"missing location", rmplA + "x", ver, `{}`, 400, "LocationRequired"},
		{"unknown location", rmplA + "x", ver, `{"location":"moon"}`, 400, "LocationNotAvailableForResourceType"},
		{"unknown property", rmplA + "x", ver, `{"location":"eastus","properties":{"publicNetworkAccess":"Disabled"}}`, 400, "InvalidRequestContent"},
		{"sku", rmplA + "x", ver, `{"location":"eastus","sku":{"name":"S"}}`, 400, "InvalidRequestContent"},
		{"kind", rmplA + "x", ver, `{"location":"eastus","kind":"k"}`, 400, "InvalidRequestContent"},
		{"unknown top-level member", rmplA + "x", ver, `{"location":"eastus","foo":1}`, 400, "InvalidRequestContent"},
		{"properties not an object", rmplA + "x", ver, `{"location":"eastus","properties":[]}`, 400, "InvalidRequestContent"},
		{"at subscription scope", "/subscriptions/" + subA + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/x", ver, `{"location":"eastus"}`, 400, "InvalidScope"},
		{"missing resource group", "/subscriptions/" + subA + "/resourceGroups/nope/providers/Microsoft.Authorization/resourceManagementPrivateLinks/x", ver, `{"location":"eastus"}`, 404, "ResourceGroupNotFound"},
		{"bad api-version", rmplA + "x", "2021-01-01", `{"location":"eastus"}`, 400, "NoRegisteredProviderFound"},
		{"bad name", rmplA + "x%3Cy", ver, `{"location":"eastus"}`, 400, "InvalidResourceName"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.t = t
			v.fail(tenantA, http.MethodPut, tc.path, tc.version, tc.body, tc.status, tc.code)
		})
	}
	v.t = t
	if names := listNames(t, v.must(tenantA, http.MethodGet, strings.TrimSuffix(rmplA, "/"), ver, "", http.StatusOK)); len(names) != 0 {
		t.Errorf("refused PUTs left private links behind: %v", names)
	}
}

func TestAssociationLifecycle(t *testing.T) {
	v := newEnv(t)
	v.must(tenantA, http.MethodPut, rmplA+"PL1", ver, `{"location":"eastus"}`, http.StatusOK)
	v.must(tenantA, http.MethodPut, rmplA+"pl2", ver, `{"location":"eastus"}`, http.StatusOK)

	// privateLink in another casing is stored with the private link's own;
	// publicNetworkAccess defaults to Enabled.
	body := v.must(tenantA, http.MethodPut, plaA+"a1", ver, association(lower(rmplA)+"pl1", ""), http.StatusOK)
	want := map[string]any{
		"id": plaA + "a1", "name": "a1", "type": TypeAssociations,
		"properties": map[string]any{
			"privateLink": rmplA + "PL1", "publicNetworkAccess": "Enabled",
			"tenantID": tenantA, "scope": mgRoot + tenantA,
		},
	}
	delete(body, "systemData")
	if !reflect.DeepEqual(body, want) {
		t.Fatalf("PUT body = %v\nwant %v", body, want)
	}
	// Update: another private link, Disabled in any casing; a GET-modify-PUT
	// with the read-only members works.
	body = v.must(tenantA, http.MethodPut, plaA+"a1", ver,
		`{"properties":{"privateLink":"`+rmplA+`pl2","publicNetworkAccess":"disabled","tenantID":"x","scope":"y"}}`, http.StatusOK)
	if p := body["properties"].(map[string]any); p["publicNetworkAccess"] != "Disabled" || p["privateLink"] != rmplA+"pl2" || p["tenantID"] != tenantA {
		t.Errorf("update = %v", p)
	}
	// The caller's tenant id may come in another casing than the path's.
	got := v.must(strings.ToUpper(tenantA), http.MethodGet, lower(plaA)+"A1", ver, "", http.StatusOK)
	if got["id"] != plaA+"a1" {
		t.Errorf("GET = %v", got)
	}
	// A location (the Azure CLI sends one) is accepted and dropped.
	body = v.must(tenantA, http.MethodPut, plaA+"a2", ver, `{"location":"eastus","properties":{"privateLink":"`+rmplA+`pl1"}}`, http.StatusOK)
	if _, has := body["location"]; has {
		t.Errorf("association with a location: %v", body)
	}
	if names := listNames(t, v.must(tenantA, http.MethodGet, strings.TrimSuffix(plaA, "/"), ver, "", http.StatusOK)); !reflect.DeepEqual(names, []string{"a1", "a2"}) {
		t.Errorf("list = %v", names)
	}
	// Tenant B's root group lists none of tenant A's.
	if names := listNames(t, v.must(tenantB, http.MethodGet, strings.TrimSuffix(plaB, "/"), ver, "", http.StatusOK)); len(names) != 0 {
		t.Errorf("tenant B lists %v", names)
	}
	v.must(tenantA, http.MethodDelete, plaA+"a1", ver, "", http.StatusOK)
	v.must(tenantA, http.MethodDelete, plaA+"a1", ver, "", http.StatusNoContent)
	v.fail(tenantA, http.MethodGet, plaA+"a1", ver, "", http.StatusNotFound, "ResourceNotFound")
}

func TestAssociationValidation(t *testing.T) {
	v := newEnv(t)
	v.must(tenantA, http.MethodPut, rmplA+"pl1", ver, `{"location":"eastus"}`, http.StatusOK)
	v.must(tenantB, http.MethodPut, rmplB+"plb", ver, `{"location":"eastus"}`, http.StatusOK)
	link := rmplA + "pl1"
	wsID := rgA + "/providers/Microsoft.MachineLearningServices/workspaces/ws"
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"no body members", plaA + "x", `{}`, 400, "InvalidRequestContent"},
		{"missing privateLink", plaA + "x", `{"properties":{"publicNetworkAccess":"Disabled"}}`, 400, "InvalidRequestContent"},
		{"null privateLink", plaA + "x", `{"properties":{"privateLink":null}}`, 400, "InvalidRequestContent"},
		{"privateLink not a string", plaA + "x", `{"properties":{"privateLink":42}}`, 400, "InvalidRequestContent"},
		{"privateLink not an id", plaA + "x", association("not-an-id", "Disabled"), 400, "LinkedInvalidPropertyId"},
		{"privateLink of another type", plaA + "x", association(wsID, "Disabled"), 400, "LinkedInvalidPropertyId"},
		{"privateLink a resource group", plaA + "x", association(rgA, "Disabled"), 400, "LinkedInvalidPropertyId"},
		{"privateLink does not exist", plaA + "x", association(rmplA+"nope", "Disabled"), 400, "InvalidResourceReference"},
		{"privateLink in unknown subscription", plaA + "x", association("/subscriptions/nope/resourceGroups/rg/providers/Microsoft.Authorization/resourceManagementPrivateLinks/p", "Disabled"), 400, "InvalidResourceReference"},
		{"privateLink of another tenant", plaA + "x", association(rmplB+"plb", "Disabled"), 400, "InvalidResourceReference"},
		{"bad publicNetworkAccess", plaA + "x", association(link, "Off"), 400, "InvalidRequestContent"},
		{"publicNetworkAccess not a string", plaA + "x", `{"properties":{"privateLink":"` + link + `","publicNetworkAccess":false}}`, 400, "InvalidRequestContent"},
		{"unknown property", plaA + "x", `{"properties":{"privateLink":"` + link + `","foo":"bar"}}`, 400, "InvalidRequestContent"},
		{"unknown top-level member", plaA + "x", `{"foo":1,"properties":{"privateLink":"` + link + `"}}`, 400, "InvalidRequestContent"},
		{"tags", plaA + "x", `{"tags":{},"properties":{"privateLink":"` + link + `"}}`, 400, "InvalidRequestContent"},
		{"sku", plaA + "x", `{"sku":{"name":"S"},"properties":{"privateLink":"` + link + `"}}`, 400, "InvalidRequestContent"},
		{"other management group", mgRoot + "child/providers/Microsoft.Authorization/privateLinkAssociations/x", association(link, "Disabled"), 404, "ManagementGroupNotFound"},
		{"other tenant's root group", plaB + "x", association(link, "Disabled"), 404, "ManagementGroupNotFound"},
		{"subscription scope", "/subscriptions/" + subA + "/providers/Microsoft.Authorization/privateLinkAssociations/x", association(link, "Disabled"), 400, "InvalidScope"},
		{"resource group scope", rgA + "/providers/Microsoft.Authorization/privateLinkAssociations/x", association(link, "Disabled"), 400, "InvalidScope"},
		{"bad name", plaA + "x%3F", association(link, "Disabled"), 400, "InvalidResourceName"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.t = t
			v.fail(tenantA, http.MethodPut, tc.path, ver, tc.body, tc.status, tc.code)
		})
	}
	v.t = t
	// Nothing was stored, and public ARM stays open.
	if names := listNames(t, v.must(tenantA, http.MethodGet, strings.TrimSuffix(plaA, "/"), ver, "", http.StatusOK)); len(names) != 0 {
		t.Errorf("refused PUTs left associations behind: %v", names)
	}
	if d, _ := v.disabled(tenantA); d {
		t.Error("refused PUTs disabled public ARM")
	}

	// Every verb at a management group that is not the caller's root group
	// is refused with the same clear error.
	other := mgRoot + "child/providers/Microsoft.Authorization/privateLinkAssociations"
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, other + "/x"}, {http.MethodDelete, other + "/x"}, {http.MethodGet, other}, {http.MethodGet, strings.TrimSuffix(plaB, "/")},
	} {
		ae := v.fail(tenantA, c.method, c.path, ver, "", 404, "ManagementGroupNotFound")
		if !strings.Contains(ae.Message, tenantA) || !strings.Contains(ae.Message, "root management group") {
			t.Errorf("%s %s: message %q must name the caller's tenant and the root management group", c.method, c.path, ae.Message)
		}
	}
	// A caller without a tenant has no root group at all.
	v.fail("", http.MethodGet, strings.TrimSuffix(plaA, "/"), ver, "", 404, "ManagementGroupNotFound")
}

func TestPublicARMDisabled(t *testing.T) {
	v := newEnv(t)
	v.must(tenantA, http.MethodPut, rmplA+"pl1", ver, `{"location":"eastus"}`, http.StatusOK)
	v.must(tenantB, http.MethodPut, rmplB+"pl1", ver, `{"location":"eastus"}`, http.StatusOK)
	state := func() [2]bool {
		a, _ := v.disabled(tenantA)
		b, _ := v.disabled(tenantB)
		return [2]bool{a, b}
	}
	steps := []struct {
		name   string
		tenant string
		method string
		path   string
		body   string
		status int
		want   [2]bool
	}{
		{"nothing yet", "", "", "", "", 0, [2]bool{false, false}},
		{"A associates, Enabled", tenantA, http.MethodPut, plaA + "a1", association(rmplA+"pl1", "Enabled"), 200, [2]bool{false, false}},
		{"A disables", tenantA, http.MethodPut, plaA + "a1", association(rmplA+"pl1", "Disabled"), 200, [2]bool{true, false}},
		{"A adds an Enabled one", tenantA, http.MethodPut, plaA + "a2", association(rmplA+"pl1", "Enabled"), 200, [2]bool{true, false}},
		{"B disables", tenantB, http.MethodPut, plaB + "b1", association(rmplB+"pl1", "Disabled"), 200, [2]bool{true, true}},
		{"A enables again", tenantA, http.MethodPut, plaA + "a1", association(rmplA+"pl1", "Enabled"), 200, [2]bool{false, true}},
		{"A disables again", tenantA, http.MethodPut, plaA + "a1", association(rmplA+"pl1", "Disabled"), 200, [2]bool{true, true}},
		{"A deletes it", tenantA, http.MethodDelete, plaA + "a1", "", 200, [2]bool{false, true}},
		{"B deletes its own", tenantB, http.MethodDelete, plaB + "b1", "", 200, [2]bool{false, false}},
	}
	for _, s := range steps {
		if s.method != "" {
			v.must(s.tenant, s.method, s.path, ver, s.body, s.status)
		}
		if got := state(); got != s.want {
			t.Fatalf("%s: disabled (A, B) = %v, want %v", s.name, got, s.want)
		}
	}

	v.must(tenantA, http.MethodPut, plaA+"a1", ver, association(rmplA+"pl1", "Disabled"), 200)
	_, refusal := v.disabled(strings.ToUpper(tenantA)) // tenant ids compare ignoring case
	if refusal == nil {
		t.Fatal("tenant id in upper case: not disabled")
	}
	if refusal.Status != http.StatusForbidden || refusal.Code != CodePublicAccessRestricted ||
		!strings.Contains(refusal.Message, "a1") || !strings.Contains(refusal.Message, "private endpoint") {
		t.Errorf("refusal = %d %s %q", refusal.Status, refusal.Code, refusal.Message)
	}
	for _, bad := range []string{"", "a/b", "..", "\x00"} {
		if d, _ := v.disabled(bad); d {
			t.Errorf("tenant %q: disabled", bad)
		}
	}
}

func TestPrivateLinkInUse(t *testing.T) {
	v := newEnv(t)
	v.must(tenantA, http.MethodPut, rmplA+"pl1", ver, `{"location":"eastus"}`, http.StatusOK)
	v.must(tenantA, http.MethodPut, rmplA+"pl2", ver, `{"location":"eastus"}`, http.StatusOK)
	v.must(tenantA, http.MethodPut, plaA+"a1", ver, association(rmplA+"pl1", "Disabled"), http.StatusOK)
	v.fail(tenantA, http.MethodDelete, lower(rmplA)+"PL1", ver, "", http.StatusConflict, codePrivateLinkInUse)
	v.must(tenantA, http.MethodGet, rmplA+"pl1", ver, "", http.StatusOK)
	v.must(tenantA, http.MethodDelete, rmplA+"pl2", ver, "", http.StatusOK) // not in use
	v.must(tenantA, http.MethodDelete, plaA+"a1", ver, "", http.StatusOK)
	v.must(tenantA, http.MethodDelete, rmplA+"pl1", ver, "", http.StatusOK)
}

// TestImportAssociation covers seed files: the association comes before
// its private link, which need not exist, but must be well formed.
func TestImportAssociation(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	id := func(s string) resourceid.ID {
		r, err := resourceid.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	body := map[string]any{"properties": map[string]any{"privateLink": rmplA + "seeded", "publicNetworkAccess": "Disabled"}}
	if ok, err := v.e.Import(ctx, id(plaA+"s1"), body, ver, engine.Caller{}); err != nil || !ok {
		t.Fatalf("import: %v %v", ok, err)
	}
	if d, _ := v.disabled(tenantA); !d {
		t.Error("a seeded Disabled association must disable public ARM")
	}
	bad := map[string]any{"properties": map[string]any{"privateLink": rmplB + "theirs"}}
	if _, err := v.e.Import(ctx, id(plaA+"s2"), bad, ver, engine.Caller{}); err == nil {
		t.Error("import of an association to another tenant's private link succeeded")
	}
}

// TestPutAndDeleteStatusesMatchTheSpecs: each type answers a create, an
// update and deletes with the statuses its REST spec in
// Azure/azure-rest-api-specs documents (the SDKs accept no others):
// policy definitions and assignments and role definitions answer 201 to
// every PUT; private links and associations 200 to every PUT; a policy
// assignment's DELETE answers it. Policy states take no DELETE.
func TestPutAndDeleteStatusesMatchTheSpecs(t *testing.T) {
	v := newEnv(t)
	sub := "/subscriptions/" + subA
	const roleDefVer = "2022-04-01"
	const rule = `{"properties":{"mode":"All","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}}}`
	auditDef := sub + "/providers/Microsoft.Authorization/policyDefinitions/audit-x"
	tests := []struct {
		name, path, apiVersion, create, update  string
		created, updated, deleted, deletedAgain int
		deleteBody                              bool
	}{
		{"resource management private link", rmplA + "st", ver, `{"location":"eastus"}`, `{"location":"eastus","tags":{"a":"b"}}`, 200, 200, 200, 204, false},
		{"private link association", plaA + "st", ver, association(rmplA+"linked", "Enabled"), association(rmplA+"linked", "Disabled"), 200, 200, 200, 204, false},
		{"policy definition", sub + "/providers/Microsoft.Authorization/policyDefinitions/st", polVer, rule,
			`{"properties":{"mode":"All","displayName":"d","policyRule":{"if":{"field":"type","equals":"x"},"then":{"effect":"audit"}}}}`, 201, 201, 200, 204, false},
		{"policy assignment", rgA + "/providers/Microsoft.Authorization/policyAssignments/st", polVer,
			`{"properties":{"policyDefinitionId":"` + auditDef + `"}}`, `{"properties":{"policyDefinitionId":"` + auditDef + `","displayName":"d"}}`, 201, 201, 200, 204, true},
		{"role definition", sub + rdPath + "0f5d6c8e-7b2a-4c1d-9e3f-a1b2c3d4e5f6", roleDefVer,
			`{"properties":{"roleName":"st","assignableScopes":["` + sub + `"],"permissions":[{"actions":["*/read"]}]}}`,
			`{"properties":{"roleName":"st","description":"d","assignableScopes":["` + sub + `"],"permissions":[{"actions":["*/read"]}]}}`, 201, 201, 200, 204, true},
	}
	v.must(tenantA, http.MethodPut, rmplA+"linked", ver, `{"location":"eastus"}`, http.StatusOK)
	v.must(tenantA, http.MethodPut, auditDef, polVer, rule, http.StatusCreated)
	for _, tt := range tests { // v fails the test itself, naming the request
		v.must(tenantA, http.MethodPut, tt.path, tt.apiVersion, tt.create, tt.created)
		v.must(tenantA, http.MethodPut, tt.path, tt.apiVersion, tt.update, tt.updated)
		body := v.must(tenantA, http.MethodDelete, tt.path, tt.apiVersion, "", tt.deleted)
		if got := body["id"] != nil; got != tt.deleteBody {
			t.Errorf("%s: DELETE answered a body: %v, want %v (%v)", tt.name, got, tt.deleteBody, body)
		}
		v.must(tenantA, http.MethodDelete, tt.path, tt.apiVersion, "", tt.deletedAgain)
	}
	v.fail(tenantA, http.MethodDelete, rgA+"/providers/Microsoft.PolicyInsights/policyStates/latest", "2019-10-01", "", http.StatusMethodNotAllowed, "MethodNotAllowed")
}
