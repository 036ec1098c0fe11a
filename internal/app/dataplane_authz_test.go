package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/netmodel"
)

// Secret values planted in the victim workspace's data plane: no refused
// request may show any of them.
var dpSecrets = []string{"VICTIM-ACCOUNT-KEY", "VICTIM-RUN-TAG", "VICTIM-ARTIFACT-BODY", "VICTIM-MODEL-URL"}

// dpFixture is armlet with two workspaces named ws1 (the victim's in
// victim-rg, the attacker's own in mine-rg), data in the victim's data
// plane, a private endpoint listener to the victim's workspace, and
// principals: nobody (no role at all) and attacker (AzureML Data
// Scientist on its own workspace only).
type dpFixture struct {
	s                 *e2e.Armlet
	victim, mine      string // workspace ids
	victimWSID        string // the victim's properties.workspaceId
	privateBase       string // https://{victim's private endpoint listener}
	nobody, attacker  e2e.Principal
	nobodyTok, attTok string
}

func newDPFixture(t *testing.T) *dpFixture {
	t.Helper()
	fake := &e2e.FakeEndpoints{}
	s := e2e.Start(t, e2e.WithApp(app.WithEndpointSource(fake.Source)))
	s.CreateWorkspace(t, "victim-rg", "ws1", false)
	s.CreateWorkspace(t, "mine-rg", "ws1", false)
	sub := s.Conn.SubscriptionID
	f := &dpFixture{s: s,
		victim: "/subscriptions/" + sub + "/resourceGroups/victim-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1",
		mine:   "/subscriptions/" + sub + "/resourceGroups/mine-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1",
	}
	code, _, body := s.Do(t, http.MethodGet, f.victim+"?api-version=2024-04-01", "", nil)
	var ws struct{ Properties struct{ WorkspaceID string } }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &ws) != nil || ws.Properties.WorkspaceID == "" {
		t.Fatalf("GET victim workspace: %d %s", code, body)
	}
	f.victimWSID = ws.Properties.WorkspaceID

	// The victim's data: a datastore with a key, a run with a tag, an
	// artifact, a model.
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/datastore/v1.0" + f.victim + "/datastores", `{"name":"secretstore","dataStoreType":"AzureBlob","azureStorageSection":{"accountName":"acct","containerName":"c","credentialType":"AccountKey","credential":"VICTIM-ACCOUNT-KEY"}}`},
		{"PUT", "/datastore/v1.0" + f.victim + "/default/secretstore", ``},
		{"PATCH", "/history/v1.0" + f.victim + "/experiments/e1/runs/r1", `{"status":"Running","tags":{"t":"VICTIM-RUN-TAG"}}`},
		{"POST", "/artifact/v2.0" + f.victim + "/artifacts/ExperimentRun/dcid.r1/content?path=outputs/secret.txt", `VICTIM-ARTIFACT-BODY`},
		{"POST", "/metric/v2.0" + f.victim + "/runs/r1/batchsync", `{"values":[{"name":"loss","value":[{"data":{"loss":1}}]}]}`},
		{"POST", "/modelmanagement/v1.0" + f.victim + "/models", `{"name":"m","url":"VICTIM-MODEL-URL"}`},
	} {
		if code, _, body := s.Do(t, w.method, w.path, w.body, nil); code/100 != 2 {
			t.Fatalf("seed %s %s: %d %s", w.method, w.path, code, body)
		}
	}

	pe := netmodel.Endpoint{
		ID:        enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Network/privateEndpoints/pe-victim"),
		PrivateIP: "10.1.0.5", GroupID: "amlworkspace", TargetID: enginetest.MustID(t, f.victim),
	}
	fake.Set(pe)
	f.privateBase = "https://" + s.WaitEndpoints(t, 1)[0].Address

	nobody, nc := s.NewPrincipal(t, "nobody")
	attacker, ac := s.NewPrincipal(t, "attacker")
	s.Assign(t, f.mine, "AzureML Data Scientist", attacker.ObjectID)
	f.nobody, f.attacker = nobody, attacker
	f.nobodyTok, f.attTok = s.TokenOf(t, nc), s.TokenOf(t, ac)
	return f
}

// send sends a request with token to base+path (path may carry a query).
func (f *dpFixture) send(t *testing.T, base, method, path, body, token string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+"/", rd)
	if err != nil {
		t.Fatal(err)
	}
	// The path is sent exactly as written: Opaque keeps escapes, dot
	// segments and doubled slashes that url.Parse would normalise.
	p, q, _ := strings.Cut(path, "?")
	req.URL.Opaque = "//" + req.URL.Host + p
	req.URL.RawQuery = q
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dpSpellings are ways to write the victim's scope S: each func gets the
// parts of S and returns a path prefix (service/version, then S).
func dpSpellings(f *dpFixture) map[string]func(svc string) string {
	sub := f.s.Conn.SubscriptionID
	join := func(parts ...string) string { return "/" + strings.Join(parts, "/") }
	s := func(subs, sub, rgs, rg, prov, ns, wss, ws string) []string {
		return []string{subs, sub, rgs, rg, prov, ns, wss, ws}
	}
	canon := s("subscriptions", sub, "resourceGroups", "victim-rg", "providers", "Microsoft.MachineLearningServices", "workspaces", "ws1")
	mineS := s("subscriptions", sub, "resourceGroups", "mine-rg", "providers", "Microsoft.MachineLearningServices", "workspaces", "ws1")
	with := func(i int, v string) []string {
		c := append([]string(nil), canon...)
		c[i] = v
		return c
	}
	encodeAll := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	}
	return map[string]func(string) string{
		"canonical":           func(svc string) string { return join(append([]string{svc}, canon...)...) },
		"encoded letter":      func(svc string) string { return join(append([]string{svc}, with(0, "%73ubscriptions")...)...) },
		"all letters encoded": func(svc string) string { return join(append([]string{svc}, with(0, encodeAll("subscriptions"))...)...) },
		"upper-case escape":   func(svc string) string { return join(append([]string{svc}, with(0, "%53UBSCRIPTIONS")...)...) },
		"encoded group":       func(svc string) string { return join(append([]string{svc}, with(3, encodeAll("victim-rg"))...)...) },
		"encoded workspace":   func(svc string) string { return join(append([]string{svc}, with(7, "%77%731")...)...) },
		"encoded namespace": func(svc string) string {
			return join(append([]string{svc}, with(5, "Microsoft.%4DachineLearningServices")...)...)
		},
		"encoded service":     func(svc string) string { return join(append([]string{encodeAll(svc[:3]) + svc[3:]}, canon...)...) },
		"upper case":          func(svc string) string { return strings.ToUpper(join(append([]string{svc}, canon...)...)) },
		"lower case":          func(svc string) string { return strings.ToLower(join(append([]string{svc}, canon...)...)) },
		"encoded slash":       func(svc string) string { return "/" + svc + "/subscriptions%2F" + sub + join(canon[2:]...) },
		"lower encoded slash": func(svc string) string { return "/" + svc + "/subscriptions%2f" + sub + join(canon[2:]...) },
		"dot segment":         func(svc string) string { return "/" + svc + "/." + join(canon...) },
		"encoded dot segment": func(svc string) string { return "/" + svc + "/%2E" + join(canon...) },
		"dot-dot from mine": func(svc string) string {
			return "/" + svc + join(mineS...) + "/../../../../../../../.." + join(canon...)
		},
		"encoded dot-dot": func(svc string) string {
			return "/" + svc + join(mineS[:3]...) + "/mine-rg/%2E%2E" + join(canon[3:]...)
		},
		"doubled slash":         func(svc string) string { return "/" + svc + "/subscriptions//" + sub + join(canon[2:]...) },
		"leading doubled slash": func(svc string) string { return "//" + svc + join(canon...) },
		"null byte":             func(svc string) string { return join(append([]string{svc}, with(7, "ws1%00")...)...) },
		"victim after mine":     func(svc string) string { return "/" + svc + join(mineS...) + join(canon...) },
		"victim encoded in name": func(svc string) string {
			return "/" + svc + join(mineS...) + "/" + url.PathEscape(join(canon...))
		},
	}
}

// dpOperations are data-plane requests on the victim's workspace, each
// given the prefix a spelling makes.
var dpOperations = []struct {
	name, method, svc, tail, body string
}{
	{"datastore with secret", "GET", "datastore/v1.0", "/datastores/secretstore?includeSecret=true", ""},
	{"datastore replace", "PUT", "datastore/v1.0", "/datastores/secretstore", `{"name":"secretstore","dataStoreType":"AzureBlob","azureStorageSection":{"accountName":"evil","containerName":"c","credential":"ATTACKER"}}`},
	{"datastores with secrets", "GET", "datastore/v1.0", "/datastores?includeSecret=true", ""},
	{"default datastore", "GET", "datastore/v1.0", "/default?IncludeSecret=TRUE", ""},
	{"datastore delete", "DELETE", "datastore/v1.0", "/datastores/secretstore", ""},
	{"run", "GET", "history/v1.0", "/experiments/e1/runs/r1", ""},
	{"run overwrite", "PATCH", "history/v1.0", "/experiments/e1/runs/r1", `{"tags":{"t":"ATTACKER"}}`},
	{"models", "GET", "modelmanagement/v1.0", "/models", ""},
	{"metrics", "GET", "metric/v2.0", "/runs/r1/full", ""},
	{"artifact", "GET", "artifact/v2.0", "/artifacts/ExperimentRun/dcid.r1/content?path=outputs/secret.txt", ""},
	{"artifact overwrite", "POST", "artifact/v2.0", "/artifacts/ExperimentRun/dcid.r1/content?path=outputs/secret.txt", "ATTACKER"},
}

// TestDataPlaneSpellingsFailClosed sends every data-plane operation on
// another principal's workspace, under every spelling of its path, as a
// principal without a role and as one whose role is on its own workspace
// only, on the public listener and through the victim's private endpoint:
// none is served, none shows a secret, nothing is changed, and the
// refusals are recorded under the victim's workspace.
func TestDataPlaneSpellingsFailClosed(t *testing.T) {
	t.Parallel()
	f := newDPFixture(t)
	public := strings.TrimSuffix(f.s.Conn.ARMEndpoint, "/")
	callers := []struct {
		name, tok, base string
	}{
		{"nobody public", f.nobodyTok, public},
		{"nobody private", f.nobodyTok, f.privateBase},
		{"attacker public", f.attTok, public},
	}
	spellings := dpSpellings(f)
	cases, forbidden := 0, 0
	for _, op := range dpOperations {
		for sname, spell := range spellings {
			path := spell(op.svc) + op.tail
			for _, c := range callers {
				cases++
				code, body := f.send(t, c.base, op.method, path, op.body, c.tok)
				if code/100 == 2 || code >= 500 {
					t.Errorf("%s: %s %s (%s): %d %s", c.name, op.method, path, sname, code, body)
				}
				switch code {
				case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
				case http.StatusForbidden:
					forbidden++
				default:
					t.Errorf("%s: %s %s (%s): status %d, want 400, 403, 404 or 405: %s", c.name, op.method, path, sname, code, body)
				}
				for _, secret := range dpSecrets {
					if strings.Contains(body, secret) {
						t.Errorf("%s: %s %s (%s) shows %s: %s", c.name, op.method, path, sname, secret, body)
					}
				}
			}
		}
	}
	if cases < 100*len(callers) || forbidden == 0 {
		t.Fatalf("%d cases, %d refused with 403", cases, forbidden)
	}

	// Nothing changed: the owner still sees the datastore's key and the
	// run's tag.
	code, _, body := f.s.Do(t, "GET", "/datastore/v1.0"+f.victim+"/datastores/secretstore?includeSecret=true", "", nil)
	if code != http.StatusOK || !strings.Contains(body, "VICTIM-ACCOUNT-KEY") || strings.Contains(body, "evil") {
		t.Errorf("victim datastore after the attempts: %d %s", code, body)
	}
	code, _, body = f.s.Do(t, "GET", "/history/v1.0"+f.victim+"/experiments/e1/runs/r1", "", nil)
	if code != http.StatusOK || !strings.Contains(body, "VICTIM-RUN-TAG") || strings.Contains(body, "ATTACKER") {
		t.Errorf("victim run after the attempts: %d %s", code, body)
	}
	code, _, body = f.s.Do(t, "GET", "/artifact/v2.0"+f.victim+"/artifacts/ExperimentRun/dcid.r1/content?path=outputs/secret.txt", "", nil)
	if code != http.StatusOK || body != "VICTIM-ARTIFACT-BODY" {
		t.Errorf("victim artifact after the attempts: %d %s", code, body)
	}

	// The refused spellings are on record under the victim's workspace,
	// with the operation and the RBAC decision: the access report and the
	// exposure report show them.
	flows, _ := f.s.FlowRecords(t, "?workspace="+url.QueryEscape(f.victim))
	var spelled *netmodel.Flow
	for i, fl := range flows {
		if strings.Contains(fl.Path, "%73ubscriptions") && strings.Contains(fl.Path, "/datastores/secretstore") &&
			fl.Method == "GET" && fl.CallerObjectID == f.nobody.ObjectID && fl.Class == netmodel.WorkspacePrivate {
			spelled = &flows[i]
		}
	}
	if spelled == nil {
		t.Fatalf("no flow record of the private %%73ubscriptions GET under %s", f.victim)
	}
	if spelled.Operation != "Microsoft.MachineLearningServices/workspaces/datastores/listSecrets/action" ||
		spelled.Workspace != f.victim || spelled.Status != http.StatusForbidden || len(spelled.Decisions) != 1 ||
		spelled.Decisions[0].Kind != "rbac" || spelled.Decisions[0].Outcome != "denied" || !strings.EqualFold(spelled.Decisions[0].Scope, f.victim) {
		t.Errorf("flow of the spelled request = %+v", *spelled)
	}
	code, _, body = f.s.Do(t, "GET", "/_armlet/reports/access?deniedOnly=true&principal="+f.nobody.ObjectID, "", nil)
	if code != http.StatusOK || !strings.Contains(body, `"operation":"Microsoft.MachineLearningServices/workspaces/datastores/listSecrets/action","resourceId":"`+f.victim+`/datastores/secretstore"`) {
		t.Errorf("access report of nobody: %d %.2000s", code, body)
	}
	w := f.s.Exposure(t, f.victim)
	found := false
	for _, p := range w.Public {
		if p.Operation == "Microsoft.MachineLearningServices/workspaces/datastores/listSecrets/action" && p.Statuses["403"] > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("exposure report of the victim misses the refused public listSecrets: %+v", w.Public)
	}
}

// TestDataPlaneSecretsNeedListSecrets: revealing a v1 datastore's secret
// needs Microsoft.MachineLearningServices/workspaces/datastores/
// listSecrets/action on every route, as the v2 listSecrets route does;
// Reader reads datastores without their secrets.
func TestDataPlaneSecretsNeedListSecrets(t *testing.T) {
	t.Parallel()
	f := newDPFixture(t)
	f.s.Assign(t, "/subscriptions/"+f.s.Conn.SubscriptionID+"/resourceGroups/victim-rg", "Reader", f.nobody.ObjectID)
	public := strings.TrimSuffix(f.s.Conn.ARMEndpoint, "/")
	ds := "/datastore/v1.0" + f.victim
	for _, path := range []string{
		ds + "/datastores/secretstore?includeSecret=true",
		ds + "/datastores?includeSecret=true",
		ds + "/default?includeSecret=true",
		ds + "/datastores/secretstore?INCLUDESECRET=True",
	} {
		code, body := f.send(t, public, "GET", path, "", f.nobodyTok)
		if code != http.StatusForbidden || !strings.Contains(body, "Microsoft.MachineLearningServices/workspaces/datastores/listSecrets/action") {
			t.Errorf("Reader GET %s: %d %s", path, code, body)
		}
	}
	// Asking twice is ambiguous: refused before anything is read.
	for _, path := range []string{
		ds + "/datastores/secretstore?includeSecret=false&IncludeSecret=true",
		ds + "/datastores/secretstore?includeSecret=true&includeSecret=false",
	} {
		code, body := f.send(t, public, "GET", path, "", f.nobodyTok)
		if code != http.StatusBadRequest || !strings.Contains(body, "InvalidRequestUri") || strings.Contains(body, "VICTIM") {
			t.Errorf("Reader GET %s: %d %s", path, code, body)
		}
	}
	for _, path := range []string{ds + "/datastores/secretstore", ds + "/datastores", ds + "/default", ds + "/datastores/secretstore?includeSecret=false"} {
		code, body := f.send(t, public, "GET", path, "", f.nobodyTok)
		if code != http.StatusOK || !strings.Contains(body, "secretstore") || strings.Contains(body, "VICTIM-ACCOUNT-KEY") {
			t.Errorf("Reader GET %s: %d %s", path, code, body)
		}
	}
	// The v2 route to a secret asks for the same permission.
	code, body := f.send(t, public, "POST", f.victim+"/datastores/workspaceblobstore/listSecrets?api-version=2024-04-01", "", f.nobodyTok)
	if code != http.StatusForbidden || !strings.Contains(body, "Microsoft.MachineLearningServices/workspaces/datastores/listSecrets/action") {
		t.Errorf("Reader POST v2 listSecrets: %d %s", code, body)
	}
	// A role with the action reveals it.
	f.s.Assign(t, f.victim, "AzureML Data Scientist", f.nobody.ObjectID)
	code, body = f.send(t, public, "GET", ds+"/datastores/secretstore?includeSecret=true", "", f.nobodyTok)
	if code != http.StatusOK || !strings.Contains(body, "VICTIM-ACCOUNT-KEY") {
		t.Errorf("Data Scientist GET with includeSecret: %d %s", code, body)
	}
}

// TestRBACCacheFollowsSpelledRolePaths: a custom role narrowed through a
// percent-encoded path takes effect at once, like one narrowed through
// the plain path (the cache is dropped by what was parsed, not by the
// path's text).
func TestRBACCacheFollowsSpelledRolePaths(t *testing.T) {
	t.Parallel()
	f := newDPFixture(t)
	sub := "/subscriptions/" + f.s.Conn.SubscriptionID
	role := "11111111-2222-3333-4444-555555555555"
	def := func(actions string) string {
		return `{"properties":{"roleName":"run reader","type":"CustomRole","assignableScopes":["` + sub + `"],` +
			`"permissions":[{"actions":[` + actions + `],"notActions":[],"dataActions":[],"notDataActions":[]}]}}`
	}
	if code, _, body := f.s.Do(t, "PUT", sub+"/providers/Microsoft.Authorization/roleDefinitions/"+role+"?api-version=2022-04-01",
		def(`"Microsoft.MachineLearningServices/workspaces/*/read"`), nil); code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("create role: %d %s", code, body)
	}
	assign := `{"properties":{"roleDefinitionId":"` + sub + `/providers/Microsoft.Authorization/roleDefinitions/` + role + `","principalId":"` + f.nobody.ObjectID + `"}}`
	if code, _, body := f.s.Do(t, "PUT", f.victim+"/providers/Microsoft.Authorization/roleAssignments/66666666-2222-3333-4444-555555555555?api-version=2022-04-01", assign, nil); code != http.StatusCreated {
		t.Fatalf("assign role: %d %s", code, body)
	}
	public := strings.TrimSuffix(f.s.Conn.ARMEndpoint, "/")
	run := "/history/v1.0" + f.victim + "/experiments/e1/runs/r1"
	if code, body := f.send(t, public, "GET", run, "", f.nobodyTok); code != http.StatusOK {
		t.Fatalf("GET run with the role: %d %s", code, body)
	}
	if code, body := f.send(t, public, "PUT", sub+"/providers/Microsoft.%41uthorization/role%44efinitions/"+role+"?api-version=2022-04-01",
		def(`"Microsoft.Resources/subscriptions/resourceGroups/read"`), f.s.Token(t)); code != http.StatusCreated {
		t.Fatalf("narrow role through an encoded path (201, as every role definition PUT): %d %s", code, body)
	}
	if code, body := f.send(t, public, "GET", run, "", f.nobodyTok); code != http.StatusForbidden {
		t.Errorf("GET run after the role lost the permission: %d %s", code, body)
	}
}

// TestARMSpellingsAuthorizeWhatIsServed: ARM requests are parsed once;
// every spelling of another's resource is checked against that resource,
// and a path that does not parse is refused.
func TestARMSpellingsAuthorizeWhatIsServed(t *testing.T) {
	t.Parallel()
	f := newDPFixture(t)
	public := strings.TrimSuffix(f.s.Conn.ARMEndpoint, "/")
	sub := f.s.Conn.SubscriptionID
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", f.victim, http.StatusForbidden},
		{"GET", "/%73ubscriptions/" + sub + "/resourceGroups/victim-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1", http.StatusForbidden},
		{"GET", "/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/VICTIM-RG/providers/microsoft.machinelearningservices/WORKSPACES/WS1", http.StatusForbidden},
		{"POST", f.victim + "/datastores/workspaceblobstore/list%53ecrets", http.StatusForbidden},
		{"POST", f.victim + "/listKeys", http.StatusForbidden},
		{"GET", "/subscriptions/" + sub + "/resourceGroups/victim-rg%2Fproviders/x", http.StatusBadRequest},
		{"GET", "/subscriptions/" + sub + "/resourceGroups/./victim-rg", http.StatusBadRequest},
		{"GET", "/subscriptions/" + sub + "/resourceGroups/mine-rg/../victim-rg", http.StatusBadRequest},
		{"GET", "/subscriptions/" + sub + "/resourceGroups//victim-rg", http.StatusBadRequest},
		{"GET", "/subscriptions/" + sub + "/resourceGroups/%zz", http.StatusBadRequest},
		{"DELETE", "/subscriptions/" + sub + "/resourceGroups/%76ictim-rg", http.StatusForbidden},
	} {
		code, body := f.send(t, public, tc.method, tc.path+"?api-version=2024-04-01", "", f.attTok)
		if code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, code, body, tc.status)
		}
	}
	// The victim's workspace is still there.
	if code, _, body := f.s.Do(t, "GET", "/subscriptions/"+sub+"/resourceGroups/victim-rg?api-version=2021-04-01", "", nil); code != http.StatusOK {
		t.Errorf("victim group: %d %s", code, body)
	}
}
