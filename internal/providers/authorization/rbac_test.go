package authorization

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/authz"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv/memkv"
)

const (
	raVer   = "2022-04-01"
	boot    = "11111111-0000-0000-0000-000000000001"
	alice   = "aaaaaaaa-0000-0000-0000-00000000000a"
	rbSub   = "/subscriptions/" + subA
	rbWS    = rgA + "/providers/Microsoft.MachineLearningServices/workspaces/w"
	raPath  = "/providers/Microsoft.Authorization/roleAssignments/"
	rdPath  = "/providers/Microsoft.Authorization/roleDefinitions/"
	guid1   = "00000000-0000-0000-0000-0000000000a1"
	guid2   = "00000000-0000-0000-0000-0000000000a2"
	guid3   = "00000000-0000-0000-0000-0000000000a3"
	customG = "c0000000-0000-0000-0000-0000000000c1"
)

type rbEnv struct {
	*env
	rbac *RBAC
}

func newRBEnv(t testing.TB, mode string) *rbEnv {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry()})
	rbac := Register(e, Options{RBACMode: mode})
	if err := e.EnsureSubscription(context.Background(), subA, tenantA, "test"); err != nil {
		t.Fatal(err)
	}
	v := &rbEnv{env: &env{Env: enginetest.New(t, e, clk), t: t, e: e}, rbac: rbac}
	v.must(tenantA, http.MethodPut, rgA, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	if err := rbac.EnsureOwner(context.Background(), boot, engine.Caller{ObjectID: boot}); err != nil {
		t.Fatal(err)
	}
	return v
}

// call serves one request with a query (api-version added).
func (v *rbEnv) call(method, path, query, body string) (*engine.Response, error) {
	q, _ := url.ParseQuery(query)
	if q.Get("api-version") == "" {
		q.Set("api-version", raVer)
	}
	req := &engine.Request{Method: method, Path: path, APIVersion: q.Get("api-version"), Query: q, Body: []byte(body),
		Header: http.Header{}, BaseURL: "https://127.0.0.1:8443", Now: v.e.Now(),
		Caller: engine.Caller{ObjectID: boot, TenantID: tenantA}}
	resp, err := v.e.Serve(context.Background(), req)
	if err == nil && method != http.MethodGet {
		v.rbac.Invalidate() // as armhttp's AfterWrite does
	}
	return resp, err
}

func assignmentBody(role, principal string) string {
	return fmt.Sprintf(`{"properties":{"roleDefinitionId":"%s%s","principalId":"%s","principalType":"ServicePrincipal"}}`, rbSub+rdPath, role, principal)
}

func (v *rbEnv) allowed(principal, action, scope string) string {
	v.t.Helper()
	d, err := v.rbac.Authorize(context.Background(), principal, action, must(resourceid.Parse(scope)), false)
	if err != nil {
		v.t.Fatal(err)
	}
	if !d.Allowed {
		return ""
	}
	return d.Assignment.ID
}

func TestRoleAssignmentsAndEvaluation(t *testing.T) {
	v := newRBEnv(t, ModeEnforce)
	// The bootstrap principal is Owner everywhere.
	if got := v.allowed(boot, "Microsoft.MachineLearningServices/workspaces/write", rbWS); got != OwnerAssignmentID(boot).String() {
		t.Fatalf("bootstrap owner: allowed by %q", got)
	}
	if got := v.allowed(alice, "Microsoft.MachineLearningServices/workspaces/read", rbWS); got != "" {
		t.Fatalf("alice before any assignment: allowed by %q", got)
	}
	// Reader at the resource group.
	resp, err := v.call(http.MethodPut, rgA+raPath+guid1, "", assignmentBody(authz.RoleReader, alice))
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("PUT assignment: %v %v", resp, err)
	}
	b := asJSON(t, resp.Body)
	props := b["properties"].(map[string]any)
	if b["id"] != rgA+raPath+guid1 || b["type"] != TypeRoleAssignments || props["scope"] != rgA || props["principalId"] != alice || b["systemData"] != nil {
		t.Fatalf("assignment body: %v", b)
	}
	if got := v.allowed(alice, "Microsoft.MachineLearningServices/workspaces/read", rbWS); got != rgA+raPath+guid1 {
		t.Fatalf("alice read: allowed by %q", got)
	}
	if got := v.allowed(alice, "Microsoft.MachineLearningServices/workspaces/write", rbWS); got != "" {
		t.Fatalf("alice write: allowed by %q", got)
	}
	if got := v.allowed(alice, "Microsoft.Resources/subscriptions/read", rbSub); got != "" {
		t.Fatalf("reader at rg reads the subscription: %q", got)
	}
	// The same role for the same principal at the same scope: 409.
	if _, err := v.call(http.MethodPut, rgA+raPath+guid2, "", assignmentBody(authz.RoleReader, alice)); errCodeOf(err) != "RoleAssignmentExists" {
		t.Fatalf("duplicate: %v", err)
	}
	// Re-PUT of the same one is fine; changing its role is not.
	if resp, err := v.call(http.MethodPut, rgA+raPath+guid1, "", assignmentBody(authz.RoleReader, alice)); err != nil || resp.Status != 200 {
		t.Fatalf("re-PUT: %v %v", resp, err)
	}
	if _, err := v.call(http.MethodPut, rgA+raPath+guid1, "", assignmentBody(authz.RoleOwner, alice)); errCodeOf(err) != "RoleAssignmentUpdateNotPermitted" {
		t.Fatalf("role change: %v", err)
	}
	for _, c := range []struct{ body, code string }{
		{assignmentBody("99999999-9999-9999-9999-999999999999", alice), "RoleDefinitionDoesNotExist"},
		{assignmentBody(authz.RoleReader, "not-a-guid"), "InvalidPrincipalId"},
		{`{"properties":{"principalId":"` + alice + `"}}`, arm.CodeInvalidRequestContent},
		{`{"properties":{"roleDefinitionId":"/x/y","principalId":"` + alice + `"}}`, "InvalidRoleDefinitionId"},
	} {
		if _, err := v.call(http.MethodPut, rgA+raPath+guid3, "", c.body); errCodeOf(err) != c.code {
			t.Errorf("PUT %s: %v, want %s", c.body, err, c.code)
		}
	}
	if _, err := v.call(http.MethodPut, rgA+raPath+"not-a-guid", "", assignmentBody(authz.RoleReader, alice)); err == nil {
		t.Error("non-GUID assignment name accepted")
	}
	// Data Scientist on the workspace scope (the workspace record need not
	// exist for the evaluator; the engine checks stored ancestors only).
	if _, err := v.call(http.MethodPut, rbSub+raPath+guid2, "", assignmentBody(authz.RoleAzureMLComputeOperator, alice)); err != nil {
		t.Fatal(err)
	}
	if got := v.allowed(alice, "Microsoft.MachineLearningServices/workspaces/computes/start/action", rbWS+"/computes/c"); got != rbSub+raPath+guid2 {
		t.Fatalf("compute operator at subscription: %q", got)
	}
	// Lists: atScope() at the resource group holds the root Owner and both
	// of alice's; principalId filters.
	for _, c := range []struct {
		scope, filter string
		want          int
	}{
		{rgA, "atScope()", 3}, {rgA, "principalId eq '" + alice + "'", 2}, {rbSub, "", 2},
		{rgA, "atScope() and assignedTo('" + boot + "')", 1}, {"", "", 1},
	} {
		resp, err := v.call(http.MethodGet, c.scope+"/providers/Microsoft.Authorization/roleAssignments", "$filter="+url.QueryEscape(c.filter), "")
		if err != nil {
			t.Fatalf("list %s %s: %v", c.scope, c.filter, err)
		}
		if n := len(asJSON(t, resp.Body)["value"].([]any)); n != c.want {
			t.Errorf("list at %q filter %q: %d, want %d", c.scope, c.filter, n, c.want)
		}
	}
	if _, err := v.call(http.MethodGet, rgA+"/providers/Microsoft.Authorization/roleAssignments", "$filter=bogus", ""); errCodeOf(err) != "InvalidFilter" {
		t.Errorf("bad filter: %v", err)
	}
	// DELETE answers the assignment and revokes it.
	resp, err = v.call(http.MethodDelete, rgA+raPath+guid1, "", "")
	if err != nil || resp.Status != 200 || asJSON(t, resp.Body)["id"] != rgA+raPath+guid1 {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	if got := v.allowed(alice, "Microsoft.MachineLearningServices/workspaces/read", rbWS); got != "" {
		t.Fatalf("after delete: allowed by %q", got)
	}
	if resp, err := v.call(http.MethodDelete, rgA+raPath+guid1, "", ""); err != nil || resp.Status != 204 {
		t.Fatalf("DELETE again: %v %v", resp, err)
	}
	// A missing resource group is a 404.
	if _, err := v.call(http.MethodPut, rbSub+"/resourceGroups/nope"+raPath+guid3, "", assignmentBody(authz.RoleReader, alice)); errCodeOf(err) != arm.CodeResourceGroupNotFound {
		t.Fatalf("assignment in a missing group: %v", err)
	}
}

func TestRoleDefinitions(t *testing.T) {
	v := newRBEnv(t, ModeEnforce)
	list := func(scope, filter string) []any {
		t.Helper()
		resp, err := v.call(http.MethodGet, scope+"/providers/Microsoft.Authorization/roleDefinitions", "api-version=2018-01-01-preview&$filter="+url.QueryEscape(filter), "")
		if err != nil {
			t.Fatal(err)
		}
		return asJSON(t, resp.Body)["value"].([]any)
	}
	got := list(rgA, "roleName eq 'reader'")
	if len(got) != 1 || got[0].(map[string]any)["id"] != rbSub+rdPath+authz.RoleReader {
		t.Fatalf("Reader by name: %v", got)
	}
	if n := len(list("", "type eq 'BuiltInRole'")); n != len(authz.BuiltIns()) {
		t.Fatalf("built-ins: %d", n)
	}
	resp, err := v.call(http.MethodGet, rdPath+authz.RoleAzureMLDataScientist, "", "")
	if err != nil || asJSON(t, resp.Body)["properties"].(map[string]any)["roleName"] != "AzureML Data Scientist" {
		t.Fatalf("GET built-in: %v %v", resp, err)
	}
	if _, err := v.call(http.MethodDelete, rbSub+rdPath+authz.RoleOwner, "", ""); errCodeOf(err) != "BuiltInRoleCannotBeModified" {
		t.Fatalf("DELETE built-in: %v", err)
	}
	// A custom role assignable at the resource group only.
	custom := `{"properties":{"roleName":"Runs reader","description":"d","assignableScopes":["` + rgA + `"],
		"permissions":[{"actions":["Microsoft.MachineLearningServices/workspaces/*/read"],"notActions":["Microsoft.MachineLearningServices/workspaces/computes/*"]}]}}`
	if resp, err := v.call(http.MethodPut, rbSub+rdPath+customG, "", custom); err != nil || resp.Status != 201 {
		t.Fatalf("PUT custom: %v %v", resp, err)
	}
	if _, err := v.call(http.MethodPut, rbSub+rdPath+guid3, "", strings.Replace(custom, "Runs reader", "reader", 1)); errCodeOf(err) != "RoleDefinitionWithSameNameExists" {
		t.Fatalf("custom named like a built-in: %v", err)
	}
	if _, err := v.call(http.MethodPut, rgA+rdPath+guid3, "", custom); errCodeOf(err) != codeInvalidScope {
		t.Fatalf("custom role in a resource group: %v", err)
	}
	if n := len(list(rgA, "type eq 'CustomRole'")); n != 1 {
		t.Fatalf("custom roles at the group: %d", n)
	}
	if n := len(list(rbSub, "type eq 'CustomRole'")); n != 0 {
		t.Fatalf("custom roles at the subscription (not assignable there): %d", n)
	}
	if resp, err := v.call(http.MethodGet, "/providers/Microsoft.Authorization/roleDefinitions/"+customG, "", ""); err != nil || resp.Status != 200 {
		t.Fatalf("custom by GUID at the root: %v %v", resp, err)
	}
	if _, err := v.call(http.MethodPut, rbSub+raPath+guid1, "", assignmentBody(customG, alice)); errCodeOf(err) != "RoleDefinitionNotAssignableAtScope" {
		t.Fatalf("custom assigned outside its scopes: %v", err)
	}
	if _, err := v.call(http.MethodPut, rgA+raPath+guid1, "", assignmentBody(customG, alice)); err != nil {
		t.Fatal(err)
	}
	if got := v.allowed(alice, "Microsoft.MachineLearningServices/workspaces/jobs/read", rbWS+"/jobs/j"); got != rgA+raPath+guid1 {
		t.Fatalf("custom role read: %q", got)
	}
	if got := v.allowed(alice, "Microsoft.MachineLearningServices/workspaces/computes/read", rbWS+"/computes/c"); got != "" {
		t.Fatalf("custom role notActions: %q", got)
	}
}

func TestCheckRecordsDecisions(t *testing.T) {
	for _, mode := range []string{ModeEnforce, ModeAudit} {
		v := newRBEnv(t, mode)
		ctx, decs := decision.With(context.Background())
		caller := engine.Caller{ObjectID: alice, AppID: "app-1"}
		err := v.rbac.Check(ctx, caller, "Microsoft.MachineLearningServices/workspaces/write", must(resourceid.Parse(rbWS)), false)
		d := decs.List()
		if len(d) != 1 || d[0].Kind != "rbac" || d[0].Action != "Microsoft.MachineLearningServices/workspaces/write" {
			t.Fatalf("%s: decisions %v", mode, d)
		}
		if mode == ModeAudit {
			if err != nil || d[0].Outcome != "audited" {
				t.Fatalf("audit: %v %v", err, d)
			}
			continue
		}
		ae, ok := arm.AsError(err)
		want := "The client 'app-1' with object id '" + alice + "' does not have authorization to perform action 'Microsoft.MachineLearningServices/workspaces/write' over scope '" + rbWS + "' or the scope is invalid. If access was recently granted, please refresh your credentials."
		if !ok || ae.Status != 403 || ae.Code != "AuthorizationFailed" || ae.Message != want || d[0].Outcome != "denied" {
			t.Fatalf("enforce: %v %v", err, d)
		}
		if err := v.rbac.Check(ctx, engine.Caller{ObjectID: boot}, "Microsoft.MachineLearningServices/workspaces/write", must(resourceid.Parse(rbWS)), false); err != nil {
			t.Fatal(err)
		}
		if d := decs.List(); len(d) != 2 || d[1].Outcome != "allowed" || len(d[1].Refs) != 2 || d[1].Refs[0] != OwnerAssignmentID(boot).String() {
			t.Fatalf("allowed decision: %v", d)
		}
	}
}

func errCodeOf(err error) string {
	if ae, ok := arm.AsError(err); ok {
		return ae.Code
	}
	if err != nil {
		return "internal: " + err.Error()
	}
	return ""
}

// TestRoleAssignmentBodyScope: a properties.scope in the body must name
// the URI's scope (ignoring case); anything else is Azure's 400
// InvalidCreateRoleAssignmentRequest, and nothing is stored.
func TestRoleAssignmentBodyScope(t *testing.T) {
	v := newRBEnv(t, ModeEnforce)
	withScope := func(scope any) string {
		b, _ := json.Marshal(map[string]any{"properties": map[string]any{
			"roleDefinitionId": rbSub + rdPath + authz.RoleReader, "principalId": alice, "scope": scope}})
		return string(b)
	}
	upper := strings.ToUpper(rgA[:1]) + strings.Replace(strings.ToUpper(rgA[1:]), "RESOURCEGROUPS", "resourcegroups", 1)
	tests := []struct {
		name  string
		uri   string // the assignment's scope in the URI
		scope any
		code  string // "" for accepted
	}{
		{"absent", rgA, nil, ""},
		{"empty", rgA, "", ""},
		{"same", rgA, rgA, ""},
		{"other case", rgA, upper, ""},
		{"trailing slash", rgA, rgA + "/", "InvalidCreateRoleAssignmentRequest"},
		{"the subscription above", rgA, rbSub, "InvalidCreateRoleAssignmentRequest"},
		{"a resource below", rgA, rbWS, "InvalidCreateRoleAssignmentRequest"},
		{"another group", rgA, rbSub + "/resourceGroups/other", "InvalidCreateRoleAssignmentRequest"},
		{"the root", rgA, "/", "InvalidCreateRoleAssignmentRequest"},
		{"not an id", rgA, "Microsoft.ContainerRegistry/registries/myacr", "InvalidCreateRoleAssignmentRequest"},
		{"root in both", "", "/", ""},
		{"group from the root", "", rgA, "InvalidCreateRoleAssignmentRequest"},
		{"not a string", rgA, 42, arm.CodeInvalidRequestContent},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("00000000-0000-0000-0000-%012d", 100+i)
			path := tt.uri + raPath + name
			body := withScope(tt.scope)
			if tt.scope == nil {
				body = assignmentBody(authz.RoleReader, alice)
			}
			_, err := v.call(http.MethodPut, path, "", body)
			if got := errCodeOf(err); got != tt.code {
				t.Fatalf("PUT %s with scope %v: %q (%v), want %q", path, tt.scope, got, err, tt.code)
			}
			if tt.code == "InvalidCreateRoleAssignmentRequest" {
				uriScope := tt.uri
				if uriScope == "" {
					uriScope = "/"
				}
				want := fmt.Sprintf("The request to create role assignment '%s' is not valid. Role assignment scope '%v' must match the scope specified on the URI '%s'.", name, tt.scope, uriScope)
				if ae, _ := arm.AsError(err); ae.Status != http.StatusBadRequest || ae.Message != want {
					t.Errorf("error = %d %q\nwant 400 %q", ae.Status, ae.Message, want)
				}
			}
			if tt.code != "" {
				if resp, err := v.call(http.MethodGet, path, "", ""); err == nil {
					t.Errorf("refused assignment was stored: %d", resp.Status)
				}
				return
			}
			// Accepted: the stored assignment is at the URI's scope.
			if resp, err := v.call(http.MethodDelete, path, "", ""); err != nil || resp.Status != http.StatusOK {
				t.Errorf("DELETE: %v %v", resp, err)
			}
		})
	}
}
