package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/testtool"
)

// pythonDir holds the Python client script and the pydash shim
// azure-ai-ml imports (Debian packages azure-ai-ml but not pydash).
var pythonDir = filepath.Join("..", "..", "testdata", "python")

const pythonInstall = "apt-get install -y python3-azure"

// requireAzureAIML returns Debian's python3 and the absolute script
// directory once azure-ai-ml imports there; otherwise it skips locally
// and fails in CI, where .ci/run installs python3-azure.
func requireAzureAIML(t *testing.T) (python, dir string) {
	t.Helper()
	// Debian's interpreter: python3-azure lives in its dist-packages, which
	// another python3 on PATH (pyenv, a virtualenv) does not see.
	python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		python = testtool.Require(t, "python3", pythonInstall)
	}
	dir, err := filepath.Abs(pythonDir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", "import azure.ai.ml, azure.identity")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("azure-ai-ml does not import (%v: %s); .ci/run must run: %s", err, out, pythonInstall)
		}
		t.Skipf("azure-ai-ml not installed; install it with: %s", pythonInstall)
	}
	return python, dir
}

// pyStep is one line of testdata/python/mlv2.py's output.
type pyStep struct {
	Step      string         `json:"step"`
	OK        bool           `json:"ok"`
	Details   map[string]any `json:"details"`
	Error     string         `json:"error"`
	Traceback string         `json:"traceback"`
}

// TestPythonSDK runs testdata/python/mlv2.py: the Azure ML Python SDK v2
// (azure-ai-ml 1.4.0 from Debian's python3-azure), unmodified, against an
// armlet with the defaults of `armlet serve` (api-versions checked, 1 s
// operations). The SDK calls workspaces, computes and jobs at
// 2022-10-01-preview, online endpoints and deployments at
// 2022-02-01-preview, models and environments at 2022-05-01 and datastores
// at 2022-10-01. The workspaces the steps use are made through ARM
// beforehand, one of them at 2021-07-01, so in v1 legacy mode, whose
// refusal the script checks as the user sees it; the last step makes one
// more with begin_create, which deploys the SDK's own ARM template.
// pyRegistry is the registry TestPythonSDK's script reaches.
const pyRegistry = "pyreg"

func TestPythonSDK(t *testing.T) {
	t.Parallel()
	python, dir := requireAzureAIML(t)
	s := e2e.Start(t, e2e.WithServeDefaults())
	const rg, ws, legacy = "py-rg", "pyws", "pylegacy"
	group := s.CreateGroup(t, rg)
	storage := group + "/providers/Microsoft.Storage/storageAccounts/pywsstore"
	workspaces := group + "/providers/Microsoft.MachineLearningServices/workspaces/"
	for _, w := range []struct{ name, apiVersion, body string }{
		{ws, "2024-04-01", `{"location":"eastus","properties":{"storageAccount":"` + storage + `"}}`},
		{legacy, "2021-07-01", `{"location":"eastus"}`},
	} {
		if code, _, body := s.Do(t, "PUT", workspaces+w.name+"?api-version="+w.apiVersion, w.body, nil); code != 202 {
			t.Fatalf("create workspace %s: %d %s", w.name, code, body)
		}
	}
	registry := group + "/providers/Microsoft.MachineLearningServices/registries/" + pyRegistry
	if code, _, body := s.Do(t, "PUT", registry+"?api-version=2024-04-01",
		`{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"}]}}`, nil); code != 201 {
		t.Fatalf("create registry: %d %s", code, body)
	}
	var wsProps struct {
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
			WorkspaceID       string `json:"workspaceId"`
		} `json:"properties"`
	}
	e2e.WaitFor(t, "the workspace to be provisioned", func() bool {
		_, _, body := s.Do(t, "GET", workspaces+ws+"?api-version=2024-04-01", "", nil)
		return json.Unmarshal([]byte(body), &wsProps) == nil && wsProps.Properties.ProvisioningState == "Succeeded"
	})

	steps, stderr := runPythonSDK(t, python, dir, s, rg, ws, legacy)
	byName := map[string]pyStep{}
	for _, st := range steps {
		byName[st.Step] = st
		if !st.OK {
			t.Errorf("step %s failed: %s\n%s", st.Step, st.Error, st.Traceback)
		}
	}
	if t.Failed() {
		t.Logf("the script's standard error:\n%s", stderr)
	}

	sub := s.Conn.SubscriptionID
	blob := "azureml://subscriptions/" + sub + "/resourcegroups/" + rg + "/workspaces/" + ws + "/datastores/workspaceblobstore/paths/models/clf/model.pkl"
	tests := []struct {
		step string
		want map[string]any // members of details, compared as JSON
	}{
		{"workspace_get", map[string]any{"name": ws, "location": "eastus", "storage_account": storage}},
		{"workspace_list", map[string]any{"names": []any{legacy, ws}}},
		{"datastore_default", map[string]any{
			"name": "workspaceblobstore", "account_name": "pywsstore",
			"container_name": "azureml-blobstore-" + wsProps.Properties.WorkspaceID,
			"names":          []any{"workspaceartifactstore", "workspaceblobstore", "workspacefilestore", "workspaceworkingdirectory"},
		}},
		{"compute_create", map[string]any{"name": "cpu-cluster", "type": "amlcompute", "size": "STANDARD_DS3_V2", "provisioning_state": "Succeeded"}},
		{"compute_get", map[string]any{"name": "cpu-cluster", "max_instances": 2.0}},
		{"compute_list", map[string]any{"names": []any{"cpu-cluster"}}},
		{"compute_nodes", nil},
		{"environment_create", map[string]any{"name": "train", "version": "1", "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"}},
		{"environment_get", map[string]any{"name": "train", "version": "1"}},
		{"job_create", map[string]any{"name": "hello-job", "status": "NotStarted", "compute": "cpu-cluster", "environment": "train:1"}},
		{"job_get", map[string]any{"name": "hello-job", "experiment_name": "pysdk"}},
		{"job_list", map[string]any{"names": []any{"hello-job"}}},
		{"job_cancel", map[string]any{"status": "Canceled"}},
		{"model_create", map[string]any{"name": "clf", "version": "1", "type": "custom_model", "path": blob}},
		{"model_get", map[string]any{"name": "clf", "version": "1", "path": blob}},
		{"endpoint_create", map[string]any{"name": "score-ep", "auth_mode": "key", "provisioning_state": "Succeeded"}},
		{"deployment_create", map[string]any{"name": "blue", "instance_type": "Standard_DS3_v2", "provisioning_state": "Succeeded"}},
		{"endpoint_traffic", map[string]any{"traffic": map[string]any{"blue": 100.0}}},
		{"endpoint_get", map[string]any{"traffic": map[string]any{"blue": 100.0}, "deployment": "blue",
			"model": workspaces + ws + "/models/clf/versions/1", "provisioning_state": "Succeeded"}},
		{"legacy_refused", map[string]any{"status": 400.0}},
		{"workspace_begin_create", map[string]any{"name": "pycreated", "location": "eastus", "description": "made by begin_create"}},
		{"registry_model_create", map[string]any{"name": "shared-clf", "version": "1", "path": "https://models.example.com/clf/model.pkl",
			"description": "shared through the registry"}},
		{"registry_model_get", map[string]any{"name": "shared-clf", "version": "1", "path": "https://models.example.com/clf/model.pkl"}},
	}
	for _, tt := range tests {
		st, ok := byName[tt.step]
		switch {
		case !ok:
			t.Errorf("step %s did not run", tt.step)
			continue
		case !st.OK:
			continue // reported above
		}
		for k, want := range tt.want {
			if got := st.Details[k]; !reflect.DeepEqual(got, want) {
				t.Errorf("step %s: %s = %#v, want %#v", tt.step, k, got, want)
			}
		}
	}
	if nodes, _ := byName["compute_nodes"].Details["nodes"].([]any); len(nodes) != 1 {
		t.Errorf("compute_nodes: %v, want the one node of min_instances 1", byName["compute_nodes"].Details)
	}
	// What the user reads when the v2 API is off: armlet's refusal, through
	// the SDK's HttpResponseError.
	msg, _ := byName["legacy_refused"].Details["message"].(string)
	for _, part := range []string{"(UserError)", "The v2 API is disabled for workspace '" + legacy + "' because its v1LegacyMode is true", "Code: UserError"} {
		if !strings.Contains(msg, part) {
			t.Errorf("legacy_refused: the message the user sees lacks %q:\n%s", part, msg)
		}
	}

	// begin_create deployed the SDK's template: the workspace links the
	// dependencies it made, and the template's nested deployment made
	// Application Insights' default resource group.
	created := byName["workspace_begin_create"].Details
	for _, k := range []string{"storage_account", "key_vault", "application_insights"} {
		if v, _ := created[k].(string); !strings.Contains(v, "/resourceGroups/"+rg+"/providers/") {
			t.Errorf("workspace_begin_create: %s = %v", k, created[k])
		}
	}
	if code, _, body := s.Do(t, "GET", "/subscriptions/"+sub+"/resourceGroups/DefaultResourceGroup-eastus?api-version=2021-04-01", "", nil); code != 200 {
		t.Errorf("the default resource group of the template's nested deployment: %d %s", code, body)
	}

	// armlet's own view of what the SDK made, at the newest api-version.
	dep := workspaces + ws + "/onlineEndpoints/score-ep/deployments/blue?api-version=2024-04-01"
	code, _, body := s.Do(t, "GET", dep, "", nil)
	if code != 200 || !strings.Contains(body, `"egressPublicNetworkAccess":"Enabled"`) || strings.Contains(body, "privateNetworkConnection") {
		t.Errorf("GET deployment: %d %s; want egressPublicNetworkAccess Enabled and no privateNetworkConnection", code, body)
	}
}

// runPythonSDK runs mlv2.py against s with a time limit and returns its
// step records and standard error. A script that fails before its steps
// (or runs past the limit) fails the test.
func runPythonSDK(t *testing.T, python, dir string, s *e2e.Armlet, rg, ws, legacy string) ([]pyStep, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join(dir, "mlv2.py"))
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), s.ClientEnv()...),
		"PYTHONPATH="+dir,
		"PYTHONDONTWRITEBYTECODE=1", // no __pycache__ in testdata
		"HOME="+t.TempDir(),         // nothing of the user's: no config, no caches
		// azure-core sends with requests, which reads REQUESTS_CA_BUNDLE;
		// SSL_CERT_FILE covers Python's own ssl module.
		"REQUESTS_CA_BUNDLE="+s.Conn.CACertificate,
		"SSL_CERT_FILE="+s.Conn.CACertificate,
		"ARMLET_RESOURCE_GROUP="+rg,
		"ARMLET_WORKSPACE="+ws,
		"ARMLET_LEGACY_WORKSPACE="+legacy,
		"ARMLET_REGISTRY="+pyRegistry,
	)
	return runSteps(t, ctx, cmd, "mlv2.py")
}

// runSteps runs a client script that prints one step record per line
// (testdata/python's scripts) and returns the records and its standard
// error. A script that fails before its steps, or runs past ctx's limit,
// fails the test.
func runSteps(t *testing.T, ctx context.Context, cmd *exec.Cmd, script string) ([]pyStep, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s ran for %v", script, time.Since(start).Round(10*time.Millisecond))
	var steps []pyStep
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var st pyStep
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil || st.Step == "" {
			t.Errorf("%s printed a line that is no step record: %q", script, sc.Text())
			continue
		}
		steps = append(steps, st)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s ran past its time limit\nstderr:\n%s", script, stderr.String())
	}
	if err != nil && len(steps) == 0 {
		t.Fatalf("%s: %v\nstderr:\n%s", script, err, stderr.String())
	}
	if err != nil {
		t.Errorf("%s exited with %v", script, err)
	}
	return steps, stderr.String()
}
