package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// TestPythonSDKThroughProxy runs testdata/python/proxy.py: azure-ai-ml
// 1.4.0 (Debian's python3-azure) with its built-in AzureCloud, nothing
// patched but pydash, reaching armlet only through HTTPS_PROXY with
// armlet's CA trusted. It registers a model from a local file, which the
// SDK uploads to the workspace's storage account at
// {account}.blob.core.windows.net with the key the datastore's
// listSecrets gives, downloads it again, and submits a command job with
// local code, uploaded the same way. The test then checks what landed in
// the container and how each call travelled.
func TestPythonSDKThroughProxy(t *testing.T) {
	t.Parallel()
	python, dir := requireAzureAIML(t)
	s := e2e.Start(t, e2e.WithServeDefaults())
	if s.Conn.HTTPSProxy == "" {
		t.Fatal("connection.json has no httpsProxy")
	}
	const rg, ws, account = "pyproxy-rg", "pyproxyws", "pyproxystore"
	group := s.CreateGroup(t, rg)
	storage := group + "/providers/Microsoft.Storage/storageAccounts/" + account
	if code, _, body := s.Do(t, "PUT", storage+"?api-version=2023-05-01",
		`{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`, nil); code != 200 && code != 202 {
		t.Fatalf("create the storage account: %d %s", code, body)
	}
	workspace := group + "/providers/Microsoft.MachineLearningServices/workspaces/" + ws
	if code, _, body := s.Do(t, "PUT", workspace+"?api-version=2024-04-01",
		`{"location":"eastus","properties":{"storageAccount":"`+storage+`"}}`, nil); code != 202 {
		t.Fatalf("create the workspace: %d %s", code, body)
	}
	var wsProps struct {
		Properties struct{ ProvisioningState, WorkspaceID string }
	}
	e2e.WaitFor(t, "the workspace to be provisioned", func() bool {
		_, _, body := s.Do(t, "GET", workspace+"?api-version=2024-04-01", "", nil)
		return json.Unmarshal([]byte(body), &wsProps) == nil && wsProps.Properties.ProvisioningState == "Succeeded"
	})

	work := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join(dir, "proxy.py"))
	cmd.Dir = dir
	// Nothing of armlet's endpoints: only the proxy, the CA and who signs in.
	cmd.Env = append(withoutProxyVariables(os.Environ()),
		"HTTPS_PROXY="+s.Conn.HTTPSProxy,
		"REQUESTS_CA_BUNDLE="+s.Conn.CACertificate,
		"SSL_CERT_FILE="+s.Conn.CACertificate,
		"PYTHONPATH="+dir,
		"PYTHONDONTWRITEBYTECODE=1",
		"HOME="+t.TempDir(),
		"ARMLET_TENANT_ID="+s.Conn.TenantID,
		"ARMLET_SUBSCRIPTION_ID="+s.Conn.SubscriptionID,
		"ARMLET_CLIENT_ID="+s.Conn.ClientID,
		"ARMLET_CLIENT_SECRET="+s.Conn.ClientSecret,
		"ARMLET_RESOURCE_GROUP="+rg,
		"ARMLET_WORKSPACE="+ws,
		"ARMLET_WORK_DIR="+work,
	)
	steps, stderr := runSteps(t, ctx, cmd, "proxy.py")
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
	for _, name := range []string{"workspace_get", "model_create", "model_download", "compute_create", "environment_create", "job_create"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("step %s did not run", name)
		}
	}
	if got := byName["workspace_get"].Details["storage_account"]; got != storage {
		t.Errorf("workspace_get: storage_account %v, want %s", got, storage)
	}
	path, _ := byName["model_create"].Details["path"].(string)
	if !strings.Contains(path, "/datastores/workspaceblobstore/paths/LocalUpload/") || !strings.HasSuffix(path, "/model.pkl") {
		t.Errorf("model_create: path %q, want the uploaded file in workspaceblobstore's LocalUpload", path)
	}
	files, _ := byName["model_download"].Details["files"].([]any)
	if len(files) != 1 || files[0].(map[string]any)["size"] != float64(len("armlet model bytes\n")*1000) {
		t.Errorf("model_download: %v, want model.pkl with the %d bytes uploaded", files, len("armlet model bytes\n")*1000)
	}
	code, _ := byName["job_create"].Details["code"].(string)
	if !strings.Contains(code, "/codes/") {
		t.Errorf("job_create: code %q, want a code asset made from the local directory", code)
	}

	// How each call travelled: ARM and the token service as Azure's public
	// endpoints, the uploads and downloads as the storage account's public
	// blob endpoint, each with its account and data action.
	flows, _ := s.FlowRecords(t, "")
	var token, armWrite, blobRead bool
	uploaded := map[string]bool{} // file name -> written to the account's blob endpoint
	for _, f := range flows {
		switch {
		case f.Operation == "Microsoft.AAD/token/action" && f.Status == http.StatusOK:
			token = true
		case f.Operation == "Microsoft.MachineLearningServices/workspaces/models/versions/write" && f.Class == netmodel.ARMPublic:
			armWrite = true
		case f.Class == netmodel.StoragePublic && strings.HasSuffix(f.Operation, "/blobs/write") && f.Status < 300 &&
			strings.EqualFold(f.ResourceID, storage):
			uploaded[f.Path[strings.LastIndex(f.Path, "/")+1:]] = true
		case f.Class == netmodel.StoragePublic && strings.HasSuffix(f.Operation, "/blobs/read") && f.Status < 300:
			blobRead = true
		}
	}
	if !token || !armWrite || !uploaded["model.pkl"] || !uploaded["train.py"] || !blobRead {
		t.Errorf("flow records: token %v, model version PUT as arm-public %v, uploads as storage-public %v (want model.pkl and train.py), a download %v",
			token, armWrite, uploaded, blobRead)
	}
}

// withoutProxyVariables drops the caller's own proxy settings, so that a
// client reaches armlet through the proxy the test names and nothing else.
func withoutProxyVariables(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY":
			continue
		}
		out = append(out, kv)
	}
	return out
}
