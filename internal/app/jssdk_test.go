package app_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/testtool"
)

// jsClientDir holds package.json, package-lock.json and the scripts of the
// JavaScript client tests; `npm ci --prefix testdata/js` installs them.
var jsClientDir = filepath.Join("..", "..", "testdata", "js")

// requireNodeModules returns the absolute path of the JavaScript test
// directory once node and its installed modules are there; otherwise it
// skips locally and fails in CI.
func requireNodeModules(t *testing.T) (node, dir string) {
	t.Helper()
	node = testtool.Require(t, "node", "apt-get install -y nodejs npm")
	dir, err := filepath.Abs(jsClientDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "arm-machinelearning")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the JavaScript clients are not installed; .ci/run must run: npm ci --prefix testdata/js")
		}
		t.Skip("JavaScript clients not installed; run: npm ci --prefix testdata/js")
	}
	return node, dir
}

// TestJSSDKLegacyModeGating runs testdata/js/mlv2.mjs: the JavaScript SDK
// @azure/arm-machinelearning 2.1.1 (api-version 2022-10-01) with
// @azure/identity, unmodified, scripting workspace, compute, environment
// version, model version, job and an online endpoint with two deployments,
// refused while v1LegacyMode is in effect (the real 30-60 minute
// propagation) and accepted once the clock has moved past it. The test
// then checks armlet's state with its own requests.
func TestJSSDKLegacyModeGating(t *testing.T) {
	t.Parallel()
	node, dir := requireNodeModules(t)
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
		c.LegacyModePropagation = config.DurationRange{Min: 30 * time.Minute, Max: 60 * time.Minute}
	}))
	const rg = "js-rg"
	if code, _, body := s.Do(t, "PUT", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/"+rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); code != 201 {
		t.Fatalf("create resource group: %d %s", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "mlv2.mjs"))
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), s.ClientEnv()...),
		"NODE_EXTRA_CA_CERTS="+s.Conn.CACertificate,
		"ARMLET_RESOURCE_GROUP="+rg,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("node mlv2.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("the JavaScript SDK script failed: %v", err)
	}
	if n := strings.Count(string(out), "refused as expected"); n != 5 {
		t.Errorf("script reported %d refusals, want 5", n)
	}

	ws := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.MachineLearningServices/workspaces/jsws"
	code, _, body := s.Do(t, "GET", ws+"/onlineEndpoints/score?api-version=2024-04-01", "", nil)
	if code != 200 {
		t.Fatalf("GET endpoint: %d %s", code, body)
	}
	var ep struct {
		Properties struct {
			Traffic map[string]int `json:"traffic"`
		} `json:"properties"`
	}
	if err := json.Unmarshal([]byte(body), &ep); err != nil {
		t.Fatal(err)
	}
	if ep.Properties.Traffic["blue"] != 90 || ep.Properties.Traffic["green"] != 10 {
		t.Errorf("endpoint traffic = %v, want blue 90 green 10", ep.Properties.Traffic)
	}
	for _, p := range []string{"/environments/train/versions/1", "/models/clf/versions/1", "/jobs/job1", "/computes/cpu", "/onlineEndpoints/score/deployments/green"} {
		if code, _, body := s.Do(t, "GET", ws+p+"?api-version=2024-04-01", "", nil); code != 200 {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
}
