package machinelearning

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
)

const (
	hubID      = wsBase + "hub1"
	appInsID   = rgPath + "/providers/Microsoft.Insights/components/ai1"
	hubBody    = `{"location":"eastus","kind":"hub","properties":{"storageAccount":"` + storageID + `","keyVault":"` + vaultID + `","containerRegistry":"` + acrID + `","applicationInsights":"` + appInsID + `","workspaceHubConfig":{"defaultWorkspaceResourceGroup":"` + rgPath + `"},"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","outboundRules":{"pypi":{"type":"FQDN","category":"UserDefined","destination":"pypi.org"}}}}}`
	projectRef = `"hubResourceId":"` + hubID + `"`
)

// TestWorkspaceKinds covers each kind: its casing, the properties only
// it may set, and the api-versions that can create it.
func TestWorkspaceKinds(t *testing.T) {
	tests := []struct {
		name, apiVersion, body string
		kind                   string // the kind shown; "" when refused
		code, target           string
	}{
		{"absent is Default", newest, `{"location":"eastus"}`, "Default", "", ""},
		{"Default", "2018-11-19", `{"location":"eastus","kind":"DEFAULT"}`, "Default", "", ""},
		{"FeatureStore", "2023-04-01", `{"location":"eastus","kind":"featureStore"}`, "FeatureStore", "", ""},
		{"FeatureStore with settings", "2025-09-01", `{"location":"eastus","kind":"FeatureStore","properties":{"featureStoreSettings":{"computeRuntime":{"sparkRuntimeVersion":"3.4"},"onlineStoreConnectionName":"redis"}}}`, "FeatureStore", "", ""},
		{"FeatureStore before 2023-04-01", "2022-10-01", `{"location":"eastus","kind":"FeatureStore"}`, "", "UserError", "kind"},
		{"Hub", newest, `{"location":"eastus","kind":"Hub","properties":{"workspaceHubConfig":{"additionalWorkspaceStorageAccounts":["` + storage2ID + `"]}}}`, "Hub", "", ""},
		{"Hub at a preview without a model", "2023-08-01-preview", `{"location":"eastus","kind":"Hub"}`, "Hub", "", ""},
		{"Hub before 2024-04-01", "2023-10-01", `{"location":"eastus","kind":"Hub"}`, "", "UserError", "kind"},
		{"Hub at 2022-10-01-preview", "2022-10-01-preview", `{"location":"eastus","kind":"Hub"}`, "", "UserError", "kind"},
		{"unknown kind", newest, `{"location":"eastus","kind":"Lakehouse"}`, "", "UserError", "kind"},
		{"featureStoreSettings on a Hub", newest, `{"location":"eastus","kind":"Hub","properties":{"featureStoreSettings":{}}}`, "", "UserError", "properties.featureStoreSettings"},
		{"workspaceHubConfig on Default", newest, `{"location":"eastus","properties":{"workspaceHubConfig":{}}}`, "", "UserError", "properties.workspaceHubConfig"},
		{"hubResourceId on a FeatureStore", newest, `{"location":"eastus","kind":"FeatureStore","properties":{` + projectRef + `}}`, "", "UserError", "properties.hubResourceId"},
		{"Project without hubResourceId", newest, `{"location":"eastus","kind":"Project"}`, "", "UserError", "properties.hubResourceId"},
		{"Project of a missing hub", newest, `{"location":"eastus","kind":"Project","properties":{"hubResourceId":"` + wsBase + `nohub"}}`, "", "UserError", "properties.hubResourceId"},
		{"Project of a Default workspace", newest, `{"location":"eastus","kind":"Project","properties":{"hubResourceId":"` + wsBase + `plain"}}`, "", "UserError", "properties.hubResourceId"},
		{"Project with its own managed network", newest, `{"location":"eastus","kind":"Project","properties":{` + projectRef + `,"managedNetwork":{"isolationMode":"AllowInternetOutbound"}}}`, "", "UserError", "properties.managedNetwork"},
		{"Project with rules of its own", newest, `{"location":"eastus","kind":"Project","properties":{` + projectRef + `,"managedNetwork":{"outboundRules":{"x":{"type":"FQDN","destination":"x.org"}}}}}`, "", "UserError", "properties.managedNetwork"},
		{"Project", newest, `{"location":"eastus","kind":"project","properties":{` + projectRef + `}}`, "Project", "", ""},
	}
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("hub1", newest, hubBody)
	v.createWorkspace("plain", newest, `{"location":"eastus"}`)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.in(t)
			name := "kind" + string(rune('a'+i))
			if tt.kind == "" {
				v.Refuse(t, "refused", http.MethodPut, wsBase+name, tt.apiVersion, tt.body, http.StatusBadRequest, tt.code, tt.target)
				return
			}
			v.createWorkspace(name, tt.apiVersion, tt.body)
			if got := v.Must(http.MethodGet, wsBase+name, tt.apiVersion, "", http.StatusOK)["kind"]; got != tt.kind {
				t.Errorf("kind = %v, want %s", got, tt.kind)
			}
		})
	}
}

// TestProjectFromHub covers a project's resolution from its hub: the
// linked resources, the managed network and its rules, associatedWorkspaces
// and the hub's delete.
func TestProjectFromHub(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("hub1", newest, hubBody)
	v.createWorkspace("proj1", newest, `{"location":"eastus","kind":"Project","properties":{`+projectRef+`,"friendlyName":"one"}}`)
	v.createWorkspace("proj2", newest, `{"location":"eastus","kind":"Project","properties":{`+projectRef+`,"applicationInsights":"`+rgPath+`/providers/Microsoft.Insights/components/own"}}`)

	p := v.props("proj1", newest)
	for k, want := range map[string]string{"storageAccount": storageID, "keyVault": vaultID, "containerRegistry": acrID, "applicationInsights": appInsID, "hubResourceId": hubID} {
		if p[k] != want {
			t.Errorf("project %s = %v, want the hub's %s", k, p[k], want)
		}
	}
	if got := v.props("proj2", newest)["applicationInsights"]; !strings.HasSuffix(got.(string), "/own") {
		t.Errorf("a project's own applicationInsights was replaced: %v", got)
	}
	mn, _ := p["managedNetwork"].(map[string]any)
	if mn["isolationMode"] != "AllowOnlyApprovedOutbound" || enginetest.Walk(mn, "outboundRules", "pypi", "destination") != "pypi.org" {
		t.Errorf("project managedNetwork = %v, want the hub's", mn)
	}
	hub := v.props("hub1", newest)
	if !slices.Equal(hub["associatedWorkspaces"].([]any), []any{wsBase + "proj1", wsBase + "proj2"}) {
		t.Errorf("associatedWorkspaces = %v", hub["associatedWorkspaces"])
	}

	// A GET-modify-PUT of the project passes; hubResourceId cannot change.
	body := v.Must(http.MethodGet, wsBase+"proj1", newest, "", http.StatusOK)
	body["properties"].(map[string]any)["description"] = "round trip"
	resp, err := v.Serve(http.MethodPut, wsBase+"proj1", newest, string(mustJSON(body)))
	if err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("GET-modify-PUT of a project: %v %v", resp, err)
	}
	v.Advance(2 * time.Second)
	v.createWorkspace("hub2", newest, `{"location":"eastus","kind":"Hub"}`)
	v.Refuse(t, "move to another hub", http.MethodPut, wsBase+"proj1", newest, `{"location":"eastus","kind":"Project","properties":{"hubResourceId":"`+wsBase+`hub2"}}`, 400, "PropertyChangeNotAllowed", "properties.hubResourceId")
	v.Refuse(t, "PATCH hubResourceId", http.MethodPatch, wsBase+"proj1", newest, `{"properties":{"hubResourceId":"`+wsBase+`hub2"}}`, 400, "InvalidRequestContent", "properties.hubResourceId")
	v.Refuse(t, "kind change", http.MethodPut, wsBase+"proj1", newest, `{"location":"eastus","kind":"Hub"}`, 400, "PropertyChangeNotAllowed", "kind")

	// The project's outbound rules are the hub's, read-only.
	rules := v.Must(http.MethodGet, wsBase+"proj1/outboundRules", newest, "", http.StatusOK)
	if n := len(rules["value"].([]any)); n == 0 {
		t.Errorf("project lists no outbound rules")
	}
	v.Must(http.MethodGet, wsBase+"proj1/outboundRules/pypi", newest, "", http.StatusOK)
	v.Refuse(t, "rule PUT on a project", http.MethodPut, wsBase+"proj1/outboundRules/xyz", newest, `{"properties":{"type":"FQDN","destination":"x.org"}}`, 400, "UserError", "properties.managedNetwork")

	// A hub with projects cannot be deleted; once they are gone it can.
	v.Refuse(t, "hub delete", http.MethodDelete, hubID, newest, "", 409, "Conflict", "properties.associatedWorkspaces")
	for _, name := range []string{"proj1", "proj2"} {
		v.Must(http.MethodDelete, wsBase+name, newest, "", http.StatusAccepted)
	}
	v.Advance(2 * time.Second)
	if got := v.props("hub1", newest)["associatedWorkspaces"]; len(got.([]any)) != 0 {
		t.Errorf("associatedWorkspaces after the projects' delete = %v", got)
	}
	v.Must(http.MethodDelete, hubID, newest, "", http.StatusAccepted)
}

// TestProjectConnections covers the hub's shared connections in a
// project's list.
func TestProjectConnections(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("hub1", newest, hubBody)
	v.createWorkspace("proj1", newest, `{"location":"eastus","kind":"Project","properties":{`+projectRef+`}}`)
	conn := func(shared bool, target string) string {
		s := "false"
		if shared {
			s = "true"
		}
		return `{"properties":{"authType":"None","category":"Git","target":"` + target + `","isSharedToAll":` + s + `}}`
	}
	v.Must(http.MethodPut, hubID+"/connections/shared1", newest, conn(true, "https://hub/shared"), http.StatusOK)
	v.Must(http.MethodPut, hubID+"/connections/private1", newest, conn(false, "https://hub/private"), http.StatusOK)
	v.Must(http.MethodPut, hubID+"/connections/both1", newest, conn(true, "https://hub/both"), http.StatusOK)
	v.Must(http.MethodPut, wsBase+"proj1/connections/own1", newest, conn(false, "https://proj/own"), http.StatusOK)
	v.Must(http.MethodPut, wsBase+"proj1/connections/both1", newest, conn(false, "https://proj/both"), http.StatusOK)

	list := func(query string) []string {
		t.Helper()
		var out []string
		for _, c := range v.Must(http.MethodGet, wsBase+"proj1/connections"+query, newest, "", http.StatusOK)["value"].([]any) {
			out = append(out, c.(map[string]any)["id"].(string))
		}
		return out
	}
	want := []string{wsBase + "proj1/connections/both1", wsBase + "proj1/connections/own1", hubID + "/connections/shared1"}
	if got := list(""); !slices.Equal(got, want) {
		t.Errorf("project connections = %v, want %v", got, want)
	}
	if got := list("?target=https://hub/shared"); !slices.Equal(got, want[2:]) {
		t.Errorf("target filter = %v", got)
	}
	if n := len(v.Must(http.MethodGet, hubID+"/connections", newest, "", http.StatusOK)["value"].([]any)); n != 3 {
		t.Errorf("the hub lists %d connections, want its own 3", n)
	}
	v.Fail(http.MethodGet, wsBase+"proj1/connections/shared1", newest, "", http.StatusNotFound, "ResourceNotFound")
}

// TestImportProjectAndHub covers seeds of both orders: a project listed
// before its hub is kept unresolved, one after it takes the hub's
// resources; the kinds' version rule does not apply to imports.
func TestImportProjectAndHub(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.importResource(wsBase+"aproj", "2022-10-01", `{"location":"eastus","kind":"Project","properties":{`+projectRef+`}}`)
	v.importResource(hubID, "2022-10-01", hubBody)
	v.importResource(wsBase+"zproj", "2022-10-01", `{"location":"eastus","kind":"Project","properties":{`+projectRef+`}}`)
	if got := v.props("aproj", newest)["storageAccount"]; got != nil {
		t.Errorf("project seeded before its hub took %v", got)
	}
	if got := v.props("zproj", newest)["storageAccount"]; got != storageID {
		t.Errorf("project seeded after its hub has storageAccount %v", got)
	}
	if got := v.props("hub1", newest)["associatedWorkspaces"]; len(got.([]any)) != 2 {
		t.Errorf("associatedWorkspaces = %v", got)
	}
	if _, err := v.e.Import(context.Background(), mustID(t, wsBase+"bad"), seedBody(t, `{"location":"eastus","kind":"Project"}`), newest, engine.Caller{}); err == nil {
		t.Errorf("a seeded project without hubResourceId was accepted")
	}
}
