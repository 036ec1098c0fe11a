package machinelearning

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

const (
	mnetWS      = "mnws"
	mnetRules   = wsBase + mnetWS + "/outboundRules"
	mnetNew     = "2025-04-01" // has the Provisioning and Deleting rule statuses
	mnetLinked  = `"storageAccount":"` + storageID + `","keyVault":"` + vaultID + `","containerRegistry":"` + acrID + `"`
	mnetFQDN    = `{"type":"FQDN","destination":"pypi.org"}`
	mnetPE      = `{"type":"PrivateEndpoint","destination":{"serviceResourceId":"` + storage2ID + `","subresourceTarget":"blob","sparkEnabled":true}}`
	mnetTag     = `{"type":"ServiceTag","destination":{"serviceTag":"AzureMonitor","protocol":"TCP","portRanges":"443","action":"Allow"}}`
	mnetApprove = `"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound"}`
)

// mnetWorkspace creates workspace mnetWS with the given properties (JSON
// members without braces).
func mnetWorkspace(v *env, props string) {
	v.t.Helper()
	v.createWorkspace(mnetWS, newest, `{"location":"eastus","properties":{`+props+`}}`)
}

// mnetRulesOf returns the workspace's outbound rules as a GET shows them.
func mnetRulesOf(v *env, apiVersion string) map[string]any {
	v.t.Helper()
	mn, _ := v.props(mnetWS, apiVersion)["managedNetwork"].(map[string]any)
	rules, _ := mn["outboundRules"].(map[string]any)
	return rules
}

// mnetPoll GETs the Location of a 202 and returns its status and body.
func mnetPoll(v *env, location string) (int, map[string]any) {
	v.t.Helper()
	resp, err := v.Serve(http.MethodGet, strings.TrimPrefix(location, "https://127.0.0.1:8443"), "", "")
	if err != nil {
		v.t.Fatalf("poll %s: %v", location, err)
	}
	return resp.Status, asJSON(v.t, resp.Body)
}

// mnetAccepted sends a request that must answer 202 with a Location.
func mnetAccepted(v *env, method, path, apiVersion, body string) string {
	v.t.Helper()
	resp, err := v.Serve(method, path, apiVersion, body)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusAccepted || loc == "" {
		v.t.Fatalf("%s %s: status %d, Location %q; want 202 with Location", method, path, resp.Status, loc)
	}
	return loc
}

// mnetAgree checks that the workspace GET and the outboundRules list and
// GETs show the same rules, and returns them.
func mnetAgree(v *env, apiVersion string) map[string]any {
	v.t.Helper()
	fromWS := mnetRulesOf(v, apiVersion)
	list := v.Must(http.MethodGet, mnetRules, apiVersion, "", http.StatusOK)
	fromList := map[string]any{}
	for _, item := range list["value"].([]any) {
		m := item.(map[string]any)
		name := m["name"].(string)
		if m["type"] != TypeOutboundRules || m["id"] != mnetRules+"/"+name {
			v.t.Errorf("list item envelope = %v", m)
		}
		fromList[name] = m["properties"]
		one := v.Must(http.MethodGet, mnetRules+"/"+name, apiVersion, "", http.StatusOK)
		if !reflect.DeepEqual(one["properties"], m["properties"]) {
			v.t.Errorf("GET %s = %v, list shows %v", name, one["properties"], m["properties"])
		}
	}
	if len(fromWS) != len(fromList) || (len(fromWS) > 0 && !reflect.DeepEqual(fromWS, fromList)) {
		v.t.Fatalf("workspace shows rules %v\noutboundRules shows %v", fromWS, fromList)
	}
	return fromWS
}

func mnetRule(t *testing.T, rules map[string]any, name string) map[string]any {
	t.Helper()
	r, ok := rules[name].(map[string]any)
	if !ok {
		t.Fatalf("rule %s missing from %v", name, rules)
	}
	return r
}

// TestManagedNetworkValidation covers every refusal: status, code, and
// the rule or member named.
func TestManagedNetworkValidation(t *testing.T) {
	approved := mnetApprove
	withRule := func(mode, name, rule string) string {
		return `"managedNetwork":{"isolationMode":"` + mode + `","outboundRules":{"` + name + `":` + rule + `}}`
	}
	put := func(props string) string { return `{"location":"eastus","properties":{` + props + `}}` }
	tests := []struct {
		name       string
		setup      string // workspace properties to create first; "" for none
		method     string
		path       string // below the workspace ("" is the workspace)
		version    string
		body       string
		wantStatus int
		wantCode   string
		wantInMsg  string
	}{
		{"bad isolationMode", "", http.MethodPut, "", newest, put(`"managedNetwork":{"isolationMode":"Open"}`),
			400, "InvalidRequestContent", "properties.managedNetwork.isolationMode"},
		{"FQDN rule in AllowInternetOutbound", "", http.MethodPut, "", newest, put(withRule("AllowInternetOutbound", "pypi", mnetFQDN)),
			400, arm.CodeUserError, "'pypi' is of type FQDN"},
		{"FQDN rule PUT in AllowInternetOutbound", `"managedNetwork":{"isolationMode":"AllowInternetOutbound"}`, http.MethodPut, "/outboundRules/pypi", newest,
			`{"properties":` + mnetFQDN + `}`, 400, arm.CodeUserError, "'pypi' is of type FQDN"},
		{"FQDN rule left behind by a mode change", withRule("AllowOnlyApprovedOutbound", "pypi", mnetFQDN), http.MethodPatch, "", newest,
			`{"properties":{"managedNetwork":{"isolationMode":"AllowInternetOutbound"}}}`, 400, arm.CodeUserError, "'pypi' is of type FQDN"},
		{"back to Disabled by PATCH", approved, http.MethodPatch, "", newest,
			`{"properties":{"managedNetwork":{"isolationMode":"Disabled"}}}`, 400, arm.CodeUserError, "back to Disabled"},
		{"back to Disabled by PUT", `"managedNetwork":{"isolationMode":"AllowInternetOutbound"}`, http.MethodPut, "", newest,
			put(`"managedNetwork":{"isolationMode":"Disabled"}`), 400, arm.CodeUserError, "from AllowInternetOutbound back to Disabled"},
		{"managed network removed by PATCH", approved, http.MethodPatch, "", newest,
			`{"properties":{"managedNetwork":null}}`, 400, arm.CodeUserError, "back to Disabled"},
		{"bad rule name in the workspace", "", http.MethodPut, "", newest, put(withRule("AllowOnlyApprovedOutbound", "x!", mnetFQDN)),
			400, arm.CodeUserError, "'x!' is invalid"},
		{"short rule name in the workspace", "", http.MethodPut, "", newest, put(withRule("AllowOnlyApprovedOutbound", "ab", mnetFQDN)),
			400, arm.CodeUserError, "'ab' is invalid"},
		{"bad rule name in the URL", approved, http.MethodPut, "/outboundRules/_bad", newest,
			`{"properties":` + mnetFQDN + `}`, 400, "InvalidResourceName", "'_bad'"},
		{"rules while Disabled", "", http.MethodPut, "", newest, put(withRule("Disabled", "pypi", mnetFQDN)),
			400, arm.CodeUserError, "'pypi' cannot be added"},
		{"rule PUT without a managed network", "", http.MethodPut, "/outboundRules/pypi", newest,
			`{"properties":` + mnetFQDN + `}`, 400, arm.CodeUserError, "has no managed network"},
		{"PrivateEndpoint without serviceResourceId", "", http.MethodPut, "", newest,
			put(withRule("AllowInternetOutbound", "pe-rule", `{"type":"PrivateEndpoint","destination":{"subresourceTarget":"blob"}}`)),
			400, arm.CodeUserError, "destination.serviceResourceId"},
		{"PrivateEndpoint without destination", approved, http.MethodPut, "/outboundRules/pe-rule", newest,
			`{"properties":{"type":"PrivateEndpoint"}}`, 400, arm.CodeUserError, "destination.serviceResourceId"},
		{"PrivateEndpoint to a non-ID", "", http.MethodPut, "", newest,
			put(withRule("AllowInternetOutbound", "pe-rule", `{"type":"PrivateEndpoint","destination":{"serviceResourceId":"store1","subresourceTarget":"blob"}}`)),
			400, "InvalidRequestContent", "serviceResourceId"},
		{"PrivateEndpoint without subresourceTarget", "", http.MethodPut, "", newest,
			put(withRule("AllowInternetOutbound", "pe-rule", `{"type":"PrivateEndpoint","destination":{"serviceResourceId":"`+storageID+`"}}`)),
			400, arm.CodeUserError, "destination.subresourceTarget"},
		{"ServiceTag without protocol", "", http.MethodPut, "", newest,
			put(withRule("AllowOnlyApprovedOutbound", "tag-rule", `{"type":"ServiceTag","destination":{"serviceTag":"AzureMonitor","portRanges":"443"}}`)),
			400, arm.CodeUserError, "destination.protocol"},
		{"ServiceTag without portRanges", approved, http.MethodPut, "/outboundRules/tag-rule", newest,
			`{"properties":{"type":"ServiceTag","destination":{"serviceTag":"AzureMonitor","protocol":"TCP"}}}`, 400, arm.CodeUserError, "destination.portRanges"},
		{"FQDN without destination", approved, http.MethodPut, "/outboundRules/pypi", newest,
			`{"properties":{"type":"FQDN"}}`, 400, arm.CodeUserError, "'pypi' needs a 'destination'"},
		{"unknown rule member", approved, http.MethodPut, "/outboundRules/pypi", newest,
			`{"properties":{"type":"FQDN","destination":"pypi.org","color":"red"}}`, 400, "InvalidRequestContent", "'color'"},
		{"rule PUT without properties", approved, http.MethodPut, "/outboundRules/pypi", newest,
			`{}`, 400, "InvalidRequestContent", "'properties'"},
		{"duplicate rule names", "", http.MethodPut, "", newest,
			put(`"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","outboundRules":{"pypi":` + mnetFQDN + `,"PyPI":` + mnetFQDN + `}}`),
			400, arm.CodeUserError, "same name"},
		{"deleting a Required rule", approved, http.MethodDelete, "/outboundRules/__SYS_ST_AzureActiveDirectory", newest, "",
			400, arm.CodeUserError, "'__SYS_ST_AzureActiveDirectory' is a Required rule"},
		{"deleting a Required rule by PATCH", `"storageAccount":"` + storageID + `",` + approved, http.MethodPatch, "", newest,
			`{"properties":{"managedNetwork":{"outboundRules":{"__SYS_PE_store1_blob":null}}}}`, 400, arm.CodeUserError, "cannot be deleted"},
		{"changing a Required rule", approved, http.MethodPatch, "", newest,
			`{"properties":{"managedNetwork":{"outboundRules":{"__SYS_ST_AzureResourceManager":{"type":"ServiceTag","destination":{"serviceTag":"AzureResourceManager","protocol":"TCP","portRanges":"1-65535"}}}}}}`,
			400, arm.CodeUserError, "cannot be changed"},
		{"provision without a managed network", "", http.MethodPost, "/provisionManagedNetwork", newest, "",
			400, arm.CodeUserError, "no managed network to provision"},
		{"provision with a bad body", approved, http.MethodPost, "/provisionManagedNetwork", newest, `{"includeSpark":"yes"}`,
			400, "InvalidRequestContent", "includeSpark"},
		{"PATCH of a rule", approved, http.MethodPatch, "/outboundRules/pypi", newest, `{}`,
			405, "MethodNotAllowed", "PATCH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			if tc.setup != "" {
				mnetWorkspace(v, tc.setup)
			} else if tc.path != "" {
				mnetWorkspace(v, `"description":"plain"`)
			}
			before := ""
			if tc.setup != "" || tc.path != "" {
				before = strings.Join(sortedKeys(mnetRulesOf(v, newest)), ",")
			}
			ae := v.Fail(tc.method, wsBase+mnetWS+tc.path, tc.version, tc.body, tc.wantStatus, tc.wantCode)
			if !strings.Contains(ae.Message, tc.wantInMsg) && !strings.Contains(ae.Target, tc.wantInMsg) {
				t.Errorf("error %q (target %q) does not mention %q", ae.Message, ae.Target, tc.wantInMsg)
			}
			if before != "" || tc.setup != "" {
				if after := strings.Join(sortedKeys(mnetRulesOf(v, newest)), ","); after != before {
					t.Errorf("a refused request changed the rules: %s -> %s", before, after)
				}
			}
		})
	}
}

// TestManagedNetworkRequiredRules checks the rules armlet adds, their
// category, and that they follow the workspace's configuration.
func TestManagedNetworkRequiredRules(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	mnetWorkspace(v, mnetLinked+`,"managedNetwork":{"isolationMode":"AllowInternetOutbound","outboundRules":{"storage2":`+mnetPE+`}}`)
	rules := mnetAgree(v, newest)
	wantPE := []string{"__SYS_PE_acr1_registry", "__SYS_PE_store1_blob", "__SYS_PE_store1_file", "__SYS_PE_vault1_vault"}
	if got := sortedKeys(rules); !reflect.DeepEqual(got, append(wantPE, "storage2")) {
		t.Fatalf("AllowInternetOutbound rules = %v", got)
	}
	blob := mnetRule(t, rules, "__SYS_PE_store1_blob")
	if blob["category"] != categoryRequired || blob["type"] != rulePrivateEndpoint ||
		blob["destination"].(map[string]any)["serviceResourceId"] != storageID || blob["destination"].(map[string]any)["subresourceTarget"] != "blob" {
		t.Errorf("required blob rule = %v", blob)
	}
	if c := mnetRule(t, rules, "storage2")["category"]; c != categoryUser {
		t.Errorf("user rule category = %v", c)
	}

	// AllowOnlyApprovedOutbound adds the service tag rules; a category sent
	// by the client is ignored.
	v.Must(http.MethodPatch, wsBase+mnetWS, newest, `{"properties":{"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound",
		"outboundRules":{"pypi":{"type":"FQDN","category":"Required","destination":"pypi.org"}}}}}`, http.StatusOK)
	rules = mnetAgree(v, newest)
	for _, tag := range []string{"AzureActiveDirectory", "AzureMachineLearning", "BatchNodeManagement.eastus", "AzureResourceManager", "AzureFrontDoor.FirstParty"} {
		r := mnetRule(t, rules, "__SYS_ST_"+strings.ReplaceAll(tag, ".", "_"))
		d := r["destination"].(map[string]any)
		if r["category"] != categoryRequired || d["serviceTag"] != tag || d["protocol"] != "TCP" || d["action"] != "Allow" {
			t.Errorf("required rule for %s = %v", tag, r)
		}
	}
	if c := mnetRule(t, rules, "pypi")["category"]; c != categoryUser {
		t.Errorf("a client's category was kept: %v", c)
	}
	if len(rules) != 4+5+2 {
		t.Errorf("rules = %v", sortedKeys(rules))
	}

	// A GET-modify-PUT round trip with the required rules passes.
	body := v.Must(http.MethodGet, wsBase+mnetWS, newest, "", http.StatusOK)
	p := body["properties"].(map[string]any)
	round := `{"location":"eastus","properties":{` + mnetLinked + `,"managedNetwork":` + string(mustJSON(p["managedNetwork"])) + `}}`
	v.Must(http.MethodPut, wsBase+mnetWS, newest, round, http.StatusAccepted)
	if got := sortedKeys(mnetAgree(v, newest)); !reflect.DeepEqual(got, sortedKeys(rules)) {
		t.Errorf("after a round trip: %v, want %v", got, sortedKeys(rules))
	}

	// A new container registry replaces its required rule.
	acr2 := rgPath + "/providers/Microsoft.ContainerRegistry/registries/acr2"
	v.Must(http.MethodPatch, wsBase+mnetWS, newest, `{"properties":{"containerRegistry":"`+acr2+`"}}`, http.StatusOK)
	rules = mnetAgree(v, newest)
	if _, old := rules["__SYS_PE_acr1_registry"]; old || rules["__SYS_PE_acr2_registry"] == nil {
		t.Errorf("after changing containerRegistry: %v", sortedKeys(rules))
	}
}

// TestManagedNetworkRuleStatus follows rule and network status through
// provisioning, a rule PUT and a rule DELETE, at 2024-04-01 (Active and
// Inactive only) and at 2025-04-01 (Provisioning, Deleting).
func TestManagedNetworkRuleStatus(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	mnetWorkspace(v, `"storageAccount":"`+storageID+`","managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","outboundRules":{"pypi":`+mnetFQDN+`}}`)
	statusOf := func(apiVersion, rule string) any {
		t.Helper()
		return mnetRule(t, mnetAgree(v, apiVersion), rule)["status"]
	}
	network := func() map[string]any {
		t.Helper()
		return v.props(mnetWS, newest)["managedNetwork"].(map[string]any)["status"].(map[string]any)
	}
	if st := network(); st["status"] != statusInactive || st["sparkReady"] != false {
		t.Errorf("network status before provisioning = %v", st)
	}
	for _, r := range []string{"pypi", "__SYS_PE_store1_blob"} {
		if s := statusOf(newest, r); s != statusInactive {
			t.Errorf("%s before provisioning: %v", r, s)
		}
	}

	// provisionManagedNetwork: 202, then {sparkReady, status Active}.
	loc := mnetAccepted(v, http.MethodPost, wsBase+mnetWS+"/provisionManagedNetwork", newest, `{"includeSpark":true}`)
	if st, _ := mnetPoll(v, loc); st != http.StatusAccepted {
		t.Errorf("provision poll while running: %d", st)
	}
	if s := statusOf(newest, "pypi"); s != statusInactive {
		t.Errorf("pypi while provisioning: %v", s)
	}
	if ps := v.props(mnetWS, newest)["provisioningState"]; ps != "Updating" {
		t.Errorf("workspace while provisioning: %v", ps)
	}
	v.Advance(2 * time.Second)
	st, res := mnetPoll(v, loc)
	if st != http.StatusOK || res["status"] != statusActive || res["sparkReady"] != true {
		t.Errorf("provision result = %d %v", st, res)
	}
	if st := network(); st["status"] != statusActive || st["sparkReady"] != true {
		t.Errorf("network status after provisioning = %v", st)
	}
	for _, r := range []string{"pypi", "__SYS_PE_store1_blob"} {
		if s := statusOf(newest, r); s != statusActive {
			t.Errorf("%s after provisioning: %v", r, s)
		}
	}
	if sp := mnetRule(t, mnetRulesOf(v, newest), "__SYS_PE_store1_blob")["destination"].(map[string]any)["sparkStatus"]; sp != statusActive {
		t.Errorf("sparkStatus of a spark-enabled rule = %v", sp)
	}

	// A rule PUT: Provisioning (2025-04-01) or Inactive (2024-04-01) until
	// its operation ends; the Location then answers an empty 200 (a rule
	// has no provisioningState for a poller to see it done), and a GET
	// gives the rule.
	loc = mnetAccepted(v, http.MethodPut, mnetRules+"/conda", newest, `{"properties":{"type":"FQDN","destination":"conda.anaconda.org","status":"Active","category":"UserDefined"}}`)
	if s := statusOf(newest, "conda"); s != statusInactive {
		t.Errorf("conda at %s while provisioning: %v", newest, s)
	}
	if s := statusOf(mnetNew, "conda"); s != statusProvisioning {
		t.Errorf("conda at %s while provisioning: %v", mnetNew, s)
	}
	if st, _ := mnetPoll(v, loc); st != http.StatusAccepted {
		t.Errorf("rule PUT poll while running: %d", st)
	}
	v.Advance(2 * time.Second)
	if st, res = mnetPoll(v, loc); st != http.StatusOK || len(res) != 0 {
		t.Errorf("rule PUT result = %d %v, want an empty 200", st, res)
	}
	res = v.Must(http.MethodGet, mnetRules+"/conda", newest, "", http.StatusOK)
	if res["name"] != "conda" || res["type"] != TypeOutboundRules ||
		res["properties"].(map[string]any)["status"] != statusActive || res["properties"].(map[string]any)["destination"] != "conda.anaconda.org" {
		t.Errorf("rule after its PUT = %v", res)
	}
	if s := statusOf(mnetNew, "conda"); s != statusActive {
		t.Errorf("conda after its operation: %v", s)
	}

	// A rule DELETE: Deleting (2025-04-01) until the operation ends, then
	// gone; the Location then gives 204.
	loc = mnetAccepted(v, http.MethodDelete, mnetRules+"/conda", newest, "")
	if s := statusOf(mnetNew, "conda"); s != statusDeleting {
		t.Errorf("conda at %s while deleting: %v", mnetNew, s)
	}
	if s := statusOf(newest, "conda"); s != statusActive {
		t.Errorf("conda at %s while deleting: %v", newest, s)
	}
	v.Advance(2 * time.Second)
	if st, _ := mnetPoll(v, loc); st != http.StatusNoContent {
		t.Errorf("rule DELETE result = %d", st)
	}
	if _, ok := mnetAgree(v, mnetNew)["conda"]; ok {
		t.Errorf("conda still shown after its delete")
	}
	v.Fail(http.MethodGet, mnetRules+"/conda", newest, "", http.StatusNotFound, "ResourceNotFound")
	if r := v.Must(http.MethodDelete, mnetRules+"/conda", newest, "", http.StatusNoContent); r != nil {
		t.Errorf("second delete body = %v", r)
	}
}

// TestManagedNetworkViewsAgree checks that the workspace and the
// outboundRules views agree after each kind of write.
func TestManagedNetworkViewsAgree(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	mnetWorkspace(v, `"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","outboundRules":{"pypi":`+mnetFQDN+`,"monitor":`+mnetTag+`}}`)
	rules := mnetAgree(v, newest)
	if rules["pypi"] == nil || rules["monitor"] == nil {
		t.Fatalf("after a workspace PUT: %v", sortedKeys(rules))
	}

	// An outboundRules PUT shows in the workspace at once, and replaces a
	// rule whose name differs only in case.
	mnetAccepted(v, http.MethodPut, mnetRules+"/storage2", newest, `{"properties":`+mnetPE+`}`)
	mnetAccepted(v, http.MethodPut, mnetRules+"/PYPI", newest, `{"properties":{"type":"FQDN","destination":"files.pythonhosted.org"}}`)
	rules = mnetAgree(v, newest)
	if mnetRule(t, rules, "storage2")["type"] != rulePrivateEndpoint || mnetRule(t, rules, "pypi")["destination"] != "files.pythonhosted.org" {
		t.Errorf("after outboundRules PUTs: %v", rules)
	}
	mnetAgree(v, mnetNew)
	v.Advance(2 * time.Second)
	mnetAgree(v, mnetNew)

	// An outboundRules DELETE.
	mnetAccepted(v, http.MethodDelete, mnetRules+"/monitor", newest, "")
	mnetAgree(v, mnetNew)
	v.Advance(2 * time.Second)
	if _, ok := mnetAgree(v, newest)["monitor"]; ok {
		t.Errorf("monitor still shown after its delete")
	}

	// A workspace PUT that omits outboundRules keeps them; one that lists
	// them replaces the user's rules.
	v.Must(http.MethodPut, wsBase+mnetWS, newest, `{"location":"eastus","properties":{`+mnetApprove+`}}`, http.StatusAccepted)
	if got := sortedKeys(mnetAgree(v, newest)); !slicesContain(got, "pypi") || !slicesContain(got, "storage2") {
		t.Errorf("a PUT without outboundRules lost rules: %v", got)
	}
	v.Must(http.MethodPut, wsBase+mnetWS, newest, `{"location":"eastus","properties":{"managedNetwork":{"outboundRules":{"monitor":`+mnetTag+`}}}}`, http.StatusAccepted)
	rules = mnetAgree(v, newest)
	if rules["pypi"] != nil || rules["storage2"] != nil || rules["monitor"] == nil {
		t.Errorf("a PUT with outboundRules: %v", sortedKeys(rules))
	}
	// The PUT kept the isolation mode it omitted.
	if m := v.props(mnetWS, newest)["managedNetwork"].(map[string]any)["isolationMode"]; m != isolationApproved {
		t.Errorf("isolationMode = %v", m)
	}
}

// TestManagedNetworkNotGated checks that outbound rules and provisioning
// are served while the workspace is in v1 legacy mode (they are the
// workspace's own configuration).
func TestManagedNetworkNotGated(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	mnetWorkspace(v, `"v1LegacyMode":true,`+mnetApprove)
	mnetAccepted(v, http.MethodPut, mnetRules+"/pypi", newest, `{"properties":`+mnetFQDN+`}`)
	mnetAccepted(v, http.MethodPost, wsBase+mnetWS+"/provisionManagedNetwork", newest, "")
	if rules := mnetAgree(v, newest); rules["pypi"] == nil {
		t.Errorf("rules = %v", rules)
	}
}

func slicesContain(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}
