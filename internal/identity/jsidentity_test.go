package identity

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jsGetToken is a Node.js script using @azure/identity's
// ClientSecretCredential, unmodified, against a custom authority host.
const jsGetToken = `
const { ClientSecretCredential } = require('@azure/identity');
const [authorityHost, tenant, clientId, secret, scope] = process.argv.slice(2);
(async () => {
  const cred = new ClientSecretCredential(tenant, clientId, secret, { authorityHost, disableInstanceDiscovery: true });
  const t = await cred.getToken(scope);
  process.stdout.write(JSON.stringify({ token: t.token, expiresOnTimestamp: t.expiresOnTimestamp }));
})().catch((e) => { process.stderr.write(String((e && e.message) || e)); process.exit(1); });
`

// TestRealClientJSIdentity logs in with @azure/identity (MSAL Node) through
// both the Entra-style authority and tenant "adfs". It uses the modules
// `npm ci --prefix testdata/js` installs (or ARMLET_TEST_NODE_MODULES). It
// skips locally when node or the modules are missing and fails in CI.
func TestRealClientJSIdentity(t *testing.T) {
	missing := func(what string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; .ci/run must install it", what)
		}
		t.Skip(what)
	}
	mods := os.Getenv("ARMLET_TEST_NODE_MODULES")
	if mods == "" {
		abs, err := filepath.Abs(filepath.Join("..", "..", "testdata", "js", "node_modules"))
		if err != nil {
			t.Fatal(err)
		}
		mods = abs
	}
	if _, err := os.Stat(filepath.Join(mods, "@azure", "identity")); err != nil {
		missing("@azure/identity is not installed; run: npm ci --prefix testdata/js")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH; install it with: apt-get install -y nodejs npm")
	}
	f, srv := serve(t, true)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	script := filepath.Join(dir, "gettoken.js")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(jsGetToken), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(tenant, secret string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, script, srv.URL, tenant, f.app.ClientID, secret, armScope)
		cmd.Env = append(os.Environ(), "NODE_PATH="+mods, "NODE_EXTRA_CA_CERTS="+ca)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return stderr.String(), err
		}
		return string(out), nil
	}
	for _, tenant := range []string{testTenant, "adfs"} {
		out, err := run(tenant, f.app.ClientSecret)
		if err != nil {
			t.Fatalf("%s: node: %v\n%s\nserver saw %q", tenant, err, out, f.requests.all())
		}
		var res struct{ Token string }
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if _, aerr := f.svc.Authenticate(context.Background(), "Bearer "+res.Token); aerr != nil {
			t.Errorf("%s: %v", tenant, aerr)
		}
		out, err = run(tenant, "wrong")
		if err == nil || !strings.Contains(out, "AADSTS7000215") {
			t.Errorf("%s: wrong secret: %v %s", tenant, err, out)
		}
	}
	t.Logf("requests:\n%s", strings.Join(f.requests.all(), "\n"))
}
