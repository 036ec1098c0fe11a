package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// stateFixture is a realistic state made through the front door: a
// resource group, a virtual network with a subnet, a workspace with a
// private endpoint (its connection approved from the workspace side), a
// datastore and a workspace connection with credentials, a compute
// instance, a custom role definition, a role assignment for a principal,
// a custom policy definition and a policy assignment.
type stateFixture struct {
	rg, vnet, ws, pe, datastore, reader string
	principal                           e2e.Principal
}

// apiOf is the api-version the test uses for each kind of resource.
func apiOf(id string) string {
	lower := strings.ToLower(id)
	switch {
	case strings.Contains(lower, "/privatednszones/"):
		return "2020-06-01"
	case strings.Contains(lower, "/microsoft.network/"):
		return "2024-05-01"
	case strings.Contains(lower, "/roleassignments/"), strings.Contains(lower, "/roledefinitions/"):
		return "2022-04-01"
	case strings.Contains(lower, "/microsoft.authorization/policy"):
		return "2023-04-01"
	case strings.Contains(lower, "/microsoft.machinelearningservices/"):
		return "2024-04-01"
	}
	return "2021-04-01"
}

// statePut PUTs body at id and fails the test unless it is accepted.
func statePut(t *testing.T, a *e2e.Armlet, id, body string) {
	t.Helper()
	st, _, out := a.Do(t, http.MethodPut, id+"?api-version="+apiOf(id), body, nil)
	if st != http.StatusOK && st != http.StatusCreated && st != http.StatusAccepted {
		t.Fatalf("PUT %s: %d %s", id, st, out)
	}
}

func makeState(t *testing.T, a *e2e.Armlet) stateFixture {
	t.Helper()
	sub := "/subscriptions/" + a.Conn.SubscriptionID
	f := stateFixture{rg: sub + "/resourceGroups/state-rg"}
	f.vnet = f.rg + "/providers/Microsoft.Network/virtualNetworks/vnet1"
	f.ws = f.rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	f.pe = f.rg + "/providers/Microsoft.Network/privateEndpoints/pe1"
	f.datastore = f.ws + "/datastores/blob1"
	statePut(t, a, f.rg, `{"location":"eastus","tags":{"team":"data"}}`)
	statePut(t, a, f.vnet, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]},
		"subnets":[{"name":"pe-subnet","properties":{"addressPrefix":"10.1.1.0/24"}}]}}`)
	statePut(t, a, f.ws, `{"location":"eastus","identity":{"type":"SystemAssigned"},"properties":{"v1LegacyMode":false,"friendlyName":"state ws"}}`)
	a.Do(t, http.MethodPost, "/_armlet/clock/advance", `{"duration":"1m"}`, nil)
	statePut(t, a, f.pe, `{"location":"eastus","properties":{"subnet":{"id":"`+f.vnet+`/subnets/pe-subnet"},
		"manualPrivateLinkServiceConnections":[{"name":"conn","properties":{"privateLinkServiceId":"`+f.ws+`","groupIds":["amlworkspace"],"requestMessage":"please"}}]}}`)
	a.Do(t, http.MethodPost, "/_armlet/clock/advance", `{"duration":"1m"}`, nil)
	// Approve the manual connection from the workspace side: a state the
	// private endpoint alone would not make again.
	st, _, out := a.Do(t, http.MethodGet, f.ws+"/privateEndpointConnections?api-version=2024-04-01", "", nil)
	var conns struct{ Value []struct{ ID string } }
	if st != http.StatusOK || json.Unmarshal([]byte(out), &conns) != nil || len(conns.Value) != 1 {
		t.Fatalf("connections: %d %s", st, out)
	}
	statePut(t, a, conns.Value[0].ID, `{"properties":{"privateLinkServiceConnectionState":{"status":"Approved","description":"ok by the owner"}}}`)
	statePut(t, a, f.datastore, `{"properties":{"datastoreType":"AzureBlob","accountName":"acct","containerName":"c",
		"credentials":{"credentialsType":"AccountKey","secrets":{"secretsType":"AccountKey","key":"datastore-secret-key"}}}}`)
	statePut(t, a, f.ws+"/connections/git", `{"properties":{"category":"Git","authType":"PAT","target":"https://example.com/repo","credentials":{"pat":"connection-pat"}}}`)
	statePut(t, a, f.ws+"/computes/ci1", `{"location":"eastus","properties":{"computeType":"ComputeInstance","properties":{"vmSize":"STANDARD_DS3_V2"}}}`)
	statePut(t, a, f.ws+"/computes/vm1", `{"location":"eastus","properties":{"computeType":"VirtualMachine","resourceId":"`+f.rg+`/providers/Microsoft.Compute/virtualMachines/vm1",
		"properties":{"address":"10.0.0.9","sshPort":22,"administratorAccount":{"username":"azureuser","password":"vm-password"}}}}`)
	statePut(t, a, f.ws+"/onlineEndpoints/score", `{"location":"eastus","identity":{"type":"SystemAssigned"},"properties":{"authMode":"Key"}}`)
	statePut(t, a, f.ws+"/models/clf/versions/1", `{"properties":{"modelUri":"azureml://jobs/j/outputs/model","modelType":"mlflow_model"}}`)
	statePut(t, a, f.ws+"/environments/train/versions/1", `{"properties":{"image":"mcr.microsoft.com/azureml/base:latest"}}`)
	statePut(t, a, f.ws+"/jobs/train1", `{"properties":{"jobType":"Command","command":"python train.py","environmentId":"`+f.ws+`/environments/train/versions/1","computeId":"`+f.ws+`/computes/ci1"}}`)
	zone := f.rg + "/providers/Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms"
	statePut(t, a, zone, `{"location":"global"}`)
	statePut(t, a, f.pe+"/privateDnsZoneGroups/default", `{"properties":{"privateDnsZoneConfigs":[{"name":"api","properties":{"privateDnsZoneId":"`+zone+`"}}]}}`)
	a.Do(t, http.MethodPost, "/_armlet/clock/advance", `{"duration":"1m"}`, nil)

	role := sub + "/providers/Microsoft.Authorization/roleDefinitions/0f0f0f0f-1111-2222-3333-444444444444"
	statePut(t, a, role, `{"properties":{"roleName":"Workspace reader","type":"CustomRole","description":"reads workspaces",
		"assignableScopes":["`+sub+`"],"permissions":[{"actions":["Microsoft.MachineLearningServices/workspaces/read","Microsoft.Resources/subscriptions/resourceGroups/read"],"notActions":[]}]}}`)
	f.principal, _ = a.NewPrincipal(t, "state-reader")
	f.reader = f.rg + "/providers/Microsoft.Authorization/roleAssignments/5a5a5a5a-1111-2222-3333-444444444444"
	statePut(t, a, f.reader, `{"properties":{"roleDefinitionId":"`+role+`","principalId":"`+f.principal.ObjectID+`","principalType":"ServicePrincipal"}}`)
	def := sub + "/providers/Microsoft.Authorization/policyDefinitions/require-team-tag"
	statePut(t, a, def, `{"properties":{"displayName":"Require a team tag","mode":"Indexed",
		"policyRule":{"if":{"field":"tags['team']","exists":"false"},"then":{"effect":"audit"}}}}`)
	statePut(t, a, f.rg+"/providers/Microsoft.Authorization/policyAssignments/team-tag", `{"properties":{"displayName":"team tag","policyDefinitionId":"`+def+`"}}`)
	return f
}

// snapshot reads what a client sees of the state: every resource armlet
// stores (the engine's export names them) by GET at the test's
// api-version, the subnet and the network interface (parts of other
// resources), the secrets through listSecrets and listKeys, and whether
// the principal's role lets it read the workspace.
func snapshot(t *testing.T, a *e2e.Armlet, f stateFixture) map[string]string {
	t.Helper()
	all, err := a.Engine().Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	get := func(method, id, api string) {
		st, _, body := a.Do(t, method, id+"?api-version="+api, "", nil)
		out[method+" "+id] = normalized(t, st, body)
	}
	for _, x := range all {
		if x.ID.Len() == 1 || x.ID.Parent().IsRoot() {
			continue // subscriptions, the built-in policy definitions and the bootstrap's assignment
		}
		get(http.MethodGet, x.ID.String(), apiOf(x.ID.String()))
	}
	get(http.MethodGet, f.vnet+"/subnets/pe-subnet", "2024-05-01")
	var pe struct {
		Properties struct{ NetworkInterfaces []struct{ ID string } }
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(out["GET "+f.pe], "OK ")), &pe); err != nil || len(pe.Properties.NetworkInterfaces) != 1 {
		t.Fatalf("private endpoint: %s", out["GET "+f.pe])
	}
	get(http.MethodGet, pe.Properties.NetworkInterfaces[0].ID, "2024-05-01")
	get(http.MethodPost, f.datastore+"/listSecrets", "2024-04-01")
	get(http.MethodPost, f.ws+"/listKeys", "2024-04-01")
	get(http.MethodPost, f.ws+"/connections/git/listsecrets", "2024-04-01")
	get(http.MethodPost, f.ws+"/computes/vm1/listKeys", "2024-04-01")
	get(http.MethodPost, f.ws+"/onlineEndpoints/score/listKeys", "2024-04-01")
	st, _, _ := a.Do(t, http.MethodGet, f.ws+"?api-version=2024-04-01", "", map[string]string{"Authorization": "Bearer " + a.TokenOf(t, a.CredentialOf(t, f.principal))})
	out["reader may read the workspace"] = http.StatusText(st)
	return out
}

// normalized is a response as compared: its status and its JSON with the
// etags left out (revisions of the store, which an import cannot keep).
func normalized(t *testing.T, status int, body string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return http.StatusText(status) + " " + body
	}
	dropETags(v)
	b, _ := json.Marshal(v)
	return http.StatusText(status) + " " + string(b)
}

func dropETags(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "etag")
		for _, e := range v {
			dropETags(e)
		}
	case []any:
		for _, e := range v {
			dropETags(e)
		}
	}
}

// TestExportResetImport makes a realistic state on bbolt, exports it,
// resets armlet, checks that everything is gone and the bootstrap
// principal can still do everything, imports the export and finds every
// resource as it was: the same GET bodies (systemData, generated ids and
// addresses, the connection approved by the workspace owner), the same
// secrets and keys, the role assignment in force again.
func TestExportResetImport(t *testing.T) {
	t.Parallel()
	a := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.InMemory = false }))
	f := makeState(t, a)
	before := snapshot(t, a, f)
	if before["reader may read the workspace"] != "OK" {
		t.Fatalf("the role assignment does not let the reader read the workspace: %s", before["reader may read the workspace"])
	}

	st, _, exported := a.Do(t, http.MethodGet, "/_armlet/export?includePrincipals=true", "", nil)
	if st != http.StatusOK {
		t.Fatalf("export: %d %s", st, exported)
	}
	for _, secret := range []string{"datastore-secret-key", "connection-pat", f.principal.ObjectID} {
		if !strings.Contains(exported, secret) {
			t.Errorf("the export does not carry %s", secret)
		}
	}
	var file app.Seed
	if err := json.Unmarshal([]byte(exported), &file); err != nil || len(file.Principals) != 1 || file.Principals[0].ClientID != f.principal.ClientID {
		t.Errorf("the export's principals are not the one made (the bootstrap one stays out): %v %+v", err, file.Principals)
	}
	if strings.Contains(exported, "438c38d2-3772-465a-a9cc-7a6666a275ce") {
		t.Errorf("the export carries armlet's own built-in policy definitions")
	}

	if st, _, body := a.Do(t, http.MethodPost, "/_armlet/reset", `{}`, nil); st != http.StatusBadRequest || !strings.Contains(body, `"confirm"`) {
		t.Fatalf("reset without confirmation: %d %s", st, body)
	}
	st, _, body := a.Do(t, http.MethodPost, "/_armlet/reset", `{"confirm":true}`, nil)
	if st != http.StatusOK || !strings.Contains(body, `"deleted":`) {
		t.Fatalf("reset: %d %s", st, body)
	}
	for key := range before {
		method, id, ok := strings.Cut(key, " ")
		if !ok || method != http.MethodGet {
			continue
		}
		if st, _, body := a.Do(t, http.MethodGet, id+"?api-version="+apiOf(id), "", nil); st != http.StatusNotFound {
			t.Errorf("after reset GET %s = %d %s", id, st, body)
		}
	}
	// The bootstrap principal can still do everything; the principal
	// still exists (its token works) but has no role any more.
	statePut(t, a, "/subscriptions/"+a.Conn.SubscriptionID+"/resourceGroups/after-reset", `{"location":"westus"}`)
	if st, _, body := a.Do(t, http.MethodDelete, "/subscriptions/"+a.Conn.SubscriptionID+"/resourceGroups/after-reset?api-version=2021-04-01", "", nil); st != http.StatusAccepted {
		t.Fatalf("delete after reset: %d %s", st, body)
	}
	if st, _, body := a.Do(t, http.MethodGet, "/_armlet/principals", "", nil); st != http.StatusOK || !strings.Contains(body, f.principal.ClientID) {
		t.Fatalf("principals after reset: %d %s", st, body)
	}

	st, _, body = a.Do(t, http.MethodPost, "/_armlet/import", exported, nil)
	if st != http.StatusOK {
		t.Fatalf("import: %d %s", st, body)
	}
	var res struct {
		Resources, Principals struct{ Created, Skipped []string }
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Resources.Created) == 0 || len(res.Principals.Skipped) != 1 {
		t.Fatalf("import result: %s", body)
	}
	after := snapshot(t, a, f)
	for k, want := range before {
		if got := after[k]; got != want {
			t.Errorf("%s after the round trip:\n got %s\nwant %s", k, got, want)
		}
	}
	if !reflect.DeepEqual(keys(before), keys(after)) {
		t.Errorf("resources before %v, after %v", keys(before), keys(after))
	}

	// Importing the same file again changes nothing.
	st, _, body = a.Do(t, http.MethodPost, "/_armlet/import", exported, nil)
	if err := json.Unmarshal([]byte(body), &res); st != http.StatusOK || err != nil || len(res.Resources.Created) != 0 {
		t.Fatalf("second import: %d %s", st, body)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestImportBadInput: a file armlet cannot import is refused with a 4xx
// ARM error naming the member at fault, and nothing of it is written:
// not when a check of the whole file fails before anything is written,
// and not when a resource is refused half-way (what was written before
// it is removed again).
func TestImportBadInput(t *testing.T) {
	t.Parallel()
	a := e2e.Start(t)
	sub := "/subscriptions/" + a.Conn.SubscriptionID
	rg := sub + "/resourceGroups/bad-rg"
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	goodRG := `{"id":"` + rg + `","location":"eastus"}`
	newPrincipal := `{"name":"seeded","clientId":"11111111-2222-3333-4444-555555555555","clientSecret":"s"}`
	tests := []struct {
		name, body      string
		status          int
		code, target    string
		messageMentions string
	}{
		{"not JSON", `{"resources": [`, 400, "InvalidRequestContent", "", ""},
		{"not an object", `[]`, 400, "InvalidRequestContent", "", "JSON object"},
		{"unknown member", `{"resource":[]}`, 400, "InvalidRequestContent", "resource", "resource"},
		{"resources not an array", `{"resources":{}}`, 400, "InvalidRequestContent", "resources", "array"},
		{"bad tenant", `{"tenantId":"mine","resources":[]}`, 400, "InvalidRequestContent", "tenantId", "GUID"},
		{"bad subscription", `{"subscriptions":[{"subscriptionId":""}],"resources":[]}`, 400, "InvalidRequestContent", "subscriptions[0].subscriptionId", ""},
		{"subscription member", `{"subscriptions":[{"id":"x"}],"resources":[]}`, 400, "InvalidRequestContent", "id", ""},
		{"bad principal", `{"principals":[{"name":"p","clientId":"nope","clientSecret":"s"}],"resources":[]}`, 400, "InvalidRequestContent", "principals[0].clientId", "GUID"},
		{"principal without secret", `{"principals":[{"name":"p","clientId":"11111111-2222-3333-4444-555555555555"}],"resources":[]}`, 400, "InvalidRequestContent", "principals[0].clientSecret", ""},
		{"principal twice", `{"principals":[` + newPrincipal + `,` + newPrincipal + `],"resources":[]}`, 400, "InvalidRequestContent", "principals[1].clientId", "twice"},
		{"no id", `{"resources":[{"location":"eastus"}]}`, 400, "InvalidRequestContent", "resources[0].id", "not a resource id"},
		{"bad id", `{"resources":[{"id":"rg1"}]}`, 400, "InvalidRequestContent", "resources[0].id", "not a resource id"},
		{"subscription as a resource", `{"resources":[{"id":"` + sub + `"}]}`, 400, "InvalidRequestContent", "resources[0].id", "subscriptions"},
		{"type not served", `{"resources":[` + goodRG + `,{"id":"` + rg + `/providers/Microsoft.Compute/virtualMachines/vm","location":"eastus"}]}`, 400, "InvalidRequestContent", "resources[1].id", "Microsoft.Compute/virtualMachines"},
		{"virtual type", `{"resources":[` + goodRG + `,{"id":"` + rg + `/providers/Microsoft.Network/virtualNetworks/v/subnets/s"}]}`, 400, "InvalidRequestContent", "resources[1].id", "parent's body"},
		{"bad api-version", `{"resources":[{"id":"` + rg + `","apiVersion":"1999-01-01","location":"eastus"}]}`, 400, "InvalidRequestContent", "resources[0].apiVersion", "2021-04-01"},
		{"bad internal", `{"resources":[{"id":"` + rg + `","location":"eastus","internal":{"secrets":1}}]}`, 400, "InvalidRequestContent", "resources[0].internal", "secrets"},
		{"given twice", `{"resources":[` + goodRG + `,` + goodRG + `]}`, 400, "InvalidRequestContent", "resources[1].id", "twice"},
		{"no parent", `{"resources":[{"id":"` + ws + `","location":"eastus"}]}`, 400, "InvalidRequestContent", "resources[0].id", rg},
		{"refused half-way", `{"principals":[` + newPrincipal + `],"subscriptions":[{"subscriptionId":"99999999-2222-3333-4444-555555555555"}],"resources":[` + goodRG + `,
			{"id":"` + ws + `","location":"eastus","properties":{"v1LegacyMod":false}}]}`, 400, "InvalidRequestContent", "resources[1].properties.v1LegacyMod", ws},
		{"bad location half-way", `{"resources":[` + goodRG + `,{"id":"` + ws + `","location":"mars"}]}`, 400, "LocationNotAvailableForResourceType", "resources[1]", "mars"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _, body := a.Do(t, http.MethodPost, "/_armlet/import", tt.body, nil)
			var e struct {
				Error struct{ Code, Message, Target string }
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || st != tt.status || e.Error.Code != tt.code ||
				!strings.HasPrefix(e.Error.Target, tt.target) || !strings.Contains(e.Error.Message, tt.messageMentions) {
				t.Errorf("import = %d %s, want %d %s at %s mentioning %q", st, body, tt.status, tt.code, tt.target, tt.messageMentions)
			}
			if st, _, _ := a.Do(t, http.MethodGet, rg+"?api-version=2021-04-01", "", nil); st != http.StatusNotFound {
				t.Errorf("the resource group of a refused file exists (%d)", st)
			}
		})
	}
	if st, _, body := a.Do(t, http.MethodGet, "/_armlet/principals", "", nil); st != http.StatusOK || strings.Contains(body, "seeded") {
		t.Errorf("a refused file's principal is there: %d %s", st, body)
	}
	if st, _, _ := a.Do(t, http.MethodGet, "/subscriptions/99999999-2222-3333-4444-555555555555?api-version=2022-12-01", "", nil); st != http.StatusNotFound {
		t.Errorf("a refused file's subscription is there: %d", st)
	}
}

// TestImportIntoAnotherArmlet exports one armlet's state, principals
// included, and imports it into another armlet, of another tenant: the
// resources at the first tenant's root management group land at the
// second's, the subscription comes along, and the principal logs in to
// the second armlet with its secret and has its role there.
func TestImportIntoAnotherArmlet(t *testing.T) {
	t.Parallel()
	a, b := e2e.Start(t), e2e.Start(t)
	sub := "/subscriptions/" + a.Conn.SubscriptionID
	rg := sub + "/resourceGroups/moving"
	mg := "/providers/Microsoft.Management/managementGroups/"
	statePut(t, a, rg, `{"location":"eastus"}`)
	statePut(t, a, mg+a.Conn.TenantID+"/providers/Microsoft.Authorization/policyAssignments/tenant-wide",
		`{"properties":{"displayName":"tenant wide","policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/438c38d2-3772-465a-a9cc-7a6666a275ce"}}`)
	p, _ := a.NewPrincipal(t, "mover")
	statePut(t, a, rg+"/providers/Microsoft.Authorization/roleAssignments/6b6b6b6b-1111-2222-3333-444444444444",
		`{"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"`+p.ObjectID+`"}}`)

	st, _, exported := a.Do(t, http.MethodGet, "/_armlet/export?includePrincipals=true", "", nil)
	if st != http.StatusOK {
		t.Fatalf("export: %d %s", st, exported)
	}
	if st, _, body := b.Do(t, http.MethodPost, "/_armlet/import", exported, nil); st != http.StatusOK {
		t.Fatalf("import into another armlet: %d %s", st, body)
	}
	if st, _, body := b.Do(t, http.MethodGet, mg+b.Conn.TenantID+"/providers/Microsoft.Authorization/policyAssignments/tenant-wide?api-version=2023-04-01", "", nil); st != http.StatusOK {
		t.Errorf("the assignment at the root management group did not move to this tenant's: %d %s", st, body)
	}
	st, _, body := b.Do(t, http.MethodGet, sub+"?api-version=2022-12-01", "", nil)
	if st != http.StatusOK || !strings.Contains(body, b.Conn.TenantID) {
		t.Errorf("the subscription in the other armlet: %d %s", st, body)
	}
	reader := "Bearer " + b.TokenOf(t, b.CredentialOf(t, p))
	if st, _, body := b.Do(t, http.MethodGet, rg+"?api-version=2021-04-01", "", map[string]string{"Authorization": reader}); st != http.StatusOK {
		t.Errorf("the imported principal reading its resource group: %d %s", st, body)
	}
}

// TestResetKeepsFlowsDropsOperations holds two promises of a reset: the
// flow records stay (the reports still show what happened before it),
// and the operation records go (a client polling an operation across the
// reset gets 404).
func TestResetKeepsFlowsDropsOperations(t *testing.T) {
	t.Parallel()
	a := e2e.Start(t)
	sub := "/subscriptions/" + a.Conn.SubscriptionID
	for _, rg := range []string{"kept-in-flows", "deleted-before-reset"} {
		if st, _, body := a.Do(t, http.MethodPut, sub+"/resourceGroups/"+rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", rg, st, body)
		}
	}
	st, hdr, body := a.Do(t, http.MethodDelete, sub+"/resourceGroups/deleted-before-reset?api-version=2021-04-01", "", nil)
	location, err := url.Parse(hdr.Get("Location"))
	if st != http.StatusAccepted || err != nil || location.Path == "" {
		t.Fatalf("DELETE: %d Location %q %s", st, hdr.Get("Location"), body)
	}
	poll := location.RequestURI()
	if st, _, body := a.Do(t, http.MethodGet, poll, "", nil); st == http.StatusNotFound {
		t.Fatalf("the operation before the reset: %d %s", st, body)
	}
	if st, _, body := a.Do(t, http.MethodPost, "/_armlet/reset", `{"confirm":true}`, nil); st != http.StatusOK {
		t.Fatalf("reset: %d %s", st, body)
	}
	if st, _, body := a.Do(t, http.MethodGet, poll, "", nil); st != http.StatusNotFound {
		t.Errorf("the operation after the reset: %d %s, want 404", st, body)
	}
	flows, _ := a.FlowRecords(t, "")
	kept := slices.ContainsFunc(flows, func(f netmodel.Flow) bool {
		return f.Method == http.MethodPut && strings.HasSuffix(f.Path, "/resourceGroups/kept-in-flows") && f.Status == http.StatusCreated
	})
	if !kept {
		t.Errorf("the flow records after the reset lack the PUT made before it (%d records)", len(flows))
	}
}

// TestImportAndResetSerialised proves README's "Import and reset are
// serialised on one replica": a reset sent while an import is writing
// waits for the import, so the outcome is the import then the reset,
// never a mix (some of the file's groups left, or the import failing for
// a parent the reset deleted under it).
func TestImportAndResetSerialised(t *testing.T) {
	t.Parallel()
	a := e2e.Start(t)
	const groups = 400 // enough that the import is still writing when the reset is sent
	sub := "/subscriptions/" + a.Conn.SubscriptionID
	name := func(i int) string { return fmt.Sprintf("serial-rg-%03d", i) }
	res := make([]map[string]any, groups)
	for i := range res {
		res[i] = map[string]any{"id": sub + "/resourceGroups/" + name(i), "location": "eastus"}
	}
	seed, _ := json.Marshal(map[string]any{"resources": res})

	type answer struct {
		status int
		body   string
		err    error
	}
	post := func(path string, body []byte) answer {
		req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(a.Conn.ARMEndpoint, "/")+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.Token(t))
		resp, err := a.Client.Do(req)
		if err != nil {
			return answer{err: err}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{status: resp.StatusCode, body: string(b)}
	}
	a.Token(t) // fetched here, so that the goroutine never needs t
	imported := make(chan answer, 1)
	go func() { imported <- post("/_armlet/import", seed) }()

	// Send the reset once the import has written its first group.
	first := sub + "/resourceGroups/" + name(0) + "?api-version=2021-04-01"
	for {
		if st, _, _ := a.Do(t, http.MethodGet, first, "", nil); st == http.StatusOK {
			break
		}
		select {
		case imp := <-imported:
			t.Fatalf("the import ended before its first group was seen (%d %s %v): the test proves nothing", imp.status, imp.body, imp.err)
		default:
		}
	}
	reset := post("/_armlet/reset", []byte(`{"confirm":true}`))
	imp := <-imported
	if imp.err != nil || imp.status != http.StatusOK {
		t.Fatalf("the import, with a reset sent while it wrote: %d %s %v", imp.status, imp.body, imp.err)
	}
	var ir struct{ Resources struct{ Created []string } }
	if err := json.Unmarshal([]byte(imp.body), &ir); err != nil || len(ir.Resources.Created) != groups {
		t.Fatalf("the import did not create its %d groups: %v %.300s", groups, err, imp.body)
	}
	if reset.err != nil || reset.status != http.StatusOK {
		t.Fatalf("reset: %d %s %v", reset.status, reset.body, reset.err)
	}
	var rr app.ResetResult
	if err := json.Unmarshal([]byte(reset.body), &rr); err != nil || rr.Deleted < groups {
		t.Errorf("the reset deleted %d resources, not the import's %d groups: it did not wait for the import (%v %s)", rr.Deleted, groups, err, reset.body)
	}
	st, _, body := a.Do(t, http.MethodGet, sub+"/resourcegroups?api-version=2021-04-01&$top=1000", "", nil)
	if st != http.StatusOK {
		t.Fatalf("list groups: %d %s", st, body)
	}
	if left := strings.Count(body, "/resourceGroups/serial-rg-"); left != 0 {
		t.Errorf("%d of the import's %d groups outlived the reset sent after it: the two mixed", left, groups)
	}
}
