package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/netmodel"
)

func TestBuildAccess(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	ws := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
	allowed := decision.Decision{Kind: "rbac", Outcome: "allowed", Action: "Microsoft.MachineLearningServices/workspaces/read", Scope: ws,
		Reason: "role assignment ra1 (Reader) at /subscriptions/s/resourceGroups/rg grants */read",
		Refs:   []string{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/ra1"}}
	missing := decision.Decision{Kind: "rbac", Outcome: "denied", Action: "Microsoft.MachineLearningServices/workspaces/write", Scope: ws,
		Reason: "no role assignment of the caller grants Microsoft.MachineLearningServices/workspaces/write"}
	auditedRBAC := missing
	auditedRBAC.Outcome = "audited"
	policyDeny := decision.Decision{Kind: "policy", Outcome: "denied", Scope: ws,
		Reason: "policy assignment pa1 matched: field 'Microsoft.MachineLearningServices/workspaces/publicNetworkAccess' equals 'Enabled' is true",
		Refs:   []string{"/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/pa1"}}
	fl := func(oid, method, op string, status int, code string, ds ...decision.Decision) netmodel.Flow {
		t0 = t0.Add(time.Second)
		return netmodel.Flow{Time: t0, CallerObjectID: oid, CallerAppID: "app-" + oid, Method: method, Operation: op, ResourceID: ws, Status: status, ErrorCode: code, Decisions: ds}
	}
	flows := []netmodel.Flow{
		fl("b", "GET", "Microsoft.MachineLearningServices/workspaces/read", 200, "", allowed),
		fl("b", "PUT", "Microsoft.MachineLearningServices/workspaces/write", 403, "AuthorizationFailed", missing),
		fl("a", "PUT", "Microsoft.MachineLearningServices/workspaces/write", 403, "RequestDisallowedByPolicy", allowed, policyDeny),
		fl("a", "PUT", "Microsoft.MachineLearningServices/workspaces/write", 201, "", auditedRBAC),
		fl("a", "PUT", "Microsoft.MachineLearningServices/workspaces/write", 400, "InvalidRequestContent"),
		fl("a", "DELETE", "Microsoft.MachineLearningServices/workspaces/delete", 403, "AuthorizationFailed"),
		{Time: t0, CallerAppID: "c", Method: "POST", Operation: "Microsoft.AAD/token/action", Status: 200}, // token: no caller yet
	}
	type row struct{ principal, outcome, trail string }
	tests := []struct {
		name string
		f    AccessFilter
		want []row
	}{
		{name: "all", want: []row{
			{"a", AccessDenied, "RBAC allowed Microsoft.MachineLearningServices/workspaces/read at " + ws + ": role assignment ra1 (Reader)"},
			{"a", AccessAudited, "RBAC audited Microsoft.MachineLearningServices/workspaces/write at " + ws + ": no role assignment"},
			{"a", AccessFailed, "no access decision was recorded for this request; it was refused with 400 InvalidRequestContent"},
			{"a", AccessDenied, "no access decision was recorded for this request; it was refused with 403 AuthorizationFailed"},
			{"b", AccessAllowed, "RBAC allowed Microsoft.MachineLearningServices/workspaces/read"},
			{"b", AccessDenied, "RBAC denied Microsoft.MachineLearningServices/workspaces/write at " + ws + ": no role assignment of the caller grants Microsoft.MachineLearningServices/workspaces/write"},
		}},
		{name: "principal by object id", f: AccessFilter{Principal: "B"}, want: []row{
			{"b", AccessAllowed, "RBAC allowed"}, {"b", AccessDenied, "RBAC denied"},
		}},
		{name: "principal by app id", f: AccessFilter{Principal: "app-b", DeniedOnly: true}, want: []row{{"b", AccessDenied, "RBAC denied"}}},
		{name: "denied only", f: AccessFilter{DeniedOnly: true}, want: []row{
			{"a", AccessDenied, "RBAC allowed"}, {"a", AccessDenied, "no access decision"}, {"b", AccessDenied, "RBAC denied"},
		}},
		{name: "nobody", f: AccessFilter{Principal: "z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := BuildAccess(flows, tc.f, t0)
			var got []row
			for _, p := range r.Principals {
				denied := 0
				for _, e := range p.Entries {
					got = append(got, row{p.ObjectID, e.Outcome, strings.Join(e.Trail, " | ")})
					if e.Outcome == AccessDenied {
						denied++
					}
				}
				if p.Requests != len(p.Entries) || p.Denied != denied || p.AppID != "app-"+p.ObjectID {
					t.Errorf("principal %+v", p)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("rows = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i].principal != tc.want[i].principal || got[i].outcome != tc.want[i].outcome || !strings.HasPrefix(got[i].trail, tc.want[i].trail) {
					t.Errorf("row %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	// The policy denial names the policy and the expression that decided.
	r := BuildAccess(flows, AccessFilter{Principal: "a"}, t0)
	if tr := r.Principals[0].Entries[0].Trail; len(tr) != 2 || !strings.Contains(tr[1], "Policy denied at "+ws+": policy assignment pa1 matched: field") ||
		!strings.Contains(tr[1], "[/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/pa1]") {
		t.Errorf("policy trail = %q", tr)
	}
	r.Principals[0].Name = "alice" // as the admin API fills it in
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`PRINCIPAL a "alice" (app app-a): 4 request(s), 2 denied`, "403 RequestDisallowedByPolicy", "why: Policy denied at", "OUTCOME"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if b, _ := json.Marshal(BuildAccess(nil, AccessFilter{}, t0)); !strings.Contains(string(b), `"principals":[]`) {
		t.Errorf("empty report = %s", b)
	}
}
