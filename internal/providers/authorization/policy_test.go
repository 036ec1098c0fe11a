package authorization

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
)

func resourceIDOf(s string) (resourceid.ID, error) { return resourceid.Parse(s) }

const (
	polVer  = "2022-06-01"
	wsType  = "Microsoft.MachineLearningServices/workspaces"
	pnaDeny = "/providers/Microsoft.Authorization/policyDefinitions/438c38d2-3772-465a-a9cc-7a6666a275ce"
)

type polWorkspaces struct{}

func (polWorkspaces) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

// polEnv is the authorization test env with built-in policies and a
// stand-in tracked workspace type and compute child type.
func polEnv(t testing.TB) *env {
	v := newEnv(t)
	v.e.Registry().Register(&engine.Type{Name: wsType, APIVersions: []string{"2023-04-01"}, Tracked: true,
		Put: engine.Sync, Delete: engine.Sync, Strategy: polWorkspaces{}})
	v.e.Registry().Register(&engine.Type{Name: wsType + "/computes", APIVersions: []string{"2023-04-01"},
		Put: engine.Sync, Delete: engine.Sync, Strategy: polWorkspaces{}})
	if err := ImportBuiltInPolicies(context.Background(), v.e); err != nil {
		t.Fatal(err)
	}
	return v
}

func wsPath(name string) string { return rgA + "/providers/" + wsType + "/" + name }

func wsBody(pna string) string {
	return fmt.Sprintf(`{"location":"eastus","properties":{"publicNetworkAccess":%q}}`, pna)
}

func assign(v *env, scope, name, def, extra string) {
	v.t.Helper()
	v.must(tenantA, http.MethodPut, scope+"/providers/Microsoft.Authorization/policyAssignments/"+name, polVer,
		`{"properties":{"policyDefinitionId":"`+def+`"`+extra+`}}`, http.StatusCreated)
}

func TestPolicyDenyBuiltIn(t *testing.T) {
	v := polEnv(t)
	b := v.must(tenantA, http.MethodGet, pnaDeny, "2021-06-01", "", http.StatusOK)
	if props := b["properties"].(map[string]any); props["policyType"] != "BuiltIn" || props["mode"] != "Indexed" {
		t.Fatalf("built-in: %v", props)
	}
	v.fail(tenantA, http.MethodPut, pnaDeny, "2021-06-01", `{"properties":{"policyRule":{}}}`, http.StatusForbidden, codeBuiltInReadOnly)
	assign(v, rgA, "deny-pna", pnaDeny, `,"parameters":{"effect":{"value":"Deny"}}`)
	a := v.must(tenantA, http.MethodGet, rgA+"/providers/Microsoft.Authorization/policyAssignments/deny-pna", polVer, "", http.StatusOK)
	if a["properties"].(map[string]any)["scope"] != rgA || a["properties"].(map[string]any)["enforcementMode"] != "Default" {
		t.Fatalf("assignment: %v", a)
	}

	ctx, dec := decision.With(context.Background())
	resp, err := v.e.Serve(ctx, &engine.Request{Method: http.MethodPut, Path: wsPath("open"), APIVersion: "2023-04-01",
		Body: []byte(wsBody("Enabled")), Header: http.Header{}, Now: v.e.Now(), Caller: engine.Caller{TenantID: tenantA}})
	if err == nil {
		t.Fatalf("enabled workspace admitted: %d", resp.Status)
	}
	ae := err.(interface{ Error() string })
	if !strings.Contains(ae.Error(), "RequestDisallowedByPolicy: Resource 'open' was disallowed by policy.") {
		t.Fatalf("refusal: %v", err)
	}
	d := dec.List()
	if len(d) != 1 || d[0].Outcome != "denied" || !strings.Contains(d[0].Reason, "publicNetworkAccess") {
		t.Fatalf("decisions %+v", d)
	}
	ref := v.fail(tenantA, http.MethodPut, wsPath("open"), "2023-04-01", wsBody("Enabled"), http.StatusForbidden, CodeRequestDisallowedByPolicy)
	if ref.Target != "open" || len(ref.AdditionalInfo) != 1 || ref.AdditionalInfo[0].Type != "PolicyViolation" {
		t.Fatalf("refusal %+v", ref)
	}
	info, _ := json.Marshal(ref.AdditionalInfo[0].Info)
	for _, want := range []string{`"policyDefinitionEffect":"deny"`, `"policyAssignmentName":"deny-pna"`, `"path":"properties.publicNetworkAccess"`, `"operator":"NotEquals"`, `"expressionValue":"Enabled"`} {
		if !strings.Contains(string(info), want) {
			t.Fatalf("additionalInfo lacks %s: %s", want, info)
		}
	}
	v.fail(tenantA, http.MethodGet, wsPath("open"), "2023-04-01", "", http.StatusNotFound, "ResourceNotFound")
	v.must(tenantA, http.MethodPut, wsPath("closed"), "2023-04-01", wsBody("Disabled"), http.StatusCreated)
	// A PATCH that opens the workspace is refused too.
	v.fail(tenantA, http.MethodPatch, wsPath("closed"), "2023-04-01", `{"properties":{"publicNetworkAccess":"Enabled"}}`, http.StatusForbidden, CodeRequestDisallowedByPolicy)
	// notScopes and DoNotEnforce lift the refusal.
	v.must(tenantA, http.MethodPut, rgA+"/providers/Microsoft.Authorization/policyAssignments/deny-pna", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`","parameters":{"effect":{"value":"Deny"}},"notScopes":["`+wsPath("exempt")+`"]}}`, http.StatusCreated)
	v.must(tenantA, http.MethodPut, wsPath("exempt"), "2023-04-01", wsBody("Enabled"), http.StatusCreated)
	v.must(tenantA, http.MethodPut, rgA+"/providers/Microsoft.Authorization/policyAssignments/deny-pna", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`","parameters":{"effect":{"value":"Deny"}},"enforcementMode":"DoNotEnforce"}}`, http.StatusCreated)
	v.must(tenantA, http.MethodPut, wsPath("open"), "2023-04-01", wsBody("Enabled"), http.StatusCreated)
}

// polStates POSTs a policyStates action at scope with a $filter.
func polStates(t *testing.T, v *env, scope, action, filter string) map[string]any {
	t.Helper()
	req := &engine.Request{Method: http.MethodPost, Path: scope + "/providers/Microsoft.PolicyInsights/policyStates/latest/" + action,
		APIVersion: "2019-10-01", Query: map[string][]string{"$filter": {filter}}, Header: http.Header{}, Now: v.e.Now(),
		Caller: engine.Caller{TenantID: tenantA}}
	r, err := v.e.Serve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return asJSON(t, r.Body)
}

func TestPolicyModifyAppendAndCompliance(t *testing.T) {
	v := polEnv(t)
	v.must(tenantA, http.MethodPut, "/subscriptions/"+subA+"/providers/Microsoft.Authorization/policyDefinitions/tag-env", "2021-06-01",
		`{"properties":{"mode":"Indexed","displayName":"env tag","parameters":{"v":{"type":"String","defaultValue":"dev"}},
		  "policyRule":{"if":{"field":"tags['env']","exists":false},"then":{"effect":"append","details":[{"field":"tags['env']","value":"[parameters('v')]"}]}}}}`, http.StatusCreated)
	assign(v, "/subscriptions/"+subA, "tag-env", "/subscriptions/"+subA+"/providers/Microsoft.Authorization/policyDefinitions/tag-env", "")
	assign(v, mgRoot+tenantA, "modify-pna", "/providers/Microsoft.Authorization/policyDefinitions/a10ee784-7409-4941-b091-663697637c0f", "")
	assign(v, rgA, "audit-pna", pnaDeny, "")
	b := v.must(tenantA, http.MethodPut, wsPath("w1"), "2023-04-01", wsBody("Enabled"), http.StatusCreated)
	if b["tags"].(map[string]any)["env"] != "dev" || b["properties"].(map[string]any)["publicNetworkAccess"] != "Disabled" {
		t.Fatalf("not appended/modified: %v", b)
	}
	// The audit assignment saw the modified workspace: compliant.
	if q := polStates(t, v, rgA, "queryResults", "complianceState eq 'NonCompliant'"); q["@odata.count"] != float64(0) {
		t.Fatalf("non-compliant states %v", q)
	}
	// Without the modify assignment the audit finds it non-compliant.
	v.must(tenantA, http.MethodDelete, mgRoot+tenantA+"/providers/Microsoft.Authorization/policyAssignments/modify-pna", polVer, "", http.StatusOK)
	v.must(tenantA, http.MethodPut, wsPath("w2"), "2023-04-01", wsBody("Enabled"), http.StatusCreated)
	// Unfiltered, the resource group's states hold both workspaces: w1
	// compliant with the audit, w2 not.
	audit := map[string]string{}
	for _, row := range v.must(tenantA, http.MethodPost, rgA+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", "2019-10-01", "", http.StatusOK)["value"].([]any) {
		m := row.(map[string]any)
		if strings.HasSuffix(m["policyAssignmentId"].(string), "/audit-pna") {
			audit[m["resourceId"].(string)] = m["complianceState"].(string)
		}
	}
	if len(audit) != 2 || audit[wsPath("w1")] != Compliant || audit[wsPath("w2")] != NonCompliant {
		t.Fatalf("audit states %v", audit)
	}
	req := &engine.Request{Method: http.MethodPost, Path: "/subscriptions/" + subA + "/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults",
		APIVersion: "2019-10-01", Query: map[string][]string{"$filter": {"complianceState eq 'NonCompliant'"}}, Header: http.Header{}, Now: v.e.Now(),
		Caller: engine.Caller{TenantID: tenantA}}
	r, err := v.e.Serve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	rows := asJSON(t, r.Body)["value"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["resourceId"] != wsPath("w2") || rows[0].(map[string]any)["policyDefinitionAction"] != "audit" {
		t.Fatalf("rows %v", rows)
	}
	req.Path = rgA + "/providers/Microsoft.PolicyInsights/policyStates/latest/summarize"
	r, err = v.e.Serve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	sum := asJSON(t, r.Body)["value"].([]any)[0].(map[string]any)["results"].(map[string]any)
	if sum["nonCompliantResources"] != float64(1) || sum["nonCompliantPolicies"] != float64(1) {
		t.Fatalf("summary %v", sum)
	}
	// Disabled workspaces become compliant after a change and a re-evaluation.
	v.must(tenantA, http.MethodPatch, wsPath("w2"), "2023-04-01", `{"properties":{"publicNetworkAccess":"Disabled"}}`, http.StatusOK)
	req.Path = "/subscriptions/" + subA + "/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation"
	if r, err := v.e.Serve(context.Background(), req); err != nil || r.Status != http.StatusAccepted {
		t.Fatalf("trigger: %v %v", r, err)
	}
	req.Path = "/subscriptions/" + subA + "/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults"
	r, _ = v.e.Serve(context.Background(), req)
	if n := asJSON(t, r.Body)["@odata.count"]; n != float64(0) {
		t.Fatalf("after fix: %v", asJSON(t, r.Body))
	}
	req.Query = map[string][]string{"$filter": {"resourceLocation eq 'x'"}}
	if _, err := v.e.Serve(context.Background(), req); err == nil {
		t.Fatal("unsupported filter accepted")
	}
}

// TestPolicyTriggerEvaluation changes a workspace's compliance only by
// assigning a policy after the workspace was written (assignments clear
// caches, they evaluate nothing), so only triggerEvaluation can bring the
// new state into queryResults and summarize.
func TestPolicyTriggerEvaluation(t *testing.T) {
	for name, scope := range map[string]string{"subscription": "/subscriptions/" + subA, "resourceGroup": rgA} {
		t.Run(name, func(t *testing.T) {
			v := polEnv(t)
			v.must(tenantA, http.MethodPut, wsPath("open"), "2023-04-01", wsBody("Enabled"), http.StatusCreated)
			assign(v, rgA, "audit-pna", pnaDeny, "")
			if q := polStates(t, v, scope, "queryResults", "complianceState eq 'NonCompliant'"); q["@odata.count"] != float64(0) {
				t.Fatalf("states before the trigger %v: the assignment evaluated, so this test no longer isolates triggerEvaluation", q)
			}
			r := v.must(tenantA, http.MethodPost, scope+"/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation", "2019-10-01", "", http.StatusAccepted)
			if len(r) != 0 {
				t.Errorf("triggerEvaluation answered a body %v", r)
			}
			q := polStates(t, v, scope, "queryResults", "complianceState eq 'NonCompliant'")
			rows := q["value"].([]any)
			if len(rows) != 1 || rows[0].(map[string]any)["resourceId"] != wsPath("open") ||
				!strings.HasSuffix(rows[0].(map[string]any)["policyAssignmentId"].(string), "/audit-pna") {
				t.Fatalf("states after the trigger %v", q)
			}
			sum := polStates(t, v, scope, "summarize", "complianceState eq 'NonCompliant'")["value"].([]any)[0].(map[string]any)["results"].(map[string]any)
			if sum["nonCompliantResources"] != float64(1) {
				t.Fatalf("summary after the trigger %v", sum)
			}
		})
	}
}

func TestPolicyAuditIfNotExists(t *testing.T) {
	v := polEnv(t)
	assign(v, rgA, "cmk", "/providers/Microsoft.Authorization/policyDefinitions/7f40cee6-e933-4d0f-a782-b96615e0f4a6", "")
	v.must(tenantA, http.MethodPut, wsPath("plain"), "2023-04-01", wsBody("Disabled"), http.StatusCreated)
	v.must(tenantA, http.MethodPut, wsPath("cmk"), "2023-04-01", `{"location":"eastus","properties":{"encryption":{"status":"Enabled"}}}`, http.StatusCreated)
	q := v.must(tenantA, http.MethodPost, rgA+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", "2019-10-01", "", http.StatusOK)
	states := map[string]string{}
	for _, r := range q["value"].([]any) {
		m := r.(map[string]any)
		states[m["resourceId"].(string)] = m["complianceState"].(string)
	}
	if states[wsPath("plain")] != NonCompliant || states[wsPath("cmk")] != Compliant {
		t.Fatalf("states %v", states)
	}
	// Deleting the resource drops its states.
	v.must(tenantA, http.MethodDelete, wsPath("plain"), "2023-04-01", "", http.StatusOK)
	q = v.must(tenantA, http.MethodPost, rgA+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", "2019-10-01", "", http.StatusOK)
	if q["@odata.count"] != float64(1) {
		t.Fatalf("after delete %v", q)
	}
}

func TestPolicySetDefinition(t *testing.T) {
	v := polEnv(t)
	set := "/subscriptions/" + subA + "/providers/Microsoft.Authorization/policySetDefinitions/ml"
	v.must(tenantA, http.MethodPut, set, "2021-06-01", `{"properties":{"displayName":"ML","parameters":{"eff":{"type":"String","defaultValue":"Deny"}},
		"policyDefinitions":[{"policyDefinitionId":"`+pnaDeny+`","policyDefinitionReferenceId":"pna","parameters":{"effect":{"value":"[parameters('eff')]"}}}]}}`, http.StatusCreated)
	assign(v, rgA, "ml", set, "")
	e := v.fail(tenantA, http.MethodPut, wsPath("open"), "2023-04-01", wsBody("Enabled"), http.StatusForbidden, CodeRequestDisallowedByPolicy)
	if !strings.Contains(e.Message, `"policySetDefinition":{"name":"ml"`) {
		t.Fatalf("message %s", e.Message)
	}
	v.fail(tenantA, http.MethodPut, set, "2021-06-01", `{"properties":{"policyDefinitions":[{"policyDefinitionId":"`+pnaDeny+`","parameters":{"effect":{"value":"[parameters('nope')]"}}}]}}`, http.StatusBadRequest, "UndefinedPolicyParameter")
}

func TestPolicyErrors(t *testing.T) {
	v := polEnv(t)
	defs := "/subscriptions/" + subA + "/providers/Microsoft.Authorization/policyDefinitions/"
	for _, c := range []struct{ rule, code string }{
		{`{"if":{"field":"name","equalz":"x"},"then":{"effect":"deny"}}`, "InvalidPolicyRule"},
		{`{"if":{"field":"Microsoft.MachineLearningServices/workspaces/nope","equals":"x"},"then":{"effect":"deny"}}`, "InvalidPolicyAlias"},
		{`{"if":{"field":"name","equals":"x"},"then":{"effect":"explode"}}`, "InvalidPolicyEffect"},
		{`{"if":{"field":"name","equals":"x"},"then":{}}`, "InvalidPolicyRule"},
	} {
		v.fail(tenantA, http.MethodPut, defs+"bad", "2021-06-01", `{"properties":{"policyRule":`+c.rule+`}}`, http.StatusBadRequest, c.code)
	}
	v.fail(tenantA, http.MethodPut, rgA+"/providers/Microsoft.Authorization/policyDefinitions/x", "2021-06-01",
		`{"properties":{"policyRule":{"if":{"field":"name","equals":"x"},"then":{"effect":"deny"}}}}`, http.StatusBadRequest, codeInvalidPolicyScope)
	v.fail(tenantA, http.MethodPut, "/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`"}}`, http.StatusBadRequest, codeInvalidPolicyScope)
	v.fail(tenantA, http.MethodPut, mgRoot+"other/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`"}}`, http.StatusNotFound, codeManagementGroupMissing)
	v.fail(tenantA, http.MethodPut, rgA+"/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/00000000-0000-0000-0000-000000000000"}}`, http.StatusNotFound, codeDefinitionNotFound)
	v.fail(tenantA, http.MethodPut, rgA+"/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`","parameters":{"effect":{"value":"Explode"}}}}`, http.StatusBadRequest, "InvalidPolicyParameters")
	v.fail(tenantA, http.MethodPut, rgA+"/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`","notScopes":["not a scope"]}}`, http.StatusBadRequest, codeInvalidNotScopes)
	v.fail(tenantA, http.MethodPut, rgA+"/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`","enforcementMode":"Sometimes"}}`, http.StatusBadRequest, codeInvalidEnforcement)
	v.fail(tenantB, http.MethodPut, rgB+"/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"/subscriptions/`+subA+`/providers/Microsoft.Authorization/policyDefinitions/y"}}`, http.StatusBadRequest, codeDefinitionOutOfScope)
	v.fail(tenantA, http.MethodPut, "/subscriptions/"+subA+"/resourceGroups/nope/providers/Microsoft.Authorization/policyAssignments/x", polVer,
		`{"properties":{"policyDefinitionId":"`+pnaDeny+`"}}`, http.StatusNotFound, "ResourceGroupNotFound")
}

// BenchmarkAdmission measures a workspace PUT with 100 policy
// assignments in force (against one with none).
func BenchmarkAdmission(b *testing.B) {
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("assignments=%d", n), func(b *testing.B) {
			v := polEnv(b)
			for i := range n {
				scope := rgA
				if i%2 == 1 {
					scope = "/subscriptions/" + subA
				}
				v.must(tenantA, http.MethodPut, fmt.Sprintf("%s/providers/Microsoft.Authorization/policyAssignments/a%d", scope, i), polVer,
					`{"properties":{"policyDefinitionId":"`+pnaDeny+`","parameters":{"effect":{"value":"Deny"}}}}`, http.StatusCreated)
			}
			body := wsBody("Disabled")
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				v.must(tenantA, http.MethodPut, wsPath("w"), "2023-04-01", body, http.StatusOK+boolInt(i == 0))
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkAdmit measures the admission step alone (what Azure Policy adds
// to a write before the store) with 100 assignments in force, next to a
// GET of the same workspace through the engine.
func BenchmarkAdmit(b *testing.B) {
	v := polEnv(b)
	for i := range 100 {
		v.must(tenantA, http.MethodPut, fmt.Sprintf("%s/providers/Microsoft.Authorization/policyAssignments/a%d", rgA, i), polVer,
			`{"properties":{"policyDefinitionId":"`+pnaDeny+`","parameters":{"effect":{"value":"Deny"}}}}`, http.StatusCreated)
	}
	v.must(tenantA, http.MethodPut, wsPath("w"), "2023-04-01", wsBody("Disabled"), http.StatusCreated)
	r, err := v.e.Get(context.Background(), must(resourceIDOf(wsPath("w"))))
	if err != nil {
		b.Fatal(err)
	}
	// A second policies value over the same engine: its admit is the
	// admitter Register installed, with caches of its own.
	p := newPolicies(v.e)
	req := &engine.Request{Method: http.MethodPut, APIVersion: "2023-04-01", Now: v.e.Now(), Caller: engine.Caller{TenantID: tenantA}}
	b.Run("admit", func(b *testing.B) {
		for b.Loop() {
			if err := p.admit(context.Background(), req, r.Clone(), r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			v.must(tenantA, http.MethodGet, wsPath("w"), "2023-04-01", "", http.StatusOK)
		}
	})
}

// TestPolicyDeployIfNotExistsRecordsOnly holds the README's "deployIfNotExists
// records compliance only": a workspace without the related resource is
// written (never refused), shown NonCompliant, and nothing is deployed;
// with the related resource it is Compliant.
func TestPolicyDeployIfNotExistsRecordsOnly(t *testing.T) {
	v := polEnv(t)
	def := "/subscriptions/" + subA + "/providers/Microsoft.Authorization/policyDefinitions/dine"
	v.must(tenantA, http.MethodPut, def, "2021-06-01", `{"properties":{"mode":"Indexed","policyRule":{
		"if":{"field":"type","equals":"`+wsType+`"},
		"then":{"effect":"deployIfNotExists","details":{"type":"`+wsType+`/computes","roleDefinitionIds":["/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
			"deployment":{"properties":{"mode":"incremental","template":{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#","contentVersion":"1.0.0.0",
				"resources":[{"type":"`+wsType+`/computes","apiVersion":"2023-04-01","name":"ws/deployed","properties":{}}]}}}}}}}}`, http.StatusCreated)
	assign(v, rgA, "dine", def, "")
	v.must(tenantA, http.MethodPut, wsPath("ws"), "2023-04-01", wsBody("Enabled"), http.StatusCreated)
	q := v.must(tenantA, http.MethodPost, rgA+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", "2019-10-01", "", http.StatusOK)
	rows, _ := q["value"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["complianceState"] != NonCompliant {
		t.Fatalf("policy states %v, want the workspace NonCompliant", q)
	}
	list := v.must(tenantA, http.MethodGet, wsPath("ws")+"/computes", "2023-04-01", "", http.StatusOK)
	if got, _ := list["value"].([]any); len(got) != 0 {
		t.Fatalf("deployIfNotExists deployed %v", got)
	}
	// With the related resource there (made by the client), the workspace
	// is compliant once evaluated again.
	v.must(tenantA, http.MethodPut, wsPath("ws")+"/computes/mine", "2023-04-01", `{"properties":{}}`, http.StatusCreated)
	v.must(tenantA, http.MethodPost, "/subscriptions/"+subA+"/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation", "2019-10-01", "", http.StatusAccepted)
	q = v.must(tenantA, http.MethodPost, rgA+"/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", "2019-10-01", "", http.StatusOK)
	states := map[string]any{}
	for _, r := range q["value"].([]any) {
		m := r.(map[string]any)
		states[m["resourceId"].(string)] = m["complianceState"]
	}
	if states[wsPath("ws")] != Compliant {
		t.Fatalf("policy states %v, want the workspace Compliant once it has a compute", states)
	}
}

// TestPolicyDenyActionNotOnDelete holds the README's "denyAction is not
// applied to DELETE": a definition that would deny deleting workspaces is
// accepted, and the delete goes through.
func TestPolicyDenyActionNotOnDelete(t *testing.T) {
	v := polEnv(t)
	def := "/subscriptions/" + subA + "/providers/Microsoft.Authorization/policyDefinitions/keep"
	v.must(tenantA, http.MethodPut, def, "2021-06-01", `{"properties":{"mode":"Indexed","policyRule":{
		"if":{"field":"type","equals":"`+wsType+`"},
		"then":{"effect":"denyAction","details":{"actionNames":["delete"]}}}}}`, http.StatusCreated)
	assign(v, rgA, "keep", def, "")
	v.must(tenantA, http.MethodPut, wsPath("ws"), "2023-04-01", wsBody("Enabled"), http.StatusCreated)
	v.must(tenantA, http.MethodDelete, wsPath("ws"), "2023-04-01", "", http.StatusOK)
}
