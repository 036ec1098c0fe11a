package machinelearning

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

// sdkCalls are the api-versions azure-ai-ml 1.4.0 calls each type at
// (MLClient wires one generated client per operation group).
var sdkCalls = map[string]string{
	TypeWorkspaces:                            "2022-10-01-preview",
	TypeComputes:                              "2022-10-01-preview",
	TypeJobs:                                  "2022-10-01-preview",
	TypeSchedules:                             "2022-10-01-preview",
	TypeWorkspaceConnections:                  "2022-01-01-preview",
	TypeDatastores:                            "2022-10-01",
	TypeWorkspaces + "/data/versions":         "2022-10-01",
	TypeWorkspaces + "/components":            "2022-10-01",
	TypeWorkspaces + "/models":                "2022-05-01",
	TypeWorkspaces + "/models/versions":       "2022-05-01",
	TypeWorkspaces + "/environments/versions": "2022-05-01",
	TypeWorkspaces + "/codes/versions":        "2022-05-01",
	TypeBatchEndpoints:                        "2022-05-01",
	TypeBatchDeployments:                      "2022-05-01",
	TypeOnlineEndpoints:                       "2022-02-01-preview",
	TypeOnlineDeployments:                     "2022-02-01-preview",
}

// TestSDKModelsLoad checks the generated tables: every model a member,
// subtype or resource names is there, every enum a member names has
// values, and each type the SDK calls is served at the version it calls.
func TestSDKModelsLoad(t *testing.T) {
	for _, v := range append([]string{"2022-01-01-preview", "2022-02-01-preview", "2022-05-01", "2022-10-01", "2022-10-01-preview"}, goSDKVersions...) {
		api, ok := sdkAPIs[v]
		if !ok {
			t.Errorf("no models of %s", v)
			continue
		}
		for typ, r := range api.resources {
			for _, m := range []string{r.get, r.put, r.patch} {
				if m != "" && api.models[m] == nil {
					t.Errorf("%s %s: model %s missing", v, typ, m)
				}
			}
			if _, ok := api.propertiesType(typ); !ok {
				t.Errorf("%s %s: no properties member", v, typ)
			}
		}
		for name, m := range api.models {
			for _, mb := range m.members {
				elem := strings.Trim(mb.typ, "[]{}")
				if _, prim := primitiveKinds[elem]; !prim && !slices.Contains([]string{"object", "rfc-1123", "unix-time", "bytearray"}, elem) && api.models[elem] == nil {
					t.Errorf("%s %s.%s: type %s unknown", v, name, mb.name, mb.typ)
				}
				if mb.enum != "" && len(api.enums[mb.enum]) == 0 {
					t.Errorf("%s %s.%s: enum %s has no values", v, name, mb.name, mb.enum)
				}
			}
			for value, sub := range m.subtypes {
				if api.models[sub] == nil {
					t.Errorf("%s %s: subtype %s (%s) missing", v, name, sub, value)
				}
			}
		}
	}
	v := newEnv(t, Options{}, nil)
	for typ, version := range sdkCalls {
		rt, ok := v.e.Registry().Lookup(typ)
		if !ok {
			t.Errorf("%s is not registered", typ)
			continue
		}
		if !slices.Contains(rt.APIVersions, version) {
			t.Errorf("%s does not accept %s, which azure-ai-ml calls it at (accepts %v)", typ, version, rt.APIVersions)
		}
	}
}

// TestAPIVersionsOf checks which api-versions a type accepts.
func TestAPIVersionsOf(t *testing.T) {
	tests := []struct {
		typ         string
		stable      []string
		want        []string
		description string
	}{
		{TypeSchedules, []string{"2024-04-01", "2022-10-01", "2022-05-01"}, []string{"2024-10-01-preview", "2024-04-01", "2022-10-01", "2022-10-01-preview"},
			"schedules are newer than 2022-05-01; 2022-10-01-preview has them"},
		{TypeComputes, []string{"2022-05-01", "2021-07-01"}, []string{"2024-10-01-preview", "2022-10-01-preview", "2022-05-01", "2022-01-01-preview", "2021-07-01"},
			"computes: the previews with their models, by date"},
		{TypeOnlineDeployments, []string{"2024-10-01", "2022-10-01", "2022-05-01"}, []string{"2024-10-01", "2024-10-01-preview", "2022-10-01", "2022-10-01-preview", "2022-05-01", "2022-02-01-preview"},
			"deployments: the stable version before the preview of its date"},
		{TypePrivateLinkResources, []string{"2025-04-01", "2023-10-01"}, []string{"2025-04-01", "2023-10-01"}, "a type the SDK's models do not know keeps its versions"},
		{TypeSchedules, []string{"2024-04-01", "2022-10-01", "2022-05-01"}, []string{"2024-10-01-preview", "2024-04-01", "2022-10-01", "2022-10-01-preview"},
			"a modelled preview without the type is refused (2022-02-01-preview has no schedules)"},
		{TypeDatastores, []string{"2025-09-01", "2024-04-01"}, []string{"2025-09-01", "2024-10-01-preview", "2024-04-01", "2022-10-01-preview", "2022-02-01-preview"},
			"a type go-azure-sdk spells otherwise (workspaces/dataStores): ARM types ignore case"},
	}
	// These cases check the stable versions and the modelled previews; the
	// previews without a model are the next test's.
	modelled := func(vs []string) []string {
		return slices.DeleteFunc(slices.Clone(vs), func(v string) bool {
			_, ok := sdkAPIs[v]
			return isPreview(v) && !ok
		})
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			if got := modelled(apiVersionsOf(tt.typ, tt.stable)); !slices.Equal(got, tt.want) {
				t.Errorf("apiVersionsOf(%s) = %v, want %v", tt.typ, got, tt.want)
			}
		})
	}
}

// TestUnmodelledPreviews checks the previews armlet has no model of: each
// type accepts those dated on or after its oldest stable version, by
// default, and refuses older ones.
func TestUnmodelledPreviews(t *testing.T) {
	got := apiVersionsOf(TypePrivateLinkResources, []string{"2025-04-01", "2023-10-01"})
	want := []string{"2025-10-01-preview", "2025-07-01-preview", "2025-04-01", "2025-04-01-preview",
		"2025-01-01-preview", "2024-07-01-preview", "2024-01-01-preview", "2023-10-01"}
	if !slices.Equal(got, want) {
		t.Errorf("apiVersionsOf(privateLinkResources) = %v, want %v", got, want)
	}

	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus"}`)
	tests := []struct {
		path, apiVersion string
		want             int
	}{
		{wsBase + "ws1", "2023-08-01-preview", http.StatusOK},
		// Workspaces are as old as the namespace: every preview.
		{wsBase + "ws1", "2018-03-01-preview", http.StatusOK},
		{wsBase + "ws1/datastores/workspaceblobstore", "2025-07-01-preview", http.StatusOK},
		{wsBase + "ws1/datastores/workspaceblobstore", "2023-06-01-preview", http.StatusOK},
		// Datastores' oldest stable version is 2022-05-01; the v2 API's
		// 2021-03-01-preview is older, and whether it served them is unknown.
		{wsBase + "ws1/datastores/workspaceblobstore", "2021-03-01-preview", http.StatusBadRequest},
		{wsBase + "ws1/datastores/workspaceblobstore", "2023-03-01-preview", http.StatusBadRequest},
	}
	for _, tt := range tests {
		status := 0
		resp, err := v.Serve(http.MethodGet, tt.path, tt.apiVersion, "")
		if ae, ok := arm.AsError(err); ok {
			status = ae.Status
		} else if err == nil {
			status = resp.Status
		}
		if status != tt.want {
			t.Errorf("GET %s at %s: %d (%v), want %d", tt.path, tt.apiVersion, status, err, tt.want)
		}
	}
	// Without a model every member is allowed: a member of a newer stable
	// version is accepted at an older preview.
	v.Must(http.MethodPatch, wsBase+"ws1", "2023-08-01-preview", `{"properties":{"systemDatastoresAuthMode":"AccessKey"}}`, http.StatusOK)
}

// TestMembersPerAPIVersion checks requests and responses at the
// api-versions armlet has models of: a member only one version has is
// accepted there and refused elsewhere, a member newer than a version is
// refused at it and left out of its responses, and a PUT at an old
// version keeps what it could not send.
func TestMembersPerAPIVersion(t *testing.T) {
	v := epSetup(t)
	const dep = epOnline + "ep1/deployments/"
	put := func(name, apiVersion, extra string) (*int, string) {
		resp, err := v.Serve(http.MethodPut, dep+name, apiVersion, epDeploymentBody(extra))
		if err != nil {
			return nil, err.Error()
		}
		return &resp.Status, ""
	}
	tests := []struct {
		name, apiVersion, extra string
		wantErr                 string // "" accepted
	}{
		{"a version's own member", "2022-02-01-preview", `,"privateNetworkConnection":true`, ""},
		{"a version's own member elsewhere", newest, `,"privateNetworkConnection":true`, "Could not find member 'privateNetworkConnection'"},
		{"a member its successor lacks", "2022-05-01", `,"egressPublicNetworkAccess":"Enabled"`, "is not part of api-version 2022-05-01"},
		{"a newer member", "2022-10-01", `,"dataCollector":{"rollingRate":"Day"}`, "is not part of api-version 2022-10-01"},
		{"the newer member at the newest version", newest, `,"dataCollector":{"rollingRate":"Day"}`, ""},
		{"a member of a newer preview", "2022-10-01", `,"requestSettings":{"maxQueueWait":"PT1S"}`, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, err := put("dep-"+string(rune('a'+i)), tt.apiVersion, tt.extra)
			switch {
			case tt.wantErr == "" && err != "":
				t.Errorf("refused: %s", err)
			case tt.wantErr != "" && !strings.Contains(err, tt.wantErr):
				t.Errorf("got status %v, error %q; want an error with %q", status, err, tt.wantErr)
			}
		})
	}
	v.t = t
	v.Advance(2 * time.Second)

	// privateNetworkConnection stands for egressPublicNetworkAccess.
	props := func(name, apiVersion string) map[string]any {
		return v.Must(http.MethodGet, dep+name, apiVersion, "", http.StatusOK)["properties"].(map[string]any)
	}
	if p := props("dep-a", newest); p["egressPublicNetworkAccess"] != "Disabled" || p["privateNetworkConnection"] != nil {
		t.Errorf("at %s: %v", newest, p)
	}
	if p := props("dep-a", "2022-02-01-preview"); p["privateNetworkConnection"] != true || p["egressPublicNetworkAccess"] != "Disabled" {
		t.Errorf("at 2022-02-01-preview: %v", p)
	}
	// Responses leave out what the version lacks; a PUT at it keeps it.
	if p := props("dep-e", "2022-10-01"); p["dataCollector"] != nil {
		t.Errorf("2022-10-01 shows dataCollector: %v", p)
	}
	if p := props("dep-e", "2022-05-01"); p["egressPublicNetworkAccess"] != nil {
		t.Errorf("2022-05-01 shows egressPublicNetworkAccess: %v", p)
	}
	v.Must(http.MethodPut, dep+"dep-e", "2022-10-01", epDeploymentBody(`,"description":"old client"`), http.StatusOK)
	if p := props("dep-e", newest); p["dataCollector"] == nil || p["description"] != "old client" {
		t.Errorf("a PUT at 2022-10-01 lost dataCollector: %v", p)
	}
}

// TestTypesPerAPIVersion checks that a type is served only at the
// versions that have it, and that a union keeps only the variants its
// version has.
func TestTypesPerAPIVersion(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	tests := []struct {
		name, path, apiVersion, body string
		status                       int
		code, message                string
	}{
		{"schedules before they existed", epWS + "/schedules/s1", "2022-05-01", `{"properties":{}}`, 400, "NoRegisteredProviderFound", ""},
		{"computes at a preview without their model", epWS + "/computes/c1", "2022-02-01-preview", `{"properties":{"computeType":"AmlCompute"}}`, 400, "NoRegisteredProviderFound", ""},
		{"v1LegacyMode before it existed", wsBase + "ws2", "2022-01-01-preview", `{"location":"eastus","properties":{"v1LegacyMode":false}}`, 400, "InvalidRequestContent", "v1LegacyMode"},
		{"a job type newer than the version", epWS + "/jobs/j1", "2022-05-01",
			`{"properties":{"jobType":"Spark","codeId":"azureml:code:1","entry":{"sparkJobEntryType":"SparkJobPythonEntry","file":"main.py"}}}`,
			400, "InvalidRequestContent", `"Spark"`},
		{"mirrorTraffic at 2022-05-01", epOnline + "ep1", "2022-05-01", `{"location":"eastus","properties":{"authMode":"Key","mirrorTraffic":{}}}`, 400, "InvalidRequestContent", "mirrorTraffic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.t = t
			ae := v.Fail(http.MethodPut, tt.path, tt.apiVersion, tt.body, tt.status, tt.code)
			if !strings.Contains(ae.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", ae.Message, tt.message)
			}
		})
	}
	v.t = t
	// Accepted where the version has them.
	v.Must(http.MethodPut, epOnline+"ep1", "2022-02-01-preview", `{"location":"eastus","properties":{"authMode":"Key","mirrorTraffic":{}}}`, http.StatusCreated)
	v.Must(http.MethodPut, wsBase+"ws3", "2022-10-01-preview", `{"location":"eastus","properties":{"v1LegacyMode":false}}`, http.StatusAccepted)
	v.Must(http.MethodPut, epWS+"/computes/c1", "2022-01-01-preview", `{"properties":{"computeType":"AmlCompute"}}`, http.StatusCreated)
}

// TestClientBodies replays, through the engine, the bodies real clients
// send at the api-versions they use: azure-ai-ml 1.4.0 (recorded from
// testdata/python/mlv2.py) and @azure/arm-machinelearning 2.1.1 at
// 2022-10-01 (testdata/js/mlv2.mjs), whose end-to-end tests need the
// clients installed.
func TestClientBodies(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", "2022-10-01-preview", `{"location":"eastus","properties":{"storageAccount":"`+storageID+`","keyVault":"`+vaultID+`","v1LegacyMode":false}}`)
	env := epWS + "/environments/train/versions/1"
	model := epWS + "/models/clf/versions/1"
	tests := []struct {
		name, path, apiVersion, body string
		status                       int
	}{
		{"python: AmlCompute", epWS + "/computes/cpu-cluster", "2022-10-01-preview",
			`{"properties":{"properties":{"osType":"Linux","vmSize":"STANDARD_DS3_V2","scaleSettings":{"maxNodeCount":2,"minNodeCount":1},"remoteLoginPortPublicAccess":"NotSpecified","enableNodePublicIp":true},"computeType":"AmlCompute"},"location":"eastus"}`, 201},
		{"python: environment", env, "2022-05-01",
			`{"properties":{"description":"image-based environment","isAnonymous":false,"isArchived":false,"image":"mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"}}`, 201},
		{"python: command job", epWS + "/jobs/hello-job", "2022-10-01-preview",
			`{"properties":{"properties":{"azureml.git.dirty":"False"},"tags":{},"computeId":"` + epWS + `/computes/cpu-cluster","displayName":"hello","experimentName":"pysdk","isArchived":false,"jobType":"Command","command":"echo hello","environmentId":"` + env + `","environmentVariables":{},"inputs":{},"outputs":{}}}`, 201},
		{"python: model", model, "2022-05-01",
			`{"properties":{"properties":{},"tags":{},"isAnonymous":false,"isArchived":false,"modelType":"custom_model","modelUri":"azureml://subscriptions/s/resourcegroups/rg/workspaces/ws1/datastores/workspaceblobstore/paths/models/clf/model.pkl"}}`, 201},
		{"python: online endpoint", epOnline + "score", "2022-02-01-preview",
			`{"tags":{},"location":"eastus","identity":{"type":"SystemAssigned"},"properties":{"authMode":"Key","description":"pysdk","properties":{},"mirrorTraffic":{},"traffic":{}}}`, 201},
		{"python: managed deployment", epOnline + "score/deployments/blue", "2022-02-01-preview",
			`{"tags":{},"location":"eastus","properties":{"environmentId":"` + env + `","environmentVariables":{},"properties":{},"appInsightsEnabled":false,"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","model":"` + model + `","privateNetworkConnection":false},"sku":{"name":"Default","capacity":1}}`, 201},
		{"python: traffic", epOnline + "score", "2022-02-01-preview",
			`{"tags":{},"location":"eastus","identity":{"type":"SystemAssigned"},"properties":{"authMode":"Key","description":"pysdk","properties":{},"mirrorTraffic":{},"publicNetworkAccess":"Enabled","traffic":{"blue":100}}}`, 200},
		{"js: AmlCompute", epWS + "/computes/cpu", "2022-10-01",
			`{"location":"eastus","properties":{"computeType":"AmlCompute","properties":{"vmSize":"STANDARD_DS3_V2","scaleSettings":{"maxNodeCount":2,"minNodeCount":0}}}}`, 201},
		{"js: environment", epWS + "/environments/train/versions/2", "2022-10-01",
			`{"properties":{"image":"mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest","description":"train env"}}`, 201},
		{"js: model", epWS + "/models/clf/versions/2", "2022-10-01",
			`{"properties":{"modelUri":"azureml://subscriptions/x/resourcegroups/y/workspaces/jsws/datastores/workspaceblobstore/paths/model/","modelType":"custom_model"}}`, 201},
		{"js: job", epWS + "/jobs/job1", "2022-10-01",
			`{"properties":{"jobType":"Command","command":"python train.py","environmentId":"` + env + `","computeId":"` + epWS + `/computes/cpu","displayName":"train"}}`, 201},
		{"js: online endpoint", epOnline + "js-score", "2022-10-01", `{"location":"eastus","properties":{"authMode":"Key","description":"scoring"}}`, 201},
		{"js: deployment", epOnline + "js-score/deployments/green", "2022-10-01",
			`{"location":"eastus","sku":{"name":"Default","capacity":1},"properties":{"endpointComputeType":"Managed","model":"` + model + `","environmentId":"` + env + `","instanceType":"Standard_DS3_v2"}}`, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.t = t
			v.Must(http.MethodPut, tt.path, tt.apiVersion, tt.body, tt.status)
			v.Advance(2 * time.Second)
		})
	}
}
