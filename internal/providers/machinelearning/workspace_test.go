package machinelearning

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

const baseBody = `{"location":"eastus","properties":{"storageAccount":"` + storageID + `","keyVault":"` + vaultID + `","containerRegistry":"` + acrID + `"}}`

// TestWorkspaceGenerated checks the defaults and generated read-only
// properties, and that they survive updates.
func TestWorkspaceGenerated(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	body := v.Must(http.MethodGet, wsBase+"ws1", newest, "", http.StatusOK)
	p := body["properties"].(map[string]any)
	wsID, _ := p["workspaceId"].(string)
	if _, err := uuid.Parse(wsID); err != nil {
		t.Fatalf("workspaceId %q is not a GUID", wsID)
	}
	want := map[string]any{
		"tenantId":                        testTenant,
		"discoveryUrl":                    "https://127.0.0.1:8443/discovery",
		"mlFlowTrackingUri":               "azureml://eastus.api.azureml.ms/mlflow/v1.0" + wsBase + "ws1",
		"storageHnsEnabled":               false,
		"hbiWorkspace":                    false,
		"allowPublicAccessWhenBehindVnet": false,
		"publicNetworkAccess":             "Enabled",
		"v1LegacyMode":                    false,
		"privateLinkCount":                float64(0),
		"provisioningState":               "Succeeded",
		"storageAccount":                  storageID,
	}
	for k, w := range want {
		if p[k] != w {
			t.Errorf("properties.%s = %v, want %v", k, p[k], w)
		}
	}
	if pecs, ok := p["privateEndpointConnections"].([]any); !ok || len(pecs) != 0 {
		t.Errorf("privateEndpointConnections = %v, want []", p["privateEndpointConnections"])
	}
	for _, absent := range []string{"notebookInfo", "serviceProvisionedResourceGroup"} {
		if _, ok := p[absent]; ok {
			t.Errorf("properties.%s present", absent)
		}
	}
	if body["kind"] != "Default" {
		t.Errorf("kind = %v, want Default", body["kind"])
	}
	if sku, _ := body["sku"].(map[string]any); sku["name"] != "Basic" || sku["tier"] != "Basic" {
		t.Errorf("sku = %v, want Basic/Basic", body["sku"])
	}

	// A GET-modify-PUT round trip, with read-only values changed by the
	// client: accepted, and the generated values stay.
	p["workspaceId"] = "not-a-guid"
	p["tenantId"] = "other"
	p["description"] = "round trip"
	delete(body, "id")
	v.Must(http.MethodPut, wsBase+"ws1", newest, string(mustJSON(body)), http.StatusAccepted)
	p2 := v.props("ws1", newest)
	if p2["workspaceId"] != wsID || p2["tenantId"] != testTenant || p2["description"] != "round trip" {
		t.Errorf("after round trip: workspaceId %v tenantId %v description %v", p2["workspaceId"], p2["tenantId"], p2["description"])
	}

	// Old api-versions do not show what they did not have.
	old := v.props("ws1", "2021-07-01")
	for _, k := range []string{"v1LegacyMode", "publicNetworkAccess"} {
		if _, ok := old[k]; ok {
			t.Errorf("GET at 2021-07-01 shows %s", k)
		}
	}
}

// TestWorkspaceEncryptionResourceGroup: serviceProvisionedResourceGroup
// appears only for customer-managed-key workspaces.
func TestWorkspaceEncryptionResourceGroup(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"encryption":{"status":"enabled","keyVaultProperties":{"keyVaultArmId":"`+vaultID+`","keyIdentifier":"https://vault1.vault.azure.net/keys/k/1"}}}}`)
	p := v.props("ws1", newest)
	if rg, _ := p["serviceProvisionedResourceGroup"].(string); !strings.HasPrefix(rg, "ws1_") {
		t.Errorf("serviceProvisionedResourceGroup = %v", p["serviceProvisionedResourceGroup"])
	}
	if enc := p["encryption"].(map[string]any); enc["status"] != "Enabled" {
		t.Errorf("encryption.status = %v, want the canonical Enabled", enc["status"])
	}
	// PATCH may change the key only.
	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"encryption":{"keyVaultProperties":{"keyIdentifier":"https://vault1.vault.azure.net/keys/k/2"}}}}`, http.StatusOK)
	v.Fail(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"encryption":{"status":"Disabled"}}}`, 400, "InvalidRequestContent")
}

// TestWorkspaceValidation covers the type checks and unknown members.
func TestWorkspaceValidation(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		apiVersion string
		body       string
		code       string
		target     string
		message    string
	}{
		{"unknown property", http.MethodPut, newest, `{"location":"eastus","properties":{"foo":1}}`,
			"InvalidRequestContent", "properties.foo", "Could not find member 'foo' on object of type 'WorkspaceProperties'. Path 'properties.foo'."},
		{"unknown property on PATCH", http.MethodPatch, newest, `{"properties":{"foo":1}}`,
			"InvalidRequestContent", "properties.foo", "Could not find member 'foo' on object of type 'WorkspacePropertiesUpdateParameters'. Path 'properties.foo'."},
		{"unknown nested property", http.MethodPut, newest, `{"location":"eastus","properties":{"managedNetwork":{"foo":true}}}`,
			"InvalidRequestContent", "properties.managedNetwork.foo", "Could not find member 'foo' on object of type 'ManagedNetworkSettings'. Path 'properties.managedNetwork.foo'."},
		{"unknown top-level member", http.MethodPut, newest, `{"location":"eastus","zones":["1"]}`,
			"InvalidRequestContent", "zones", ""},
		{"property newer than the api-version", http.MethodPut, "2022-10-01", `{"location":"eastus","properties":{"managedNetwork":{"isolationMode":"Disabled"}}}`,
			"InvalidRequestContent", "properties.managedNetwork", ""},
		{"2025 property at 2024-04-01", http.MethodPut, newest, `{"location":"eastus","properties":{"systemDatastoresAuthMode":"Identity"}}`,
			"InvalidRequestContent", "properties.systemDatastoresAuthMode", ""},
		{"bad enum", http.MethodPut, newest, `{"location":"eastus","properties":{"publicNetworkAccess":"Maybe"}}`,
			"InvalidRequestContent", "properties.publicNetworkAccess", ""},
		{"bad enum on PATCH", http.MethodPatch, newest, `{"properties":{"publicNetworkAccess":"Sometimes"}}`,
			"InvalidRequestContent", "properties.publicNetworkAccess", ""},
		{"bad bool", http.MethodPut, newest, `{"location":"eastus","properties":{"hbiWorkspace":"yes"}}`,
			"InvalidRequestContent", "properties.hbiWorkspace", `Error converting value "yes" to type 'System.Boolean'. Path 'properties.hbiWorkspace'.`},
		{"bad string", http.MethodPut, newest, `{"location":"eastus","properties":{"description":{"a":1}}}`,
			"InvalidRequestContent", "properties.description", ""},
		{"bad integer", http.MethodPut, newest, `{"location":"eastus","properties":{"serviceManagedResourcesSettings":{"cosmosDb":{"collectionsThroughput":1.5}}}}`,
			"InvalidRequestContent", "properties.serviceManagedResourcesSettings.cosmosDb.collectionsThroughput", ""},
		{"malformed resource id", http.MethodPut, newest, `{"location":"eastus","properties":{"storageAccount":"store1"}}`,
			"InvalidRequestContent", "properties.storageAccount", ""},
		{"resource id of the wrong type", http.MethodPut, newest, `{"location":"eastus","properties":{"storageAccount":"` + vaultID + `"}}`,
			"InvalidRequestContent", "properties.storageAccount", ""},
		{"missing required member", http.MethodPut, newest, `{"location":"eastus","properties":{"encryption":{"status":"Enabled"}}}`,
			"InvalidRequestContent", "properties.encryption.keyVaultProperties", ""},
		{"bad outbound rule type", http.MethodPut, newest, `{"location":"eastus","properties":{"managedNetwork":{"outboundRules":{"r":{"type":"Nope"}}}}}`,
			"InvalidRequestContent", "properties.managedNetwork.outboundRules.r.type", ""},
		{"bad sku tier", http.MethodPut, newest, `{"location":"eastus","sku":{"name":"Basic","tier":"Gold"}}`,
			"InvalidRequestContent", "sku.tier", ""},
		{"bad identity type", http.MethodPut, newest, `{"location":"eastus","identity":{"type":"Magic"}}`,
			"InvalidRequestContent", "identity.type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			name := "ws1"
			if tt.method == http.MethodPatch {
				v.createWorkspace(name, newest, baseBody)
			}
			ae := v.Fail(tt.method, wsBase+name, tt.apiVersion, tt.body, 400, tt.code)
			if ae.Target != tt.target {
				t.Errorf("target = %q, want %q (%s)", ae.Target, tt.target, ae.Message)
			}
			if tt.message != "" && ae.Message != tt.message {
				t.Errorf("message = %q, want %q", ae.Message, tt.message)
			}
			if !strings.Contains(ae.Message, strings.TrimPrefix(tt.target, "properties.")[:1]) {
				t.Errorf("message %q does not name the property", ae.Message)
			}
		})
	}
}

// TestWorkspaceAccepted covers bodies that must pass, and their
// normalisation.
func TestWorkspaceAccepted(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", "2025-09-01", `{"location":"East US","kind":"Hub","sku":{"name":"Basic","tier":"basic"},
		"identity":{"type":"SystemAssigned, UserAssigned","userAssignedIdentities":{"`+rgPath+`/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1":{}}},
		"properties":{"publicNetworkAccess":"disabled","containerRegistry":null,"systemDatastoresAuthMode":"identity",
		"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","firewallSku":"Standard","enableNetworkMonitor":true,
		"outboundRules":{"pypi":{"type":"FQDN","category":"UserDefined","destination":"pypi.org"},
		"stag":{"type":"ServiceTag","destination":{"serviceTag":"AzureMonitor","protocol":"TCP","portRanges":"443","action":"Allow"}},
		"pep":{"type":"PrivateEndpoint","destination":{"serviceResourceId":"`+storageID+`","subresourceTarget":"blob"}}}},
		"serviceManagedResourcesSettings":{"cosmosDb":{"collectionsThroughput":400}}}}`)
	body := v.Must(http.MethodGet, wsBase+"ws1", "2025-09-01", "", http.StatusOK)
	p := body["properties"].(map[string]any)
	if p["publicNetworkAccess"] != "Disabled" || p["systemDatastoresAuthMode"] != "Identity" {
		t.Errorf("enums not canonical: %v %v", p["publicNetworkAccess"], p["systemDatastoresAuthMode"])
	}
	if _, ok := p["containerRegistry"]; ok {
		t.Errorf("containerRegistry null is stored")
	}
	mn := p["managedNetwork"].(map[string]any)
	if _, err := uuid.Parse(mn["networkId"].(string)); err != nil || mn["enableNetworkMonitor"] != true {
		t.Errorf("managedNetwork = %v", mn)
	}
	id := body["identity"].(map[string]any)
	if id["type"] != "SystemAssigned,UserAssigned" || id["principalId"] == nil || id["tenantId"] != testTenant {
		t.Errorf("identity = %v", id)
	}
	for _, u := range id["userAssignedIdentities"].(map[string]any) {
		if u.(map[string]any)["clientId"] == nil {
			t.Errorf("user identity without clientId: %v", u)
		}
	}
	if body["kind"] != "Hub" {
		t.Errorf("kind = %v", body["kind"])
	}

	// Older api-versions hide the newer members, and a PUT with one keeps
	// them.
	at2024 := v.props("ws1", newest)
	if _, ok := at2024["systemDatastoresAuthMode"]; ok {
		t.Errorf("2024-04-01 shows systemDatastoresAuthMode")
	}
	if _, ok := at2024["managedNetwork"].(map[string]any)["enableNetworkMonitor"]; ok {
		t.Errorf("2024-04-01 shows managedNetwork.enableNetworkMonitor")
	}
	if at2024["managedNetwork"].(map[string]any)["firewallSku"] != nil {
		t.Errorf("2024-04-01 shows managedNetwork.firewallSku")
	}
	if _, ok := v.props("ws1", "2022-10-01")["managedNetwork"]; ok {
		t.Errorf("2022-10-01 shows managedNetwork")
	}
	v.Must(http.MethodPut, wsBase+"ws1", "2022-10-01", `{"location":"eastus","kind":"Hub","properties":{"description":"old client"}}`, http.StatusAccepted)
	p = v.props("ws1", "2025-09-01")
	if p["systemDatastoresAuthMode"] != "Identity" || p["managedNetwork"] == nil || p["description"] != "old client" {
		t.Errorf("a PUT at 2022-10-01 lost newer properties: %v", p)
	}
	if p["managedNetwork"].(map[string]any)["enableNetworkMonitor"] != true {
		t.Errorf("managedNetwork.enableNetworkMonitor lost: %v", p["managedNetwork"])
	}
}

func TestWorkspaceName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"ws_1-a", true},
		{strings.Repeat("a", 33), true},
		{"ab", false},
		{"-abc", false},
		{"_abc", false},
		{"a.bc", false},
		{strings.Repeat("a", 34), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			if tt.ok {
				v.createWorkspace(tt.name, newest, `{"location":"eastus"}`)
				return
			}
			ae := v.Fail(http.MethodPut, wsBase+url.PathEscape(tt.name), newest, `{"location":"eastus"}`, 400, "InvalidResourceName")
			if !strings.Contains(ae.Message, "3 to 33 characters") {
				t.Errorf("message %q does not state the rule", ae.Message)
			}
		})
	}
}

// TestWorkspaceImmutable covers storageAccount, keyVault, hbiWorkspace
// and kind on PUT and PATCH, and properties PATCH cannot change.
func TestWorkspaceImmutable(t *testing.T) {
	create := `{"location":"eastus","properties":{"storageAccount":"` + storageID + `","keyVault":"` + vaultID + `"}}`
	tests := []struct {
		name   string
		method string
		body   string
		code   string // "" = accepted
		target string
	}{
		{"PUT storageAccount", http.MethodPut, `{"location":"eastus","properties":{"storageAccount":"` + storage2ID + `","keyVault":"` + vaultID + `"}}`, "PropertyChangeNotAllowed", "properties.storageAccount"},
		{"PUT keyVault", http.MethodPut, `{"location":"eastus","properties":{"storageAccount":"` + storageID + `","keyVault":"` + vault2ID + `"}}`, "PropertyChangeNotAllowed", "properties.keyVault"},
		{"PUT hbiWorkspace", http.MethodPut, `{"location":"eastus","properties":{"hbiWorkspace":true}}`, "PropertyChangeNotAllowed", "properties.hbiWorkspace"},
		{"PUT kind", http.MethodPut, `{"location":"eastus","kind":"Hub"}`, "PropertyChangeNotAllowed", "kind"},
		{"PATCH storageAccount", http.MethodPatch, `{"properties":{"storageAccount":"` + storage2ID + `"}}`, "PropertyChangeNotAllowed", "properties.storageAccount"},
		{"PATCH removing keyVault", http.MethodPatch, `{"properties":{"keyVault":null}}`, "PropertyChangeNotAllowed", "properties.keyVault"},
		{"PATCH hbiWorkspace", http.MethodPatch, `{"properties":{"hbiWorkspace":true}}`, "PropertyChangeNotAllowed", "properties.hbiWorkspace"},
		{"PATCH kind", http.MethodPatch, `{"kind":"Project"}`, "PropertyChangeNotAllowed", "kind"},
		{"PATCH a property outside the update parameters", http.MethodPatch, `{"properties":{"allowPublicAccessWhenBehindVnet":true}}`, "InvalidRequestContent", "properties.allowPublicAccessWhenBehindVnet"},
		{"PUT omitting them keeps them", http.MethodPut, `{"location":"eastus","properties":{}}`, "", ""},
		{"PUT same IDs in other casing", http.MethodPut, `{"location":"eastus","kind":"default","properties":{"storageAccount":"` + strings.ToLower(storageID) + `","keyVault":"` + vaultID + `","hbiWorkspace":false}}`, "", ""},
		{"PATCH with unchanged values", http.MethodPatch, `{"properties":{"storageAccount":"` + storageID + `","hbiWorkspace":false,"allowPublicAccessWhenBehindVnet":false}}`, "", ""},
		{"PUT may change allowPublicAccessWhenBehindVnet", http.MethodPut, `{"location":"eastus","properties":{"allowPublicAccessWhenBehindVnet":true}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			v.createWorkspace("ws1", newest, create)
			if tt.code == "" {
				status := http.StatusAccepted
				if tt.method == http.MethodPatch {
					status = http.StatusOK
				}
				v.Must(tt.method, wsBase+"ws1", newest, tt.body, status)
				p := v.props("ws1", newest)
				if !strings.EqualFold(p["storageAccount"].(string), storageID) || p["keyVault"] != vaultID || p["hbiWorkspace"] != false {
					t.Errorf("immutable properties changed: %v", p)
				}
				return
			}
			ae := v.Fail(tt.method, wsBase+"ws1", newest, tt.body, 400, tt.code)
			if ae.Target != tt.target {
				t.Errorf("target = %q, want %q", ae.Target, tt.target)
			}
			if tt.code == "PropertyChangeNotAllowed" && ae.Message != "Changing property '"+tt.target+"' is not allowed." {
				t.Errorf("message = %q", ae.Message)
			}
		})
	}
}

// TestWorkspaceKeys covers listKeys and the other key actions.
func TestWorkspaceKeys(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	keys := v.Must(http.MethodPost, wsBase+"ws1/listKeys", newest, "", http.StatusOK)
	for _, k := range []string{"userStorageKey", "appInsightsInstrumentationKey"} {
		if s, _ := keys[k].(string); s == "" {
			t.Errorf("listKeys: %s missing", k)
		}
	}
	if keys["userStorageResourceId"] != storageID {
		t.Errorf("userStorageResourceId = %v", keys["userStorageResourceId"])
	}
	acr := keys["containerRegistryCredentials"].(map[string]any)
	pw := acr["passwords"].([]any)
	if acr["username"] != "acr1" || acr["location"] != "eastus" || len(pw) != 2 ||
		pw[0].(map[string]any)["name"] != "password" || pw[1].(map[string]any)["name"] != "password2" {
		t.Errorf("containerRegistryCredentials = %v", acr)
	}
	nb := keys["notebookAccessKeys"].(map[string]any)
	if nb["primaryAccessKey"] == "" || nb["secondaryAccessKey"] == "" {
		t.Errorf("notebookAccessKeys = %v", nb)
	}
	again := v.Must(http.MethodPost, wsBase+"ws1/LISTKEYS", newest, "", http.StatusOK)
	if again["userStorageKey"] != keys["userStorageKey"] {
		t.Errorf("keys changed between calls")
	}
	if got := v.Must(http.MethodPost, wsBase+"ws1/listStorageAccountKeys", newest, "", http.StatusOK); got["userStorageKey"] != keys["userStorageKey"] {
		t.Errorf("listStorageAccountKeys = %v", got)
	}
	if got := v.Must(http.MethodPost, wsBase+"ws1/listNotebookKeys", newest, "", http.StatusOK); got["primaryAccessKey"] != nb["primaryAccessKey"] {
		t.Errorf("listNotebookKeys = %v", got)
	}
	v.Fail(http.MethodPost, wsBase+"ws1/explode", newest, "", 400, "InvalidResourceType")
	v.Fail(http.MethodPost, wsBase+"missing/listKeys", newest, "", 404, "ResourceNotFound")

	// No registry, no registry credentials.
	v.createWorkspace("ws2", newest, `{"location":"eastus"}`)
	if _, ok := v.Must(http.MethodPost, wsBase+"ws2/listKeys", newest, "", http.StatusOK)["containerRegistryCredentials"]; ok {
		t.Errorf("containerRegistryCredentials without a registry")
	}
}

// TestWorkspaceResyncKeys: 202 with a Location that answers 202 until the
// operation ends, then 200 with no body.
func TestWorkspaceResyncKeys(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	before := v.Must(http.MethodPost, wsBase+"ws1/listKeys", newest, "", http.StatusOK)
	resp, err := v.Serve(http.MethodPost, wsBase+"ws1/resyncKeys", newest, "")
	if err != nil {
		t.Fatal(err)
	}
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusAccepted || loc == "" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("resyncKeys: %d Location %q Retry-After %q", resp.Status, loc, resp.Header.Get("Retry-After"))
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	poll := u.EscapedPath() + "?" + u.RawQuery
	v.Must(http.MethodGet, poll, "", "", http.StatusAccepted)
	v.Advance(2 * time.Second)
	v.Must(http.MethodGet, poll, "", "", http.StatusOK)
	if after := v.Must(http.MethodPost, wsBase+"ws1/listKeys", newest, "", http.StatusOK); after["userStorageKey"] != before["userStorageKey"] {
		t.Errorf("resyncKeys changed the keys")
	}
}

// TestWorkspaceCreatePolling: the PUT's Location ends with the workspace.
func TestWorkspaceCreatePolling(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	resp, err := v.Serve(http.MethodPut, wsBase+"ws1", newest, baseBody)
	if err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	u, _ := url.Parse(resp.Header.Get("Location"))
	poll := u.EscapedPath() + "?" + u.RawQuery
	v.Must(http.MethodGet, poll, "", "", http.StatusAccepted)
	if p := v.props("ws1", newest); p["provisioningState"] != "Creating" {
		t.Errorf("provisioningState while creating = %v", p["provisioningState"])
	}
	v.Advance(2 * time.Second)
	body := v.Must(http.MethodGet, poll, "", "", http.StatusOK)
	if body["name"] != "ws1" || body["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Errorf("final poll body = %v", body)
	}
}

func TestPrivateLinkResources(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	body := v.Must(http.MethodGet, wsBase+"ws1/privateLinkResources", newest, "", http.StatusOK)
	list := body["value"].([]any)
	if len(list) != 1 || body["nextLink"] != nil {
		t.Fatalf("privateLinkResources = %v", body)
	}
	item := list[0].(map[string]any)
	props := item["properties"].(map[string]any)
	if item["id"] != wsBase+"ws1/privateLinkResources/amlworkspace" || item["name"] != "amlworkspace" ||
		item["type"] != TypePrivateLinkResources || props["groupId"] != "amlworkspace" ||
		len(props["requiredMembers"].([]any)) != 1 || len(props["requiredZoneNames"].([]any)) != 2 {
		t.Errorf("privateLinkResources item = %v", item)
	}
	v.Fail(http.MethodGet, wsBase+"missing/privateLinkResources", newest, "", 404, "ResourceNotFound")
}

// TestWorkspaceDiscoveryURL: discoveryUrl points at armlet's workspace
// endpoint: Options.BaseURL when set, else the URL of the workspace's
// first write, else (a seed without either) Azure's regional host.
func TestWorkspaceDiscoveryURL(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.Must(http.MethodPut, wsBase+"ws1", newest, `{"location":"eastus"}`, http.StatusAccepted)
	if got := v.Must(http.MethodGet, wsBase+"ws1", newest, "", http.StatusOK)["properties"].(map[string]any)["discoveryUrl"]; got != "https://127.0.0.1:8443/discovery" {
		t.Errorf("discoveryUrl = %v, want the request's base URL", got)
	}
	v.importResource(wsBase+"seeded", newest, `{"location":"westus"}`)
	if got := v.Must(http.MethodGet, wsBase+"seeded", newest, "", http.StatusOK)["properties"].(map[string]any)["discoveryUrl"]; got != "https://westus.api.azureml.ms/discovery" {
		t.Errorf("seeded discoveryUrl = %v, want Azure's regional host", got)
	}

	w := newEnv(t, Options{BaseURL: "https://127.0.0.1:9443/"}, nil)
	w.Must(http.MethodPut, wsBase+"ws1", newest, `{"location":"eastus"}`, http.StatusAccepted)
	if got := w.Must(http.MethodGet, wsBase+"ws1", newest, "", http.StatusOK)["properties"].(map[string]any)["discoveryUrl"]; got != "https://127.0.0.1:9443/discovery" {
		t.Errorf("discoveryUrl = %v, want Options.BaseURL", got)
	}
}
