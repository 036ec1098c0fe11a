package machinelearning

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
)

const (
	fsWS   = wsBase + "fs1"
	fsSets = fsWS + "/featuresets/"
	fsEnts = fsWS + "/featurestoreEntities/"
)

// featureStore creates the feature store fs1 (and a Default workspace
// plain1) at apiVersion.
func (v *env) featureStore(apiVersion string) {
	v.t.Helper()
	v.createWorkspace("fs1", apiVersion, `{"location":"eastus","kind":"featurestore","properties":{
		"featureStoreSettings":{"computeRuntime":{"sparkRuntimeVersion":"3.3"},"offlineStoreConnectionName":"offline"}}}`)
	v.createWorkspace("plain1", apiVersion, `{"location":"eastus"}`)
}

// putAsync PUTs a long-running feature store resource, checks the
// Azure-AsyncOperation answer and lets the operation finish.
func (v *env) putAsync(path, apiVersion, body string, status int) {
	v.t.Helper()
	resp, err := v.Serve(http.MethodPut, path, apiVersion, body)
	if err != nil {
		v.t.Fatalf("PUT %s: %v", path, err)
	}
	if resp.Status != status || resp.Header.Get("Azure-AsyncOperation") == "" {
		v.t.Fatalf("PUT %s: status %d, Azure-AsyncOperation %q; want %d with the header", path, resp.Status, resp.Header.Get("Azure-AsyncOperation"), status)
	}
	v.Advance(2 * time.Second)
}

const featuresetVersionBody = `{"properties":{"description":"transactions","entities":["azureml:account:1"],
	"specification":{"path":"azureml://datastores/workspaceblobstore/paths/spec"},"stage":"Development",
	"properties":{"azureml.feature.spend_7d":"double:spend over 7 days","azureml.feature.count_7d":"Integer"},
	"materializationSettings":{"storeType":"Offline","resource":{"instanceType":"standard_e8s_v3"},
	"schedule":{"triggerType":"Recurrence","frequency":"Day","interval":1}}}}`

// TestFeatureStoreChildren covers the containers, versions and features
// of a feature store at each api-version that has them.
func TestFeatureStoreChildren(t *testing.T) {
	for _, apiVersion := range []string{"2023-04-01", "2023-04-01-preview", "2023-10-01", "2024-04-01", "2024-10-01-preview", "2025-06-01", "2025-09-01"} {
		t.Run(apiVersion, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			v.featureStore("2025-09-01")
			v.putAsync(fsEnts+"account", apiVersion, `{"properties":{"description":"accounts"}}`, http.StatusCreated)
			v.putAsync(fsEnts+"account/versions/1", apiVersion, `{"properties":{"indexColumns":[{"columnName":"accountID","dataType":"string"}]}}`, http.StatusCreated)
			ent := v.Must(http.MethodGet, fsEnts+"account/versions/1", apiVersion, "", http.StatusOK)
			if got := enginetest.Walk(ent, "properties", "indexColumns"); got == nil || enginetest.Walk(got.([]any)[0], "dataType") != "String" {
				t.Errorf("indexColumns = %v", got)
			}

			// The version creates its container.
			v.putAsync(fsSets+"transactions/versions/1", apiVersion, featuresetVersionBody, http.StatusCreated)
			c := v.Must(http.MethodGet, fsSets+"transactions", apiVersion, "", http.StatusOK)
			if enginetest.Walk(c, "properties", "latestVersion") != "1" || enginetest.Walk(c, "properties", "nextVersion") != "2" {
				t.Errorf("container = %v", c["properties"])
			}
			ver := v.Must(http.MethodGet, fsSets+"transactions/versions/1", apiVersion, "", http.StatusOK)
			if enginetest.Walk(ver, "properties", "materializationSettings", "storeType") != "Offline" ||
				enginetest.Walk(ver, "properties", "provisioningState") != "Succeeded" {
				t.Errorf("version = %v", ver["properties"])
			}
			list := v.Must(http.MethodGet, fsSets+"transactions/versions", apiVersion, "", http.StatusOK)
			if n := len(list["value"].([]any)); n != 1 {
				t.Errorf("%d versions listed", n)
			}

			// Features come from the version.
			fl := v.Must(http.MethodGet, fsSets+"transactions/versions/1/features", apiVersion, "", http.StatusOK)
			var names []string
			for _, f := range fl["value"].([]any) {
				names = append(names, enginetest.Walk(f, "properties", "featureName").(string))
			}
			if !slices.Equal(names, []string{"count_7d", "spend_7d"}) {
				t.Errorf("features = %v", names)
			}
			f := v.Must(http.MethodGet, fsSets+"transactions/versions/1/features/SPEND_7D", apiVersion, "", http.StatusOK)
			if enginetest.Walk(f, "properties", "dataType") != "Double" || enginetest.Walk(f, "properties", "description") != "spend over 7 days" ||
				f["name"] != "spend_7d" {
				t.Errorf("feature = %v", f)
			}
			v.Fail(http.MethodGet, fsSets+"transactions/versions/1/features/nope", apiVersion, "", http.StatusNotFound, "ResourceNotFound")
			v.Fail(http.MethodPut, fsSets+"transactions/versions/1/features/x", apiVersion, `{}`, http.StatusMethodNotAllowed, "MethodNotAllowed")
			filtered := v.Must(http.MethodGet, fsSets+"transactions/versions/1/features?featureName=count_7d", apiVersion, "", http.StatusOK)
			if n := len(filtered["value"].([]any)); n != 1 {
				t.Errorf("featureName filter kept %d", n)
			}

			// stage and materializationSettings may change; the spec may not.
			v.putAsync(fsSets+"transactions/versions/1", apiVersion,
				`{"properties":{"description":"transactions","entities":["azureml:account:1"],"specification":{"path":"azureml://datastores/workspaceblobstore/paths/spec"},"stage":"Production",
				"properties":{"azureml.feature.spend_7d":"Double:spend over 7 days","azureml.feature.count_7d":"Integer"},"materializationSettings":{"storeType":"OnlineAndOffline"}}}`, http.StatusOK)
			v.Fail(http.MethodPut, fsSets+"transactions/versions/1", apiVersion,
				`{"properties":{"specification":{"path":"elsewhere"},"properties":{"azureml.feature.spend_7d":"Double:spend over 7 days","azureml.feature.count_7d":"Integer"}}}`,
				http.StatusConflict, "UserError")

			// DELETE is long-running with Location.
			resp, err := v.Serve(http.MethodDelete, fsEnts+"account/versions/1", apiVersion, "")
			if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
				t.Fatalf("DELETE entity version: %v %v", resp, err)
			}
			v.Advance(2 * time.Second)
			v.Fail(http.MethodGet, fsEnts+"account/versions/1", apiVersion, "", http.StatusNotFound, "ResourceNotFound")
		})
	}
}

// TestFeatureStoreRefusals covers the feature store children's 4xx.
func TestFeatureStoreRefusals(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.featureStore("2024-04-01")
	plain := wsBase + "plain1"
	tests := []struct {
		name, method, path, apiVersion, body string
		status                               int
		code, target                         string
	}{
		{"featureset in a Default workspace", http.MethodPut, plain + "/featuresets/x", newest, `{"properties":{}}`, 400, "UserError", "kind"},
		{"implicit container in a Default workspace", http.MethodPut, plain + "/featuresets/x/versions/1", newest, `{"properties":{}}`, 400, "UserError", "kind"},
		{"entity in a Default workspace", http.MethodPut, plain + "/featurestoreEntities/x", newest, `{"properties":{}}`, 400, "UserError", "kind"},
		{"bad feature data type", http.MethodPut, fsSets + "s/versions/1", newest, `{"properties":{"properties":{"azureml.feature.f":"Text"}}}`, 400, "UserError", "properties.properties.azureml.feature.f"},
		{"missing entity", http.MethodPut, fsSets + "s/versions/1", newest, `{"properties":{"entities":["azureml:nobody:1"]}}`, 400, "UserError", "properties.entities[0]"},
		{"bad index column type", http.MethodPut, fsEnts + "e/versions/1", newest, `{"properties":{"indexColumns":[{"columnName":"a","dataType":"Text"}]}}`, 400, "InvalidRequestContent", "properties.indexColumns[0].dataType"},
		{"unknown member", http.MethodPut, fsSets + "s/versions/1", newest, `{"properties":{"features":[]}}`, 400, "InvalidRequestContent", "properties.features"},
		{"not served at 2022-10-01", http.MethodPut, fsSets + "s", "2022-10-01", `{"properties":{}}`, 400, "NoRegisteredProviderFound", ""},
		{"not served at 2023-02-01-preview", http.MethodPut, fsSets + "s", "2023-02-01-preview", `{"properties":{}}`, 400, "NoRegisteredProviderFound", ""},
		{"features of a missing version", http.MethodGet, fsSets + "s/versions/9/features", newest, "", 404, "ParentResourceNotFound", ""},
		{"bad version name", http.MethodPut, fsSets + "s/versions/-1", newest, `{"properties":{}}`, 400, "InvalidResourceName", "name"},
	}
	for _, tt := range tests {
		v.Refuse(t, tt.name, tt.method, tt.path, tt.apiVersion, tt.body, tt.status, tt.code, tt.target)
	}
}

// TestFeaturesetBackfill covers backfill at the api-versions of both
// shapes, the materialization job it makes, and listMaterializationJobs.
func TestFeaturesetBackfill(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.featureStore("2025-09-01")
	v.putAsync(fsEnts+"account/versions/1", newest, `{"properties":{"indexColumns":[{"columnName":"accountID","dataType":"String"}]}}`, http.StatusCreated)
	v.putAsync(fsSets+"transactions/versions/1", newest, featuresetVersionBody, http.StatusCreated)
	v.putAsync(fsSets+"nostore/versions/1", newest, `{"properties":{}}`, http.StatusCreated)
	backfill := fsSets + "transactions/versions/1/backfill"

	// result reads a finished backfill's result at its Location.
	result := func(resp *engine.Response) map[string]any {
		t.Helper()
		v.Advance(2 * time.Second)
		return v.Must(http.MethodGet, strings.TrimPrefix(resp.Header.Get("Location"), "https://127.0.0.1:8443"), "", "", http.StatusOK)
	}

	window := `"featureWindow":{"featureWindowStart":"2024-01-01T00:00:00Z","featureWindowEnd":"2024-02-01T00:00:00Z"}`
	resp, err := v.Serve(http.MethodPost, backfill, newest, `{"jobId":"bf1","displayName":"January",`+window+`,"tags":{"k":"v"}}`)
	if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" || resp.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("backfill: %v %v", resp, err)
	}
	if ids := result(resp)["jobIds"]; !slices.Equal(ids.([]any), []any{"bf1"}) {
		t.Errorf("jobIds = %v", ids)
	}
	job := v.Must(http.MethodGet, fsWS+"/jobs/bf1", newest, "", http.StatusOK)
	p := job["properties"].(map[string]any)
	if p["jobType"] != "Spark" || p["status"] == "Completed" || enginetest.Walk(p, "resources", "runtimeVersion") != "3.3" ||
		enginetest.Walk(p, "resources", "instanceType") != "standard_e8s_v3" || enginetest.Walk(p, "properties", "azureml.FeaturesetName") != "transactions" {
		t.Errorf("materialization job = %v", p)
	}
	v.Advance(time.Hour)
	if st := enginetest.Walk(v.Must(http.MethodGet, fsWS+"/jobs/bf1", newest, "", http.StatusOK), "properties", "status"); st != "Completed" {
		t.Errorf("job status after an hour = %v", st)
	}

	// 2023-04-01: no jobId in the request, one jobId in the result, and the jobs listed.
	v.Refuse(t, "jobId at 2023-04-01", http.MethodPost, backfill, "2023-04-01", `{"jobId":"x"}`, 400, "InvalidRequestContent", "jobId")
	resp, err = v.Serve(http.MethodPost, backfill, "2023-04-01", `{"displayName":"February"}`)
	if err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("backfill at 2023-04-01: %v %v", resp, err)
	}
	if id, _ := result(resp)["jobId"].(string); id == "" {
		t.Errorf("2023-04-01 backfill result has no jobId")
	}
	jobs := v.Must(http.MethodPost, fsSets+"transactions/versions/1/listMaterializationJobs", "2023-04-01", "", http.StatusOK)
	items := jobs["value"].([]any)
	if len(items) != 2 || enginetest.Walk(items[0], "jobId") != "bf1" || enginetest.Walk(items[0], "status") != "Completed" ||
		enginetest.Walk(items[1], "displayName") != "February" || enginetest.Walk(items[1], "status") == "Completed" {
		t.Errorf("materialization jobs = %v", items)
	}
	filtered := v.Must(http.MethodPost, fsSets+"transactions/versions/1/listMaterializationJobs?featureWindowStart=2024-03-01T00:00:00Z", "2023-04-01", "", http.StatusOK)
	if n := len(filtered["value"].([]any)); n != 1 {
		t.Errorf("window filter kept %d jobs, want the one without a window", n)
	}
	v.Refuse(t, "listMaterializationJobs at 2024-04-01", http.MethodPost, fsSets+"transactions/versions/1/listMaterializationJobs", newest, "", 400, "InvalidResourceType", "")

	v.Refuse(t, "no store", http.MethodPost, fsSets+"nostore/versions/1/backfill", newest, `{}`, 400, "UserError", "properties.materializationSettings.storeType")
	v.Refuse(t, "window reversed", http.MethodPost, backfill, newest,
		`{"featureWindow":{"featureWindowStart":"2024-02-01T00:00:00Z","featureWindowEnd":"2024-01-01T00:00:00Z"}}`, 400, "UserError", "featureWindow")
	v.Refuse(t, "job exists", http.MethodPost, backfill, newest, `{"jobId":"bf1"}`, 409, "UserError", "jobId")
	v.Refuse(t, "missing version", http.MethodPost, fsSets+"transactions/versions/9/backfill", newest, `{}`, 404, "ResourceNotFound", "")
}
