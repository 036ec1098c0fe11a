package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/certs"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// TestKeyVaultDataPlaneThroughProxy: a client with HTTPS_PROXY set to
// armlet's proxy reaches https://{vault}.vault.azure.net, over TLS it
// verifies with armlet's CA, and gets what Key Vault decides before any
// operation: without a token the 401 challenge naming armlet's token
// service and Key Vault's resource; with an ARM token 401; with a Key
// Vault token from the token endpoint, 403 Forbidden with innererror
// ForbiddenByConnection for a vault without public network access,
// ForbiddenByFirewall for one whose network rules deny; for an open one
// AccessDenied (no access policy lets the caller read the certificate
// contacts) and 501 naming an operation not served (keys).
// The host of a vault armlet does not hold is refused at CONNECT. Every
// request, refused ones too, is a keyvault-public flow record naming its
// vault and operation.
func TestKeyVaultDataPlaneThroughProxy(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	if s.Conn.HTTPSProxy == "" {
		t.Fatal("connection.json has no httpsProxy")
	}
	rg := s.CreateGroup(t, "kvdata")
	for name, props := range map[string]string{
		"kvprivate1": `"publicNetworkAccess":"Disabled"`,
		"kvdenied1":  `"networkAcls":{"defaultAction":"Deny","bypass":"None"}`,
		"kvopen1":    `"publicNetworkAccess":"Enabled"`,
	} {
		body := `{"location":"eastus","properties":{"tenantId":"` + s.Conn.TenantID + `","sku":{"family":"A","name":"standard"},` + props + `}}`
		if code, _, b := s.Do(t, "PUT", rg+"/providers/Microsoft.KeyVault/vaults/"+name+"?api-version=2024-11-01", body, nil); code >= 300 {
			t.Fatalf("PUT vault %s: %d %s", name, code, b)
		}
	}
	client := proxiedClient(t, s)
	client.Timeout = 10 * time.Second
	_, cred := s.NewPrincipal(t, "vaultcaller")
	vaultToken, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		t.Fatalf("a token for Key Vault from armlet's token service: %v", err)
	}
	get := func(url, token string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	const contacts, keys = "/certificates/contacts?api-version=7.4", "/keys?api-version=7.4"
	for _, c := range []struct {
		name, vault, path, token string
		status                   int
		code                     string
	}{
		{"no token", "kvprivate1", contacts, "", http.StatusUnauthorized, "Unauthorized"},
		{"an ARM token", "kvprivate1", contacts, s.TokenOf(t, cred), http.StatusUnauthorized, "Unauthorized"},
		{"public access disabled", "kvprivate1", contacts, vaultToken.Token, http.StatusForbidden, "Forbidden/ForbiddenByConnection"},
		{"network rules deny", "kvdenied1", contacts, vaultToken.Token, http.StatusForbidden, "Forbidden/ForbiddenByFirewall"},
		{"open vault, no access policy", "kvopen1", contacts, vaultToken.Token, http.StatusForbidden, "Forbidden/AccessDenied"},
		{"open vault, keys", "kvopen1", keys, vaultToken.Token, http.StatusNotImplemented, "NotImplemented"},
	} {
		code, header, body := get("https://"+c.vault+".vault.azure.net"+c.path, c.token)
		var e struct {
			Error struct {
				Code, Message string
				InnerError    *struct{ Code string }
			}
		}
		_ = json.Unmarshal([]byte(body), &e)
		got := e.Error.Code
		if e.Error.InnerError != nil {
			got += "/" + e.Error.InnerError.Code
		}
		if code != c.status || got != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, body, c.status, c.code)
		}
		if c.status == http.StatusUnauthorized {
			want := `Bearer authorization="` + strings.TrimSuffix(s.Conn.LoginEndpoint, "/") + "/" + s.Conn.TenantID + `", resource="https://vault.azure.net"`
			if got := header.Get("WWW-Authenticate"); got != want {
				t.Errorf("%s: WWW-Authenticate %q, want %q", c.name, got, want)
			}
		}
	}
	if _, err := client.Get("https://nosuchvault1.vault.azure.net/"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("a vault armlet does not hold: %v, want the CONNECT refused with 403", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Flows().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	flows, err := s.Flows().List(ctx, netmodel.FlowFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// The two refused for their token and the one refused by the network
	// rule each name the vault and the operation; only the last has a
	// caller, and its error code is the innererror's.
	byStatus := map[int]int{}
	for _, f := range flows {
		if f.Class != netmodel.KeyVaultPublic || !strings.HasSuffix(f.ResourceID, "/vaults/kvprivate1") {
			continue
		}
		byStatus[f.Status]++
		if f.Operation != "Microsoft.KeyVault/vaults/certificates/read" || (f.CallerObjectID != "") != (f.Status == http.StatusForbidden) ||
			f.Status == http.StatusForbidden && f.ErrorCode != "ForbiddenByConnection" {
			t.Errorf("flow record %+v", f)
		}
	}
	if byStatus[http.StatusUnauthorized] != 2 || byStatus[http.StatusForbidden] != 1 {
		t.Errorf("keyvault-public flow records of kvprivate1 by status: %v, want 401 twice and 403 once", byStatus)
	}
}

// TestProxyOff: with --proxy-listen empty there is no proxy, and
// connection.json names none.
func TestProxyOff(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.ProxyListen = "" }))
	raw, err := os.ReadFile(filepath.Join(s.DataDir, app.ConnectionFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Conn.HTTPSProxy != "" || strings.Contains(string(raw), "httpsProxy") {
		t.Errorf("proxy off, but connection.json has %q: %s", s.Conn.HTTPSProxy, raw)
	}
}

// TestProxyOffWithOwnCertificate: with --cert and --key armlet has no CA
// to sign certificates for Azure's host names, so it opens no proxy (and
// says so in its log) while the main listener serves with the given
// certificate.
func TestProxyOffWithOwnCertificate(t *testing.T) {
	t.Parallel()
	ca, err := certs.LoadOrCreateAuthority(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Leaf(net.IPv4(127, 0, 0, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.CertFile, c.KeyFile = certFile, keyFile }))
	if s.Conn.HTTPSProxy != "" {
		t.Errorf("with --cert/--key connection.json names a proxy: %q", s.Conn.HTTPSProxy)
	}
	if code, _, body := s.Do(t, "GET", "/subscriptions?api-version=2022-12-01", "", nil); code != http.StatusOK {
		t.Errorf("the main listener with the given certificate: %d %s", code, body)
	}
}

// proxiedClient is an HTTP client that sends every request through
// armlet's HTTPS proxy and trusts armlet's CA, as HTTPS_PROXY and a CA
// bundle make a client do.
func proxiedClient(t *testing.T, s *e2e.Armlet) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(s.Conn.CACertificate)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	proxyURL, err := url.Parse(s.Conn.HTTPSProxy)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(client.CloseIdleConnections)
	return client
}
