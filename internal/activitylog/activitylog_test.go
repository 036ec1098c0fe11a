package activitylog

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/netmodel"
)

const (
	t0s = "2025-03-01T10:00:00Z"
	t1s = "2025-03-01T12:00:00Z"
)

func TestParseFilter(t *testing.T) {
	base := "eventTimestamp ge '" + t0s + "' and eventTimestamp le '" + t1s + "'"
	tests := []struct {
		name, in string
		want     Filter
		err      string // substring of the error; "" for success
	}{
		{name: "range", in: base, want: Filter{}},
		{name: "case-insensitive", in: "EVENTTIMESTAMP GE '" + t0s + "' AND eventtimestamp Le '" + t1s + "'", want: Filter{}},
		{name: "resource group", in: base + " and resourceGroupName eq 'rg1'", want: Filter{ResourceGroupName: "rg1"}},
		{name: "resource uri", in: base + " and resourceUri eq '/subscriptions/s/resourceGroups/rg'", want: Filter{ResourceURI: "/subscriptions/s/resourceGroups/rg"}},
		{name: "provider", in: base + " and resourceProvider eq 'Microsoft.MachineLearningServices'", want: Filter{ResourceProvider: "Microsoft.MachineLearningServices"}},
		{name: "correlation", in: base + " and correlationId eq 'abc'", want: Filter{CorrelationID: "abc"}},
		{name: "caller status levels", in: base + " and caller eq 'app' and status eq 'Failed' and levels eq 'Error,Warning'",
			want: Filter{Caller: "app", Status: "Failed", Levels: []string{"Error", "Warning"}}},
		{name: "quote escape", in: base + " and resourceGroupName eq 'it''s'", want: Filter{ResourceGroupName: "it's"}},
		{name: "value with and", in: base + " and caller eq 'a and b'", want: Filter{Caller: "a and b"}},
		{name: "empty", in: "", err: "required"},
		{name: "no end", in: "eventTimestamp ge '" + t0s + "'", err: "both"},
		{name: "reversed", in: "eventTimestamp ge '" + t1s + "' and eventTimestamp le '" + t0s + "'", err: "after"},
		{name: "too long", in: "eventTimestamp ge '2025-01-01T00:00:00Z' and eventTimestamp le '2025-04-02T00:00:00Z'", err: "90 days"},
		{name: "bad time", in: "eventTimestamp ge 'yesterday' and eventTimestamp le '" + t1s + "'", err: "ISO 8601"},
		{name: "gt", in: base + " and eventTimestamp gt '" + t0s + "'", err: "only ge and le"},
		{name: "unknown field", in: base + " and color eq 'red'", err: "not supported"},
		{name: "ne", in: base + " and status ne 'Failed'", err: "only eq"},
		{name: "or", in: base + " or status eq 'Failed'", err: "joined by 'and'"},
		{name: "unclosed", in: base + " and status eq 'Failed", err: "not closed"},
		{name: "twice", in: base + " and status eq 'Failed' and status eq 'Started'", err: "twice"},
		{name: "bad level", in: base + " and levels eq 'Loud'", err: "level"},
		{name: "dangling and", in: base + " and", err: "not valid"},
		{name: "unquoted", in: base + " and status eq Failed", err: "not valid"},
	}
	t0, _ := time.Parse(time.RFC3339, t0s)
	t1, _ := time.Parse(time.RFC3339, t1s)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFilter(tc.in)
			if tc.err != "" {
				ae, ok := arm.AsError(err)
				if !ok || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Message, tc.err) {
					t.Fatalf("ParseFilter(%q) = %v, want a 400 containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.in, err)
			}
			tc.want.From, tc.want.To = t0, t1
			if g, w := mustJSON(got), mustJSON(tc.want); g != w {
				t.Errorf("ParseFilter(%q) = %s, want %s", tc.in, g, w)
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	f.Add("eventTimestamp ge '" + t0s + "' and eventTimestamp le '" + t1s + "' and levels eq 'Error'")
	f.Add("caller eq 'it''s' and")
	f.Add("'")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := ParseFilter(s)
		if err != nil {
			if ae, ok := arm.AsError(err); !ok || ae.Status != http.StatusBadRequest {
				t.Fatalf("ParseFilter(%q) = %v, want nil or a 400", s, err)
			}
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

const sub = "00000000-0000-0000-0000-000000000001"

func mustParse(s string) resourceid.ID {
	id, err := resourceid.Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

func flowAt(t time.Time, method, path string, status int, ds ...decision.Decision) netmodel.Flow {
	p, err := resourceid.ParsePath(path)
	if err != nil {
		panic(err)
	}
	op, id := action.Of(method, p)
	f := netmodel.FlowOf(netmodel.Observation{
		Operation: op, Resource: id,
		Time: t, Service: netmodel.ServiceARM, Method: method, Path: path, Status: status, Class: netmodel.ARMPublic,
		CallerAppID: "app-1", CallerObjectID: "oid-1", CallerTenantID: "tid-1", CorrelationID: "corr-" + path,
		RequestID: "req-" + method + path + t.String(), ClientRequestID: "client-1", Decisions: ds,
	})
	return f
}

func TestEvents(t *testing.T) {
	t0, _ := time.Parse(time.RFC3339, t0s)
	ws := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
	deny := decision.Decision{Kind: "policy", Outcome: "denied", Action: "Microsoft.MachineLearningServices/workspaces/write", Scope: ws,
		Reason: "policy 'no-public' matched: field publicNetworkAccess equals 'Enabled'",
		Refs:   []string{"/subscriptions/" + sub + "/providers/Microsoft.Authorization/policyAssignments/a1", "/providers/Microsoft.Authorization/policyDefinitions/d1"}}
	allow := decision.Decision{Kind: "rbac", Outcome: "allowed", Refs: []string{"/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleAssignments/ra", "/providers/Microsoft.Authorization/roleDefinitions/b24988ac"}}
	tests := []struct {
		name string
		f    netmodel.Flow
		want []string // category/eventName/operation/status/level/subStatus per event
	}{
		{name: "read", f: flowAt(t0, "GET", ws, 200)},
		{name: "create", f: flowAt(t0, "PUT", ws, 201, allow), want: []string{
			"Administrative BeginRequest Microsoft.MachineLearningServices/workspaces/write Started Informational ",
			"Administrative EndRequest Microsoft.MachineLearningServices/workspaces/write Succeeded Informational Created (HTTP Status Code: 201)",
		}},
		{name: "accepted delete", f: flowAt(t0, "DELETE", ws, 202), want: []string{
			"Administrative BeginRequest Microsoft.MachineLearningServices/workspaces/delete Started Informational ",
			"Administrative EndRequest Microsoft.MachineLearningServices/workspaces/delete Accepted Informational Accepted (HTTP Status Code: 202)",
		}},
		{name: "action", f: flowAt(t0, "POST", ws+"/listKeys", 200), want: []string{
			"Administrative BeginRequest Microsoft.MachineLearningServices/workspaces/listKeys/action Started Informational ",
			"Administrative EndRequest Microsoft.MachineLearningServices/workspaces/listKeys/action Succeeded Informational OK (HTTP Status Code: 200)",
		}},
		{name: "policy deny", f: flowAt(t0, "PUT", ws, 403, deny), want: []string{
			"Administrative BeginRequest Microsoft.MachineLearningServices/workspaces/write Started Informational ",
			"Administrative EndRequest Microsoft.MachineLearningServices/workspaces/write Failed Error Forbidden (HTTP Status Code: 403)",
			"Policy EndRequest Microsoft.Authorization/policies/deny/action Failed Error ",
		}},
		{name: "policy audit", f: flowAt(t0, "PUT", ws, 200, decision.Decision{Kind: "policy", Outcome: "audited"}, decision.Decision{Kind: "policy", Outcome: "compliant"}), want: []string{
			"Administrative BeginRequest Microsoft.MachineLearningServices/workspaces/write Started Informational ",
			"Administrative EndRequest Microsoft.MachineLearningServices/workspaces/write Succeeded Informational OK (HTTP Status Code: 200)",
			"Policy EndRequest Microsoft.Authorization/policies/audit/action Succeeded Warning ",
		}},
		{name: "token", f: netmodel.FlowOf(netmodel.Observation{Time: t0, Service: netmodel.ServiceToken, Method: "POST", Path: "/t/oauth2/v2.0/token", Status: 200})},
		{name: "workspace endpoint", f: netmodel.FlowOf(netmodel.Observation{Time: t0, Service: netmodel.ServiceWorkspace, Class: netmodel.WorkspacePublic, Method: "POST", Path: "/history/v1.0" + ws + "/experiments/e/runs/r", Status: 200,
			Operation: "Microsoft.MachineLearningServices/workspaces/experiments/runs/write", Resource: mustParse(ws + "/experiments/e/runs/r")})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := Events(tc.f, Options{BaseURL: "https://armlet", Audience: "aud"})
			var got []string
			for _, e := range es {
				got = append(got, strings.Join([]string{e.Category.Value, e.EventName.Value, e.OperationName.Value, e.Status.Value, e.Level, e.SubStatus.Value}, " "))
				if e.CorrelationID != tc.f.CorrelationID || e.Caller != "app-1" || e.Claims["appid"] != "app-1" ||
					e.Claims[ClaimObjectID] != "oid-1" || e.Claims[ClaimTenantID] != "tid-1" || e.Claims["iss"] != "https://sts.windows.net/tid-1/" ||
					e.Claims["aud"] != "aud" || e.SubscriptionID != sub || e.TenantID != "tid-1" || e.ResourceGroupName != "rg" ||
					e.HTTPRequest.URI != "https://armlet"+tc.f.Path || e.HTTPRequest.ClientRequestID != "client-1" ||
					e.ResourceProviderName.Value != "Microsoft.MachineLearningServices" ||
					e.ResourceType.Value != "Microsoft.MachineLearningServices/workspaces" || !strings.HasPrefix(e.ID, ws+"/events/") {
					t.Errorf("event %s", mustJSON(e))
				}
			}
			if mustJSON(got) != mustJSON(tc.want) {
				t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.name == "policy deny" {
				p := es[2].Properties["policies"]
				if !strings.Contains(p, `"policyAssignmentId":"/subscriptions/`+sub+`/providers/Microsoft.Authorization/policyAssignments/a1"`) ||
					!strings.Contains(p, `"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/d1"`) ||
					!strings.Contains(p, `"policyDefinitionEffect":"Deny"`) || es[2].Properties["reason"] != deny.Reason {
					t.Errorf("policy event properties %v", es[2].Properties)
				}
			}
			if tc.name == "create" && es[1].Authorization.Role != allow.Refs[1] {
				t.Errorf("authorization = %+v", es[1].Authorization)
			}
		})
	}
}

// TestFilterMatch parses filters and matches them against the events of
// a refused create (Informational, Error, Error) and an audited one
// (Informational, Informational, Warning): each field keeps exactly the
// events it names.
func TestFilterMatch(t *testing.T) {
	t0, _ := time.Parse(time.RFC3339, t0s)
	ws := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
	denied := flowAt(t0, "PUT", ws, 403, decision.Decision{Kind: "policy", Outcome: "denied", Scope: ws})
	audited := flowAt(t0.Add(time.Minute), "PUT", ws+"2", 200, decision.Decision{Kind: "policy", Outcome: "audited"})
	var events []EventData
	for _, f := range []netmodel.Flow{denied, audited} {
		events = append(events, Events(f, Options{BaseURL: "https://armlet"})...)
	}
	if len(events) != 6 {
		t.Fatalf("%d events, want 6", len(events))
	}
	base := "eventTimestamp ge '" + t0s + "' and eventTimestamp le '" + t1s + "'"
	for _, tc := range []struct {
		name, filter string
		want         []string // level of each matching event, in order
	}{
		{"range only", base, []string{"Informational", "Error", "Error", "Informational", "Informational", "Warning"}},
		{"range after the refusal", "eventTimestamp ge '2025-03-01T10:00:30Z' and eventTimestamp le '" + t1s + "'", []string{"Informational", "Informational", "Warning"}},
		{"levels Error", base + " and levels eq 'Error'", []string{"Error", "Error"}},
		{"levels Warning", base + " and levels eq 'Warning'", []string{"Warning"}},
		{"levels Error,Warning", base + " and levels eq 'Error,Warning'", []string{"Error", "Error", "Warning"}},
		{"levels Informational", base + " and levels eq 'Informational'", []string{"Informational", "Informational", "Informational"}},
		{"levels Critical", base + " and levels eq 'Critical'", nil},
		{"status Failed", base + " and status eq 'Failed'", []string{"Error", "Error"}},
		{"resource", base + " and resourceUri eq '" + ws + "2'", []string{"Informational", "Informational", "Warning"}},
		{"correlation", base + " and correlationId eq '" + denied.CorrelationID + "'", []string{"Informational", "Error", "Error"}},
		{"other group", base + " and resourceGroupName eq 'other'", nil},
		{"other caller", base + " and caller eq 'nobody'", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range events {
				if f.Match(e, sub) {
					got = append(got, e.Level)
				}
			}
			if mustJSON(got) != mustJSON(tc.want) {
				t.Errorf("levels of the matching events %v, want %v", got, tc.want)
			}
		})
	}
	if f, _ := ParseFilter(base); f.Match(events[0], "00000000-0000-0000-0000-000000000002") {
		t.Error("an event of another subscription matched")
	}
}

// TestRoutePaging serves the route over a real engine and pages through
// 2 events per page while newer flows arrive between pages.
func TestRoutePaging(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry()})
	if err := e.EnsureSubscription(ctx, sub, "tid-1", "s"); err != nil {
		t.Fatal(err)
	}
	t0, _ := time.Parse(time.RFC3339, t0s)
	rgPath := func(i int) string { return "/subscriptions/" + sub + "/resourcegroups/rg" + string(rune('a'+i)) }
	var flows []netmodel.Flow
	for i := range 3 {
		flows = append(flows, flowAt(t0.Add(time.Duration(i)*time.Minute), "PUT", rgPath(i), 201))
	}
	rt := &Route{Engine: e, PageSize: 2, Flows: func(_ context.Context, ff netmodel.FlowFilter) ([]netmodel.Flow, error) {
		var out []netmodel.Flow
		for _, f := range flows {
			if ff.Match(f) {
				out = append(out, f)
			}
		}
		return out, nil
	}}
	path := "/subscriptions/" + sub + "/providers/Microsoft.Insights/eventtypes/management/values"
	get := func(query url.Values) (map[string]any, error) {
		p, err := resourceid.ParsePath(path)
		if err != nil {
			t.Fatal(err)
		}
		req := &engine.Request{Method: "GET", Path: path, Query: query, BaseURL: "https://armlet", Now: clk.Now()}
		req.APIVersion = req.QueryValue("api-version")
		resp, handled, err := rt.ServeRoute(ctx, req, p)
		if !handled {
			t.Fatal("not handled")
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(mustJSON(resp.Body)), &m); err != nil {
			t.Fatal(err)
		}
		return m, nil
	}
	q := url.Values{"api-version": {APIVersion}, "$filter": {"eventTimestamp ge '" + t0s + "' and eventTimestamp le '" + t1s + "'"},
		"$select": {"eventName,resourceId,status"}}
	var seen []string
	for page := 0; ; page++ {
		m, err := get(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range m["value"].([]any) {
			ev := v.(map[string]any)
			if len(ev) != 3 {
				t.Errorf("$select kept %v", ev)
			}
			seen = append(seen, ev["resourceId"].(string)[len(rgPath(0))-3:]+" "+ev["status"].(map[string]any)["value"].(string))
		}
		if page == 0 {
			// A newer flow arrives: later pages must not shift.
			flows = append(flows, flowAt(t0.Add(time.Hour), "PUT", rgPath(5), 201))
		}
		next, _ := m["nextLink"].(string)
		if next == "" {
			break
		}
		u, err := url.Parse(next)
		if err != nil || !strings.HasPrefix(next, "https://armlet"+path+"?") {
			t.Fatalf("nextLink %q", next)
		}
		q = u.Query()
	}
	want := "rgc Succeeded,rgc Started,rgb Succeeded,rgb Started,rga Succeeded,rga Started"
	if strings.Join(seen, ",") != want {
		t.Errorf("pages = %v\nwant %s", seen, want)
	}

	for _, tc := range []struct {
		query url.Values
		code  string
	}{
		{url.Values{"api-version": {"2020-01-01"}, "$filter": {q.Get("$filter")}}, arm.CodeInvalidAPIVersion},
		{url.Values{"api-version": {APIVersion}}, CodeBadFilter},
		{url.Values{"api-version": {APIVersion}, "$filter": {q.Get("$filter")}, "$select": {"color"}}, CodeBadFilter},
		{url.Values{"api-version": {APIVersion}, "$filter": {q.Get("$filter")}, "$skipToken": {"!!"}}, "InvalidSkipToken"},
	} {
		if _, err := get(tc.query); err == nil {
			t.Errorf("%v: no error", tc.query)
		} else if ae, ok := arm.AsError(err); !ok || ae.Code != tc.code {
			t.Errorf("%v: %v, want %s", tc.query, err, tc.code)
		}
	}
}
