package identity

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/testtool"
)

// TestRealClientAzureCLI logs the Azure CLI (2.45, MSAL Python 1.20) in as a
// service principal through the ADFS-style authority, the only one it can
// use offline, and checks that the token it then sends to ARM (to list
// subscriptions) authenticates. It needs `az` on PATH: without it the
// test skips, except in CI, where it fails (testtool.Require). It uses its
// own AZURE_CONFIG_DIR, so the user's az configuration is untouched.
func TestRealClientAzureCLI(t *testing.T) {
	az := testtool.Require(t, "az", "apt-get install -y azure-cli")
	const sub = "00000000-0000-0000-0000-0000000000a1"
	var seen = &requestLog{}
	f, srv := serveWith(t, true, func(f *fixture) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, aerr := f.svc.Authenticate(r.Context(), r.Header.Get("Authorization"))
			if aerr != nil {
				writeARMError(w, aerr.Status, aerr.Code, aerr.Message, aerr.Header)
				return
			}
			seen.add(r.Method + " " + r.URL.Path + " " + c.AppID + " " + c.Claims["aud"].(string))
			if r.Method == http.MethodGet && r.URL.Path == "/subscriptions" {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_ = json.NewEncoder(w).Encode(map[string]any{"value": []any{map[string]any{
					"id": "/subscriptions/" + sub, "subscriptionId": sub, "tenantId": testTenant,
					"displayName": "armlet", "state": "Enabled", "authorizationSource": "RoleBased",
					"subscriptionPolicies": map[string]any{"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
				}}})
				return
			}
			writeARMError(w, http.StatusNotFound, "NotFound", "not in this stub", nil)
		}
	})

	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := testtool.AzureCLIEnv(t, ca)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, az, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("az %s: %v\n%s\nserver saw: %q", strings.Join(args, " "), err, out, f.requests.all())
		}
		return string(out)
	}
	run("cloud", "register", "-n", "armletTest",
		"--endpoint-resource-manager", srv.URL+"/",
		"--endpoint-active-directory", srv.URL+"/adfs",
		"--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
		"--endpoint-active-directory-graph-resource-id", "https://graph.windows.net/")
	run("cloud", "set", "-n", "armletTest")
	out := run("login", "--service-principal", "-u", f.app.ClientID, "-p", f.app.ClientSecret, "--tenant", testTenant, "-o", "json")
	var accounts []map[string]any
	if err := json.Unmarshal([]byte(out), &accounts); err != nil || len(accounts) != 1 || accounts[0]["id"] != sub {
		t.Fatalf("az login output: %v\n%s", err, out)
	}

	// The CLI went through the ADFS discovery and token endpoints and then
	// called ARM with a token Authenticate accepted.
	reqs := strings.Join(f.requests.all(), "\n")
	t.Logf("requests the CLI made:\n%s", reqs)
	for _, want := range []string{"GET /adfs/.well-known/openid-configuration", "POST /adfs/oauth2/token", "GET /subscriptions"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("server never saw %q; saw:\n%s", want, reqs)
		}
	}
	got := seen.all()
	if len(got) == 0 || !strings.HasPrefix(got[0], "GET /subscriptions "+f.app.ClientID+" https://management.core.windows.net/") {
		t.Errorf("authenticated ARM calls: %q", got)
	}

	// And a token fetched on its own authenticates too.
	out = run("account", "get-access-token", "-o", "json")
	var at map[string]any
	if err := json.Unmarshal([]byte(out), &at); err != nil {
		t.Fatal(err)
	}
	tok, _ := at["accessToken"].(string)
	if _, aerr := f.svc.Authenticate(context.Background(), "Bearer "+tok); aerr != nil {
		t.Errorf("az account get-access-token: %v", aerr)
	}
}
