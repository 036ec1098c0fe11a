package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeAndClientCommands runs `armlet serve` through run() on a free
// port, then drives it with the client commands, as a user would.
func TestServeAndClientCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ARMLET_DATA_DIR": dir, "ARMLET_LISTEN": "127.0.0.1:0", "ARMLET_PROXY_LISTEN": "127.0.0.1:0"}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--legacy-mode-propagation", "0"}, getenv, &out, &errOut) }()

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "armlet is serving") {
		if time.Now().After(deadline) {
			t.Fatalf("armlet did not start; stderr:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"az cloud register", "azidentity", "ARM_METADATA_HOSTNAME", "ca.pem"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("startup banner lacks %q:\n%s", want, out.String())
		}
	}
	var conn map[string]any
	raw, err := os.ReadFile(filepath.Join(dir, "connection.json"))
	if err != nil || json.Unmarshal(raw, &conn) != nil {
		t.Fatalf("connection.json: %v %s", err, raw)
	}
	for _, k := range []string{"armEndpoint", "loginEndpoint", "audience", "tenantId", "subscriptionId", "clientId", "clientSecret", "caCertificate"} {
		if s, _ := conn[k].(string); s == "" {
			t.Errorf("connection.json has no %s", k)
		}
	}

	var cmdOut bytes.Buffer
	if code := run(ctx, []string{"principal", "create", "--name", "reader"}, getenv, &cmdOut, &cmdOut); code != 0 {
		t.Fatalf("principal create exited %d: %s", code, cmdOut.String())
	}
	var creds map[string]any
	if err := json.Unmarshal(cmdOut.Bytes(), &creds); err != nil || creds["clientSecret"] == "" || creds["objectId"] == "" {
		t.Fatalf("principal create printed %s", cmdOut.String())
	}
	cmdOut.Reset()
	if code := run(ctx, []string{"clock", "advance", "45m"}, getenv, &cmdOut, &cmdOut); code != 0 || !strings.Contains(cmdOut.String(), `"offset": "45m0s"`) {
		t.Fatalf("clock advance exited %d: %s", code, cmdOut.String())
	}
	cmdOut.Reset()
	if code := run(ctx, []string{"clock", "advance", "-5m"}, getenv, &cmdOut, &cmdOut); code != 2 {
		t.Errorf("clock advance -5m exited %d, want 2: %s", code, cmdOut.String())
	}
	cmdOut.Reset()
	if code := run(ctx, []string{"state", "/subscriptions/x/resourceGroups/none"}, getenv, &cmdOut, &cmdOut); code != 1 || !strings.Contains(cmdOut.String(), "SubscriptionNotFound") && !strings.Contains(cmdOut.String(), "NotFound") {
		t.Errorf("state of a missing resource exited %d: %s", code, cmdOut.String())
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestCommandLineErrors(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"ARMLET_LOG_LEVEL": "loud"}[k] }
	tests := []struct {
		args     []string
		env      func(string) string
		wantCode int
		wantText string
	}{
		{nil, os.Getenv, 2, "Usage"},
		{[]string{"frobnicate"}, os.Getenv, 2, "unknown command"},
		{[]string{"serve", "-h"}, os.Getenv, 0, "ARMLET_LISTEN"},
		{[]string{"serve", "--listen", "nowhere"}, os.Getenv, 2, "listen"},
		{[]string{"serve", "--bogus"}, os.Getenv, 2, "armlet serve -h"},
		{[]string{"serve", "--lisen", ":1"}, os.Getenv, 2, "did you mean --listen"},
		{[]string{"serve", "stray"}, os.Getenv, 2, "stray"},
		{[]string{"serv"}, os.Getenv, 2, `did you mean "serve"`},
		{[]string{"serve"}, getenv, 1, "ARMLET_LOG_LEVEL"},
		{[]string{"clock", "advance", "5m", "--data-dir", "/nonexistent"}, os.Getenv, 1, "/nonexistent/connection.json"},
		{[]string{"clock", "advance", "-5m"}, os.Getenv, 2, "only moves forward"},
		{[]string{"clock", "advance", "soon", "--data-dir", "/nonexistent"}, os.Getenv, 2, "not a duration"},
		{[]string{"clock", "show", "--dta-dir", "x"}, os.Getenv, 2, "did you mean --data-dir"},
		{[]string{"principal"}, os.Getenv, 2, "usage"},
		{[]string{"version"}, os.Getenv, 0, "armlet"},
		{[]string{"--version"}, os.Getenv, 0, "armlet"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), tt.args, tt.env, &out, &out)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantText) {
				t.Errorf("run(%q) = %d %q, want %d containing %q", tt.args, code, out.String(), tt.wantCode, tt.wantText)
			}
		})
	}
}

// TestNetworkAndReportCommands runs `armlet network endpoints` and
// `armlet report exposure` against a started armlet whose network provider
// is replaced by a fake approving one workspace private endpoint.
func TestNetworkAndReportCommands(t *testing.T) {
	fake := &e2e.FakeEndpoints{} // none approved until Set
	a := e2e.Start(t, e2e.WithApp(app.WithEndpointSource(fake.Source)))
	dir, conn := a.DataDir, a.Conn
	wsID := "/subscriptions/" + conn.SubscriptionID + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	peID := "/subscriptions/" + conn.SubscriptionID + "/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe1"
	pe := netmodel.Endpoint{ID: enginetest.MustID(t, peID), PrivateIP: "10.0.0.4", TargetID: enginetest.MustID(t, wsID), GroupID: "amlworkspace"}
	getenv := func(k string) string { return map[string]string{"ARMLET_DATA_DIR": dir}[k] }
	ctx := context.Background()

	var out bytes.Buffer
	if code := run(ctx, []string{"network", "endpoints"}, getenv, &out, &out); code != 0 || !strings.Contains(out.String(), "No approved private endpoint") {
		t.Fatalf("network endpoints = %d %s", code, out.String())
	}
	fake.Set(pe)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out.Reset()
		if code := run(ctx, []string{"network", "endpoints", "--json"}, getenv, &out, &out); code != 0 {
			t.Fatalf("network endpoints --json = %d %s", code, out.String())
		}
		if strings.Contains(out.String(), peID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("network endpoints --json never listed the endpoint: %s", out.String())
		}
	}
	var listed struct{ Value []netmodel.Listening }
	if err := json.Unmarshal(out.Bytes(), &listed); err != nil || len(listed.Value) != 1 || listed.Value[0].TargetResourceID != wsID ||
		listed.Value[0].PrivateIP != "10.0.0.4" || !strings.HasPrefix(listed.Value[0].Address, "127.77.0.1:") {
		t.Fatalf("network endpoints --json printed %s", out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"network", "endpoints"}, getenv, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "LISTENS ON") || !strings.Contains(out.String(), listed.Value[0].Address) || !strings.Contains(out.String(), "amlworkspace") {
		t.Fatalf("network endpoints = %d %s", code, out.String())
	}

	// One public ARM call on a workspace child (refused: no such
	// workspace, but its metadata crossed the network all the same).
	c, _, err := clientFlags("test", []string{"--data-dir", dir}, getenv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.send(ctx, "PUT", wsID+"/onlineEndpoints/ep1?api-version=2024-04-01", map[string]any{
		"location": "eastus", "properties": map[string]any{"authMode": "Key", "keys": map[string]any{"primaryKey": "very-secret"}},
	}); err == nil {
		t.Fatal("PUT of an endpoint in a missing workspace succeeded")
	}

	out.Reset()
	if code := run(ctx, []string{"report", "exposure", "--json", "--workspace", wsID}, getenv, &out, &out); code != 0 {
		t.Fatalf("report exposure --json = %d %s", code, out.String())
	}
	var rep report.ExposureReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Workspaces) != 1 || len(rep.Workspaces[0].Public) != 1 {
		t.Fatalf("report exposure --json printed %s (%v)", out.String(), err)
	}
	p := rep.Workspaces[0].Public[0]
	if p.Operation != "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write" || p.Class != netmodel.ARMPublic ||
		!slices.Equal(p.KeepPrivate, []string{report.KeepPrivateARM}) || rep.Workspaces[0].Settings.State != report.StateNeverCreated ||
		strings.Contains(out.String(), "very-secret") {
		t.Errorf("report = %s", out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"report", "exposure"}, getenv, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "WORKSPACE "+wsID) || !strings.Contains(out.String(), "properties.authMode=Key") {
		t.Errorf("report exposure = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"report", "exposure", "--since", "yesterday"}, getenv, &out, &out); code != 1 || !strings.Contains(out.String(), "since") {
		t.Errorf("report exposure --since yesterday = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"network", "listeners"}, getenv, &out, &out); code != 2 || !strings.Contains(out.String(), "usage") {
		t.Errorf("network listeners = %d %s", code, out.String())
	}
}

// TestClientCommandArmletStopped: a client command whose connection.json
// names an armlet that is no longer running says so, instead of printing
// a bare "connection refused".
func TestClientCommandArmletStopped(t *testing.T) {
	a := e2e.Start(t)
	a.Close()
	getenv := func(k string) string { return map[string]string{"ARMLET_DATA_DIR": a.DataDir}[k] }
	var out bytes.Buffer
	code := run(context.Background(), []string{"clock", "show"}, getenv, &out, &out)
	if code != 1 || !strings.Contains(out.String(), "armlet is not running at "+strings.TrimSuffix(a.Conn.ARMEndpoint, "/")) ||
		!strings.Contains(out.String(), "armlet serve") {
		t.Fatalf("clock show against a stopped armlet = %d %q", code, out.String())
	}
}

// TestNetworkVNetCommands runs `armlet network vnets` and `armlet network
// resolve` against a started armlet with one virtual network.
func TestNetworkVNetCommands(t *testing.T) {
	a := e2e.Start(t)
	dir, conn := a.DataDir, a.Conn
	getenv := func(k string) string { return map[string]string{"ARMLET_DATA_DIR": dir}[k] }
	ctx := context.Background()
	rg := "/subscriptions/" + conn.SubscriptionID + "/resourceGroups/net-rg"
	vnet := rg + "/providers/Microsoft.Network/virtualNetworks/vnet-cli"
	c, _, err := clientFlags("test", []string{"--data-dir", dir}, getenv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.send(ctx, "PUT", rg+"?api-version=2021-04-01", map[string]any{"location": "eastus"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.send(ctx, "PUT", vnet+"?api-version=2024-05-01", map[string]any{
		"location": "eastus", "properties": map[string]any{"addressSpace": map[string]any{"addressPrefixes": []string{"10.30.0.0/16"}}},
	}); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out.Reset()
		if code := run(ctx, []string{"network", "vnets", "--json"}, getenv, &out, &out); code != 0 {
			t.Fatalf("network vnets --json = %d %s", code, out.String())
		}
		if strings.Contains(out.String(), vnet) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("network vnets --json never listed the virtual network: %s", out.String())
		}
	}
	var listed struct{ Value []netmodel.VNetProxy }
	if err := json.Unmarshal(out.Bytes(), &listed); err != nil || len(listed.Value) != 1 || !strings.HasPrefix(listed.Value[0].HTTPSProxy, "http://127.66.0.1:") {
		t.Fatalf("network vnets --json printed %s", out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"network", "vnets"}, getenv, &out, &out); code != 0 || !strings.Contains(out.String(), listed.Value[0].HTTPSProxy) {
		t.Fatalf("network vnets = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"network", "resolve", "management.azure.com", "--vnet", vnet}, getenv, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "CNAME management.privatelink.azure.com") || !strings.Contains(out.String(), "verdict: public") {
		t.Fatalf("network resolve = %d %s", code, out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"network", "resolve", "graph.microsoft.com", "--vnet", vnet, "--json"}, getenv, &out, &out); code != 0 ||
		!strings.Contains(out.String(), `"verdict": "not-served"`) {
		t.Fatalf("network resolve --json of a host armlet does not serve = %d %s", code, out.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"network", "resolve", "management.azure.com"}, "--vnet"},
		{[]string{"network", "resolve", "--vnet", vnet}, "one host name"},
		{[]string{"network", "resolve", "management.azure.com:443", "--vnet", vnet}, "'host'"},
		{[]string{"network", "resolve", "management.azure.com", "--vnet", rg}, "'virtualNetworkId'"},
		{[]string{"network", "resolve", "management.azure.com", "--vnet", vnet + "-missing"}, "ResourceNotFound"},
		{[]string{"network", "bogus"}, "network vnets"},
	} {
		out.Reset()
		if code := run(ctx, tc.args, getenv, &out, &out); code == 0 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("run(%q) = %d %s, want a failure naming %q", tc.args, code, out.String(), tc.want)
		}
	}
}
