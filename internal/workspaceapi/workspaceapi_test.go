package workspaceapi

import (
	"github.com/armlet/armlet/internal/engine"

	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/netmodel"
)

// TestRouting sends every route (and near misses) and checks the status
// or error code.
func TestRouting(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	hist := "/history/v1.0" + wsPath + "ws1"
	ds := "/datastore/v1.0" + wsPath + "ws1"
	mm := "/modelmanagement/v1.0" + wsPath + "ws1"
	met := "/metric/v2.0" + wsPath + "ws1"
	art := "/artifact/v2.0" + wsPath + "ws1"
	blob := `{"name":"blob1","dataStoreType":"AzureBlob","azureStorageSection":{"accountName":"acct","containerName":"c1","accountKey":"secret"}}`

	tests := []struct {
		name, method, path, body string
		status                   int    // expected success status
		code                     string // or expected error code
		errStatus                int
	}{
		{"discovery", "GET", "/discovery", "", 200, "", 0},
		{"discovery trailing slash", "GET", "/discovery/", "", 200, "", 0},
		{"discovery post", "POST", "/discovery", "{}", 0, arm.CodeMethodNotAllowed, 405},
		{"discovery unknown workspace", "GET", "/discovery/workspaces/5f6d1f4e-0000-0000-0000-000000000000", "", 0, arm.CodeResourceNotFound, 404},
		{"discovery deeper", "GET", "/discovery/x/y/z", "", 0, arm.CodeInvalidRequestURI, 404},
		{"experiment create", "POST", hist + "/experiments/exp1", "", 200, "", 0},
		{"experiment put", "PUT", hist + "/experiments/exp1", `{"description":"d","tags":{"a":"b"}}`, 200, "", 0},
		{"experiment get", "GET", hist + "/experiments/exp1", "", 200, "", 0},
		{"experiment get ignoring case", "GET", strings.ToUpper(hist[:8]) + hist[8:] + "/EXPERIMENTS/exp1", "", 200, "", 0},
		{"experiment list", "GET", hist + "/experiments", "", 200, "", 0},
		{"experiment delete", "DELETE", hist + "/experiments/exp1", "", 0, arm.CodeMethodNotAllowed, 405},
		{"experiment missing", "GET", hist + "/experiments/nope", "", 0, arm.CodeUserError, 404},
		{"experiment bad json", "PUT", hist + "/experiments/exp1", `{"description":`, 0, arm.CodeUserError, 400},
		{"experiment body not object", "PUT", hist + "/experiments/exp1", `[1]`, 0, arm.CodeUserError, 400},
		{"experiment tags wrong type", "PUT", hist + "/experiments/exp1", `{"tags":{"a":1}}`, 0, arm.CodeUserError, 400},
		{"experiment bad name", "POST", hist + "/experiments/-x", "", 0, arm.CodeUserError, 400},
		{"run create", "PATCH", hist + "/experiments/exp1/runs/run1", `{"status":"Running"}`, 200, "", 0},
		{"run put", "PUT", hist + "/experiments/exp1/runs/run1", `{"tags":{"t":"1"}}`, 200, "", 0},
		{"run get", "GET", hist + "/experiments/exp1/runs/run1", "", 200, "", 0},
		{"run details", "GET", hist + "/experiments/exp1/runs/run1/details", "", 200, "", 0},
		{"run list", "GET", hist + "/experiments/exp1/runs", "", 200, "", 0},
		{"run by id", "GET", hist + "/runs/run1", "", 200, "", 0},
		{"run details by id", "GET", hist + "/runs/run1/details", "", 200, "", 0},
		{"run patch by id", "PATCH", hist + "/runs/run1", `{"status":"Completed"}`, 200, "", 0},
		{"run patch missing by id", "PATCH", hist + "/runs/run2", `{}`, 0, arm.CodeUserError, 404},
		{"run delete", "DELETE", hist + "/runs/run1", "", 0, arm.CodeMethodNotAllowed, 405},
		{"run bad status", "PATCH", hist + "/experiments/exp1/runs/run1", `{"status":"Sleeping"}`, 0, arm.CodeUserError, 400},
		{"run bad time", "PATCH", hist + "/experiments/exp1/runs/run1", `{"startTimeUtc":"yesterday"}`, 0, arm.CodeUserError, 400},
		{"run bad json", "PATCH", hist + "/experiments/exp1/runs/run1", `{"status"`, 0, arm.CodeUserError, 400},
		{"run body runId mismatch", "PATCH", hist + "/experiments/exp1/runs/run1", `{"runId":"other"}`, 0, arm.CodeUserError, 400},
		{"run other experiment", "GET", hist + "/experiments/exp2/runs/run1", "", 0, arm.CodeUserError, 404},
		{"run patch other experiment", "PATCH", hist + "/experiments/exp2/runs/run1", `{}`, 0, arm.CodeUserError, 409},
		{"run bad id", "PATCH", hist + "/experiments/exp1/runs/run%20one", `{}`, 0, arm.CodeUserError, 400},
		{"datastore create", "POST", ds + "/datastores", blob, 200, "", 0},
		{"datastore create again", "POST", ds + "/datastores", blob, 0, arm.CodeUserError, 409},
		{"datastore put", "PUT", ds + "/datastores/blob1", blob, 200, "", 0},
		{"datastore get", "GET", ds + "/datastores/blob1", "", 200, "", 0},
		{"datastore list", "GET", ds + "/datastores", "", 200, "", 0},
		{"datastore bad type", "PUT", ds + "/datastores/blob2", `{"dataStoreType":"Floppy"}`, 0, arm.CodeUserError, 400},
		{"datastore no section", "PUT", ds + "/datastores/blob2", `{"dataStoreType":"AzureBlob"}`, 0, arm.CodeUserError, 400},
		{"datastore bad json", "POST", ds + "/datastores", `nope`, 0, arm.CodeUserError, 400},
		{"datastore empty body", "POST", ds + "/datastores", ``, 0, arm.CodeUserError, 400},
		{"datastore patch", "PATCH", ds + "/datastores/blob1", `{}`, 0, arm.CodeMethodNotAllowed, 405},
		{"default none", "GET", ds + "/default", "", 0, arm.CodeUserError, 404},
		{"default set", "PUT", ds + "/default/blob1", "", 200, "", 0},
		{"default get", "GET", ds + "/default", "", 200, "", 0},
		{"default set body", "PUT", ds + "/default", `{"name":"blob1"}`, 200, "", 0},
		{"default set missing", "PUT", ds + "/default/nope", "", 0, arm.CodeUserError, 404},
		{"model register", "POST", mm + "/models", `{"name":"m1","url":"aml://artifact/x","mimeType":"application/octet-stream"}`, 200, "", 0},
		{"model list", "GET", mm + "/models?name=m1", "", 200, "", 0},
		{"model get", "GET", mm + "/models/m1:1", "", 200, "", 0},
		{"model get bad id", "GET", mm + "/models/m1", "", 0, arm.CodeUserError, 404},
		{"model no name", "POST", mm + "/models", `{"url":"x"}`, 0, arm.CodeUserError, 400},
		{"model bad tags", "POST", mm + "/models", `{"name":"m1","kvTags":[]}`, 0, arm.CodeUserError, 400},
		{"model put", "PUT", mm + "/models", `{}`, 0, arm.CodeMethodNotAllowed, 405},
		{"metrics post", "POST", met + "/runs/run1/batchsync", `{"values":[{"name":"acc","columns":{"acc":"Double"},"value":[{"data":{"acc":0.9},"step":0}]}]}`, 200, "", 0},
		{"metrics post batch", "POST", met + "/runs/run1/batch", `{"values":[]}`, 200, "", 0},
		{"metrics full", "GET", met + "/runs/run1/full", "", 200, "", 0},
		{"metrics full post", "POST", met + "/runs/run1/full", `{}`, 200, "", 0},
		{"metrics missing run", "POST", met + "/runs/nope/batchsync", `{"values":[]}`, 0, arm.CodeUserError, 404},
		{"metrics bad body", "POST", met + "/runs/run1/batchsync", `{"values":{}}`, 0, arm.CodeUserError, 400},
		{"metrics no name", "POST", met + "/runs/run1/batchsync", `{"values":[{"value":[]}]}`, 0, arm.CodeUserError, 400},
		{"metrics bad json", "POST", met + "/runs/run1/batchsync", `{`, 0, arm.CodeUserError, 400},
		{"metrics get batchsync", "GET", met + "/runs/run1/batchsync", "", 0, arm.CodeMethodNotAllowed, 405},
		{"artifact batch create", "POST", art + "/artifacts/ExperimentRun/dcid.run1/batch/metadata", `{"paths":[{"path":"outputs/a.txt"}]}`, 200, "", 0},
		{"artifact upload", "POST", art + "/artifacts/ExperimentRun/dcid.run1/content?path=outputs/b.txt", "hello", 200, "", 0},
		{"artifact download", "GET", art + "/artifacts/ExperimentRun/dcid.run1/content?path=outputs/b.txt", "", 200, "", 0},
		{"artifact metadata", "GET", art + "/artifacts/ExperimentRun/dcid.run1/metadata?path=outputs/b.txt", "", 200, "", 0},
		{"artifact contentinfo", "GET", art + "/artifacts/ExperimentRun/dcid.run1/contentinfo?path=outputs/b.txt", "", 200, "", 0},
		{"artifact list", "GET", art + "/artifacts/ExperimentRun/dcid.run1", "", 200, "", 0},
		{"artifact batch get", "POST", art + "/artifacts/batch/metadata", `{"artifactIds":["ExperimentRun/dcid.run1/outputs/b.txt"]}`, 200, "", 0},
		{"artifact delete", "DELETE", art + "/artifacts/ExperimentRun/dcid.run1/metadata?path=outputs/a.txt", "", 200, "", 0},
		{"artifact missing", "GET", art + "/artifacts/ExperimentRun/dcid.run1/metadata?path=outputs/a.txt", "", 0, arm.CodeUserError, 404},
		{"artifact no path", "GET", art + "/artifacts/ExperimentRun/dcid.run1/content", "", 0, arm.CodeUserError, 400},
		{"artifact bad paths", "POST", art + "/artifacts/ExperimentRun/dcid.run1/batch/metadata", `{"paths":["x"]}`, 0, arm.CodeUserError, 400},
		{"artifact bad container", "GET", art + "/artifacts/ExperimentRun/dc%20id", "", 0, arm.CodeUserError, 400},
		{"artifact batch bad json", "POST", art + "/artifacts/batch/metadata", `{"artifactIds":`, 0, arm.CodeUserError, 400},
		{"unknown service", "GET", "/dataset/v1.0" + wsPath + "ws1/datasets", "", 0, arm.CodeInvalidRequestURI, 404},
		{"mlflow not built", "GET", "/mlflow/v1.0" + wsPath + "ws1/api/2.0/mlflow/experiments/list", "", 0, arm.CodeInvalidRequestURI, 404},
		{"wrong version", "GET", "/history/v2.0" + wsPath + "ws1/experiments", "", 0, arm.CodeInvalidRequestURI, 404},
		{"unknown tail", "GET", hist + "/widgets", "", 0, arm.CodeInvalidRequestURI, 404},
		{"no tail", "GET", hist, "", 0, arm.CodeInvalidRequestURI, 404},
		{"broken scope", "GET", "/history/v1.0/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/workspaces/ws1/experiments", "", 0, arm.CodeInvalidRequestURI, 404},
		{"empty segment", "GET", "/history/v1.0/subscriptions//resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/experiments", "", 0, arm.CodeInvalidRequestURI, 400},
		{"dot segment", "GET", hist + "/experiments/./runs", "", 0, arm.CodeInvalidRequestURI, 400},
		{"dot-dot segment", "GET", hist + "/experiments/e/../../experiments", "", 0, arm.CodeInvalidRequestURI, 400},
		{"escaped slash", "GET", hist + "/experiments/a%2Fb", "", 0, arm.CodeInvalidRequestURI, 400},
		{"control character", "GET", hist + "/experiments/a%00b", "", 0, arm.CodeInvalidRequestURI, 400},
		{"bad escape", "GET", hist + "/experiments/%zz", "", 0, arm.CodeInvalidRequestURI, 400},
		{"root", "GET", "/", "", 0, arm.CodeInvalidRequestURI, 404},
		{"missing workspace", "GET", "/history/v1.0" + wsPath + "nope/experiments", "", 0, arm.CodeResourceNotFound, 404},
		{"missing resource group", "GET", "/history/v1.0/subscriptions/" + testSub + "/resourceGroups/nope/providers/Microsoft.MachineLearningServices/workspaces/ws1/experiments", "", 0, arm.CodeResourceGroupNotFound, 404},
	}
	for _, tc := range tests {
		// Sequential on purpose: later rows read what earlier rows wrote.
		if tc.code == "" {
			h.ok(t, tc.method, tc.path, tc.body, tc.status)
			continue
		}
		ae := h.fail(t, tc.method, tc.path, tc.body, netmodel.Origin{}, tc.errStatus, tc.code)
		if ae.Message == "" {
			t.Errorf("%s: empty error message", tc.name)
		}
	}
}

// TestNetworkRule checks the 403 of docs/design.md section 2.4 across origins.
func TestNetworkRule(t *testing.T) {
	h := newHarness(t)
	open := h.workspace(t, "open", "Enabled")
	closed := h.workspace(t, "closed", "Disabled")
	other := h.workspace(t, "other", "Disabled")
	path := func(id resourceid.ID) string { return "/history/v1.0" + id.String() + "/experiments" }

	tests := []struct {
		name   string
		ws     resourceid.ID
		origin netmodel.Origin
		denied bool
	}{
		{"public, Enabled", open, netmodel.Origin{}, false},
		{"public, Disabled", closed, netmodel.Origin{}, true},
		{"private to it, Disabled", closed, privateTo(closed), false},
		{"private to it, Enabled", open, privateTo(open), false},
		{"private to another workspace", closed, privateTo(other), true},
		{"private to another, target open", open, privateTo(closed), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.serve(http.MethodGet, path(tc.ws), "", tc.origin)
			if !tc.denied {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if resp.Status != http.StatusOK {
					t.Fatalf("status %d", resp.Status)
				}
				return
			}
			ae, ok := arm.AsError(err)
			if !ok || ae.Status != http.StatusForbidden || ae.Code != "UserError" ||
				ae.Message != "Access to workspace was denied based on workspace private link configuration." {
				t.Fatalf("got %v, want the 403 UserError private link message", err)
			}
			if len(ae.AdditionalInfo) != 1 || ae.AdditionalInfo[0].Type != "ComponentName" {
				t.Errorf("additionalInfo = %+v", ae.AdditionalInfo)
			}
		})
	}

	// Flipping publicNetworkAccess applies at once; v1LegacyMode does not
	// block the endpoint.
	h.arm(t, http.MethodPatch, closed.String(), mlVersion, `{"properties":{"publicNetworkAccess":"Enabled","v1LegacyMode":true}}`)
	h.ok(t, http.MethodGet, path(closed), "", http.StatusOK)
	h.arm(t, http.MethodPatch, open.String(), mlVersion, `{"properties":{"publicNetworkAccess":"Disabled"}}`)
	h.fail(t, http.MethodGet, path(open), "", netmodel.Origin{}, http.StatusForbidden, "UserError")

	// A private endpoint to another workspace learns nothing about a
	// missing one either.
	missing, _ := resourceid.Parse(wsPath + "missing")
	h.fail(t, http.MethodGet, path(missing), "", privateTo(other), http.StatusForbidden, "UserError")

	// Discovery of one workspace follows the same rule; plain /discovery
	// is regional.
	wsid := func(id resourceid.ID) string {
		r, err := h.e.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Properties["workspaceId"].(string)
	}
	h.fail(t, http.MethodGet, "/discovery/workspaces/"+wsid(other), "", netmodel.Origin{}, http.StatusForbidden, "UserError")
	if _, err := h.serve(http.MethodGet, "/discovery/workspaces/"+wsid(other), "", privateTo(other)); err != nil {
		t.Errorf("private discovery: %v", err)
	}
	h.fail(t, http.MethodGet, "/discovery/workspaces/"+wsid(closed), "", privateTo(other), http.StatusForbidden, "UserError")
	h.ok(t, http.MethodGet, "/discovery/workspaces/"+wsid(closed), "", http.StatusOK)
	h.ok(t, http.MethodGet, "/discovery", "", http.StatusOK)
}

// TestDiscoveryURL follows a workspace's discoveryUrl to this service.
func TestDiscoveryURL(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	ws := h.arm(t, http.MethodGet, wsPath+"ws1", mlVersion, "")
	du, _ := ws["properties"].(map[string]any)["discoveryUrl"].(string)
	if du != baseURL+"/discovery" {
		t.Fatalf("discoveryUrl = %q, want %q", du, baseURL+"/discovery")
	}
	body := h.ok(t, http.MethodGet, strings.TrimPrefix(du, baseURL), "", http.StatusOK)
	for _, k := range []string{"api", "catalog", "experimentation", "history", "modelmanagement", "pipelines", "studio"} {
		if body[k] != baseURL {
			t.Errorf("discovery %s = %v, want %s", k, body[k], baseURL)
		}
	}
	// Following "api" + the history path reaches run history.
	h.ok(t, http.MethodGet, strings.TrimPrefix(body["history"].(string), baseURL)+"/history/v1.0"+wsPath+"ws1/experiments", "", http.StatusOK)
}

// TestRunHistoryRoundTrip creates an experiment and runs and reads them
// back.
func TestRunHistoryRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	hist := "/history/v1.0" + wsPath + "ws1"

	exp := h.ok(t, "PUT", hist+"/experiments/train", `{"description":"training","tags":{"team":"a"}}`, 200)
	if exp["name"] != "train" || exp["description"] != "training" || exp["experimentId"] == "" {
		t.Fatalf("experiment = %v", exp)
	}
	// POST on an existing experiment returns it unchanged.
	again := h.ok(t, "POST", hist+"/experiments/train", `{"description":"other"}`, 200)
	if again["experimentId"] != exp["experimentId"] || again["description"] != "training" {
		t.Fatalf("create again = %v", again)
	}

	r1 := h.ok(t, "PATCH", hist+"/experiments/train/runs/train_1", `{"properties":{"p":"1"},"tags":{"a":"x"}}`, 200)
	if r1["status"] != "NotStarted" || r1["runNumber"] != 1.0 || r1["experimentId"] != exp["experimentId"] {
		t.Fatalf("new run = %v", r1)
	}
	h.clk.Advance(time.Minute)
	r1 = h.ok(t, "PATCH", hist+"/experiments/train/runs/train_1", `{"status":"Running","tags":{"b":"y"}}`, 200)
	if r1["status"] != "Running" || r1["startTimeUtc"] == nil || r1["endTimeUtc"] != nil {
		t.Fatalf("running = %v", r1)
	}
	if tags := r1["tags"].(map[string]any); tags["a"] != "x" || tags["b"] != "y" {
		t.Errorf("tags did not merge: %v", tags)
	}
	h.fail(t, "PATCH", hist+"/experiments/train/runs/train_1", `{"properties":{"p":"2"}}`, netmodel.Origin{}, 400, arm.CodeUserError)
	r1 = h.ok(t, "PATCH", hist+"/runs/train_1", `{"status":"Completed"}`, 200)
	if r1["status"] != "Completed" || r1["endTimeUtc"] == nil || r1["revision"] != 3.0 {
		t.Fatalf("completed = %v", r1)
	}
	got := h.ok(t, "GET", hist+"/experiments/train/runs/train_1", "", 200)
	if got["status"] != "Completed" || got["properties"].(map[string]any)["p"] != "1" {
		t.Fatalf("get = %v", got)
	}
	det := h.ok(t, "GET", hist+"/experimentids/"+exp["experimentId"].(string)+"/runs/train_1/details", "", 200)
	if det["status"] != "Completed" || det["runId"] != "train_1" {
		t.Fatalf("details = %v", det)
	}

	// A run in a new experiment creates it.
	h.ok(t, "PATCH", hist+"/experiments/eval/runs/eval_1", `{"status":"Running"}`, 200)
	h.ok(t, "PATCH", hist+"/experiments/train/runs/train_2", `{}`, 200)
	runs := values(t, h.ok(t, "GET", hist+"/experiments/train/runs", "", 200))
	if len(runs) != 2 || runs[0].(map[string]any)["runId"] != "train_1" || runs[1].(map[string]any)["runNumber"] != 2.0 {
		t.Fatalf("runs = %v", runs)
	}
	exps := values(t, h.ok(t, "GET", hist+"/experiments", "", 200))
	if len(exps) != 2 {
		t.Fatalf("experiments = %v", exps)
	}
	latest := h.ok(t, "GET", hist+"/experiments/train", "", 200)
	if latest["latestCreatedRunId"] != "train_2" {
		t.Errorf("latestCreatedRunId = %v", latest["latestCreatedRunId"])
	}
}

// TestMetricsRoundTrip logs metrics in two batches and reads them back.
func TestMetricsRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	h.ok(t, "PATCH", "/history/v1.0"+wsPath+"ws1/experiments/e/runs/r1", `{}`, 200)
	met := "/metric/v2.0" + wsPath + "ws1/runs/r1"
	h.ok(t, "POST", met+"/batchsync", `{"values":[{"name":"loss","columns":{"loss":"Double"},"properties":{"uxMetricType":"azureml.v1.scalar"},"value":[{"data":{"loss":0.5},"step":0}]},{"name":"acc","columns":{"acc":"Double"},"value":[{"data":{"acc":0.7},"step":0}]}]}`, 200)
	h.ok(t, "POST", met+"/batchsync", `{"values":[{"name":"loss","value":[{"data":{"loss":0.25},"step":1}]}]}`, 200)
	// A bad batch stores nothing.
	h.fail(t, "POST", met+"/batchsync", `{"values":[{"name":"loss","value":[{"data":{"loss":0.1}}]},{"name":"x","value":[1]}]}`, netmodel.Origin{}, 400, arm.CodeUserError)

	full := values(t, h.ok(t, "GET", met+"/full", "", 200))
	if len(full) != 2 {
		t.Fatalf("metrics = %v", full)
	}
	acc, loss := full[0].(map[string]any), full[1].(map[string]any)
	if acc["name"] != "acc" || loss["name"] != "loss" {
		t.Fatalf("metric order = %v, %v", acc["name"], loss["name"])
	}
	lv := loss["value"].([]any)
	if len(lv) != 2 || lv[1].(map[string]any)["data"].(map[string]any)["loss"] != 0.25 {
		t.Fatalf("loss values = %v", lv)
	}
	if loss["properties"].(map[string]any)["uxMetricType"] != "azureml.v1.scalar" {
		t.Errorf("loss properties = %v", loss["properties"])
	}
}

// TestArtifactsRoundTrip creates, uploads, downloads, lists and deletes
// artifacts.
func TestArtifactsRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	art := "/artifact/v2.0" + wsPath + "ws1/artifacts"
	res := h.ok(t, "POST", art+"/ExperimentRun/dcid.r1/batch/metadata", `{"paths":[{"path":"outputs/model.pkl"},{"path":"logs/std_log.txt"}]}`, 200)
	arts := res["artifacts"].(map[string]any)
	if len(arts) != 2 || arts["outputs/model.pkl"].(map[string]any)["artifactId"] != "ExperimentRun/dcid.r1/outputs/model.pkl" {
		t.Fatalf("batch create = %v", res)
	}
	info := res["artifactContentInformation"].(map[string]any)["outputs/model.pkl"].(map[string]any)
	cu := info["contentUri"].(string)
	if !strings.HasPrefix(cu, baseURL+"/artifact/v2.0"+wsPath+"ws1/artifacts/ExperimentRun/dcid.r1/content?path=") {
		t.Fatalf("contentUri = %q", cu)
	}

	h.ok(t, "POST", art+"/ExperimentRun/dcid.r1/content?path=outputs/model.pkl", "\x00\x01binary", 200)
	// The contentUri leads to the content.
	resp, err := h.serve("GET", strings.TrimPrefix(cu, baseURL), "", netmodel.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := resp.Body.(engine.RawBody)
	if !ok || string(raw.Data) != "\x00\x01binary" {
		t.Fatalf("download = %#v", resp.Body)
	}
	// An empty artifact downloads as nothing.
	resp, err = h.serve("GET", art+"/ExperimentRun/dcid.r1/content?path=logs/std_log.txt", "", netmodel.Origin{})
	if err != nil || len(resp.Body.(engine.RawBody).Data) != 0 {
		t.Fatalf("empty download = %v, %v", resp, err)
	}
	meta := h.ok(t, "GET", art+"/ExperimentRun/dcid.r1/metadata?path=outputs/model.pkl", "", 200)
	if meta["size"] != 8.0 {
		t.Errorf("metadata = %v", meta)
	}
	list := values(t, h.ok(t, "GET", art+"/ExperimentRun/dcid.r1?path=outputs/", "", 200))
	if len(list) != 1 {
		t.Fatalf("list outputs/ = %v", list)
	}
	got := h.ok(t, "POST", art+"/batch/metadata", `{"artifactIds":["ExperimentRun/dcid.r1/outputs/model.pkl","ExperimentRun/dcid.r1/nope"]}`, 200)
	if len(got["artifacts"].(map[string]any)) != 1 || len(got["errors"].(map[string]any)) != 1 {
		t.Fatalf("batch get = %v", got)
	}
	h.ok(t, "DELETE", art+"/ExperimentRun/dcid.r1/metadata?path=outputs/model.pkl", "", 200)
	h.fail(t, "GET", art+"/ExperimentRun/dcid.r1/content?path=outputs/model.pkl", "", netmodel.Origin{}, 404, arm.CodeUserError)
	if l := values(t, h.ok(t, "GET", art+"/ExperimentRun/dcid.r1", "", 200)); len(l) != 1 {
		t.Fatalf("list after delete = %v", l)
	}
}

// TestDatastoresRoundTrip registers v1 datastores, hides secrets, sets
// the default and deletes.
func TestDatastoresRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	ds := "/datastore/v1.0" + wsPath + "ws1"
	h.ok(t, "PUT", ds+"/datastores/blob1", `{"dataStoreType":"azureblob","azureStorageSection":{"accountName":"acct","containerName":"c1","accountKey":"s3cret"},"tags":{"a":"b"}}`, 200)
	h.ok(t, "POST", ds+"/datastores", `{"name":"adls","dataStoreType":"AzureDataLakeGen2","azureDataLakeSection":{"storeName":"lake","clientSecret":"x"}}`, 200)
	got := h.ok(t, "GET", ds+"/datastores/BLOB1", "", 200)
	sec := got["azureStorageSection"].(map[string]any)
	if got["name"] != "blob1" || got["dataStoreType"] != "AzureBlob" || sec["accountName"] != "acct" {
		t.Fatalf("datastore = %v", got)
	}
	if _, leaked := sec["accountKey"]; leaked {
		t.Errorf("accountKey shown without includeSecret: %v", sec)
	}
	withSecret := h.ok(t, "GET", ds+"/datastores/blob1?includeSecret=true", "", 200)
	if withSecret["azureStorageSection"].(map[string]any)["accountKey"] != "s3cret" {
		t.Errorf("includeSecret = %v", withSecret)
	}
	if l := values(t, h.ok(t, "GET", ds+"/datastores", "", 200)); len(l) != 2 {
		t.Fatalf("list = %v", l)
	}
	h.ok(t, "PUT", ds+"/default/blob1", "", 200)
	if d := h.ok(t, "GET", ds+"/default", "", 200); d["name"] != "blob1" {
		t.Fatalf("default = %v", d)
	}
	h.ok(t, "DELETE", ds+"/datastores/blob1", "", 200)
	h.fail(t, "GET", ds+"/default", "", netmodel.Origin{}, 404, arm.CodeUserError)
	h.fail(t, "GET", ds+"/datastores/blob1", "", netmodel.Origin{}, 404, arm.CodeUserError)

	// v1 datastores are not the v2 ARM datastores.
	resp, err := h.e.Serve(context.Background(), armGet(h, wsPath+"ws1/datastores/adls"))
	if err == nil {
		t.Fatalf("v1 datastore visible through ARM: %d", resp.Status)
	}
}

// TestModelsRoundTrip registers versions and filters by name.
func TestModelsRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	mm := "/modelmanagement/v1.0" + wsPath + "ws1/models"
	m1 := h.ok(t, "POST", mm, `{"name":"clf","url":"aml://artifact/ExperimentRun/dcid.r1/outputs/model.pkl","mimeType":"application/octet-stream","kvTags":{"k":"v"},"framework":"ScikitLearn"}`, 200)
	if m1["id"] != "clf:1" || m1["version"] != 1.0 || m1["framework"] != "ScikitLearn" {
		t.Fatalf("register = %v", m1)
	}
	if m2 := h.ok(t, "POST", mm, `{"name":"clf","id":"ignored","version":9}`, 200); m2["id"] != "clf:2" {
		t.Fatalf("second version = %v", m2)
	}
	h.ok(t, "POST", mm, `{"name":"other"}`, 200)
	if l := values(t, h.ok(t, "GET", mm+"?name=clf", "", 200)); len(l) != 2 {
		t.Fatalf("list clf = %v", l)
	}
	if l := values(t, h.ok(t, "GET", mm, "", 200)); len(l) != 3 {
		t.Fatalf("list all = %v", l)
	}
	if got := h.ok(t, "GET", mm+"/clf:1", "", 200); got["kvTags"].(map[string]any)["k"] != "v" {
		t.Fatalf("get = %v", got)
	}
	h.ok(t, "DELETE", mm+"/clf:1", "", 200)
	h.fail(t, "GET", mm+"/clf:1", "", netmodel.Origin{}, 404, arm.CodeUserError)
}

// TestWorkspaceDeleted: once a workspace is deleted its endpoint answers
// 404, and a new workspace of the same name does not see the old data.
func TestWorkspaceDeleted(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	hist := "/history/v1.0" + wsPath + "ws1"
	h.ok(t, "PATCH", hist+"/experiments/e/runs/r1", `{}`, 200)
	h.ok(t, "POST", "/modelmanagement/v1.0"+wsPath+"ws1/models", `{"name":"m"}`, 200)

	h.arm(t, http.MethodDelete, wsPath+"ws1", mlVersion, "")
	h.clk.Advance(time.Hour)
	if err := h.e.ReapDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.fail(t, "GET", hist+"/experiments/e/runs/r1", "", netmodel.Origin{}, 404, arm.CodeResourceNotFound)
	if ents, err := h.s.kv.Scan(context.Background(), nil, nil, 0); err != nil {
		t.Errorf("scanning for records left: %v", err)
	} else if len(ents) != 0 {
		t.Errorf("%d records left after the workspace was deleted", len(ents))
	}

	h.workspace(t, "ws1", "Enabled")
	h.fail(t, "GET", hist+"/experiments/e/runs/r1", "", netmodel.Origin{}, 404, arm.CodeUserError)
	if l := values(t, h.ok(t, "GET", hist+"/experiments", "", 200)); len(l) != 0 {
		t.Fatalf("experiments of the new workspace = %v", l)
	}

	// Deleting the resource group makes the endpoint answer 404 as soon
	// as the delete completes, before the engine reaps the subtree.
	h.arm(t, http.MethodDelete, rgPath, "2021-04-01", "")
	h.clk.Advance(time.Hour)
	h.fail(t, "GET", hist+"/experiments", "", netmodel.Origin{}, 404, arm.CodeResourceGroupNotFound)
}

// TestWorkspacesIsolated: two workspaces keep separate records.
func TestWorkspacesIsolated(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "wsa", "Enabled")
	h.workspace(t, "wsb", "Enabled")
	h.ok(t, "PUT", "/history/v1.0"+wsPath+"wsa/experiments/only-a", "", 200)
	h.fail(t, "GET", "/history/v1.0"+wsPath+"wsb/experiments/only-a", "", netmodel.Origin{}, 404, arm.CodeUserError)
}

// TestWorkspaceHostServesItsWorkspaceOnly: a request that came to one
// workspace's own host name ({wsid}.workspace.{region}.api.azureml.ms)
// reaches that workspace only: a path naming another workspace, one that
// does not exist, or discovery of another workspaceId is refused 403 with
// the same answer, before anything says whether the other exists.
func TestWorkspaceHostServesItsWorkspaceOnly(t *testing.T) {
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	h.workspace(t, "ws2", "Enabled")
	wsid := func(name string) string {
		id, err := resourceid.Parse(wsPath + name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := h.e.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Properties["workspaceId"].(string)
	}
	host1, host2 := wsid("ws1"), wsid("ws2")
	serve := func(hostWS, path string) (*engine.Response, error) {
		tg, err := h.s.Resolve(context.Background(), &Request{
			Method: http.MethodGet, Path: path, Query: url.Values{}, Header: http.Header{},
			Caller: testCaller, HostWorkspaceID: hostWS, BaseURL: "https://" + hostWS + ".workspace.eastus.api.azureml.ms", Now: h.clk.Now(),
		})
		if err != nil {
			return nil, err
		}
		return h.s.Serve(context.Background(), tg)
	}
	for _, tc := range []struct {
		name, host, path string
		status           int
	}{
		{"its own workspace", host1, "/history/v1.0" + wsPath + "ws1/experiments", http.StatusOK},
		{"its own, the host in upper case", strings.ToUpper(host1), "/history/v1.0" + wsPath + "ws1/experiments", http.StatusOK},
		{"another workspace", host1, "/history/v1.0" + wsPath + "ws2/experiments", http.StatusForbidden},
		{"a workspace that does not exist", host1, "/history/v1.0" + wsPath + "nope/experiments", http.StatusForbidden},
		{"another resource group", host1, "/history/v1.0/subscriptions/" + testSub + "/resourceGroups/other/providers/Microsoft.MachineLearningServices/workspaces/ws1/experiments", http.StatusForbidden},
		{"discovery of itself", host2, "/discovery/workspaces/" + host2, http.StatusOK},
		{"discovery of another", host2, "/discovery/workspaces/" + host1, http.StatusForbidden},
		{"discovery of a workspaceId no workspace has", host2, "/discovery/workspaces/00000000-0000-0000-0000-000000000000", http.StatusForbidden},
		{"regional discovery", host2, "/discovery", http.StatusOK},
		{"no workspace host: any workspace", "", "/history/v1.0" + wsPath + "ws2/experiments", http.StatusOK},
	} {
		resp, err := serve(tc.host, tc.path)
		status := 0
		if err != nil {
			ae, _ := arm.AsError(err)
			status = ae.Status
			if tc.status == http.StatusForbidden && !strings.Contains(ae.Message, strings.ToLower(tc.host)) && !strings.Contains(ae.Message, tc.host) {
				t.Errorf("%s: the refusal does not name the host's workspaceId: %s", tc.name, ae.Message)
			}
		} else {
			status = resp.Status
		}
		if status != tc.status {
			t.Errorf("%s: %d, want %d (%v)", tc.name, status, tc.status, err)
		}
	}
}
