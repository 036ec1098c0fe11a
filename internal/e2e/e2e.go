// Package e2e is test support for the end-to-end tests: it starts armlet
// in-process on a free port with real TLS and gives a test what it needs
// to drive it as a client would (raw requests with the bootstrap token,
// tokens and azidentity credentials, client options for the Azure SDK for
// Go, principals and role assignments, the Azure CLI) and to read what
// armlet recorded (flow records, the exposure report, private endpoint
// listeners). Only _test files import it (the tests of internal/app and
// cmd/armlet), like internal/testtool; armlet itself never does.
package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/config"
)

// FastPoll makes the Azure SDK's pollers poll every 100 ms.
var FastPoll = &runtime.PollUntilDoneOptions{Frequency: 100 * time.Millisecond}

// Armlet is an armlet started in-process by Start.
type Armlet struct {
	*app.Server
	Conn    app.Connection
	DataDir string
	Client  *http.Client // trusts armlet's CA

	mu  sync.Mutex
	tok string // cached bootstrap token
}

// Option changes how Start starts armlet.
type Option func(*settings)

type settings struct {
	mutate []func(*config.Config)
	app    []app.Option
	log    *slog.Logger
}

// WithConfig changes the configuration Start uses.
func WithConfig(mutate ...func(*config.Config)) Option {
	return func(s *settings) { s.mutate = append(s.mutate, mutate...) }
}

// WithServeDefaults undoes what Start changes for speed and repeatability,
// for a test that must see armlet as `armlet serve` runs by default:
// long-running operations take the default --operation-duration, a
// v1LegacyMode change propagates over the default 30 to 60 minutes, and
// random choices use a random seed.
func WithServeDefaults() Option {
	return WithConfig(func(c *config.Config) {
		d := config.Default()
		c.OperationDuration = d.OperationDuration
		c.LegacyModePropagation = d.LegacyModePropagation
		c.RandomSeed = d.RandomSeed
	})
}

// WithApp passes app options (a fake endpoint source, a public ARM check)
// to app.Start.
func WithApp(opts ...app.Option) Option {
	return func(s *settings) { s.app = append(s.app, opts...) }
}

// WithLogger makes armlet log to log (without it, logs are discarded).
func WithLogger(log *slog.Logger) Option {
	return func(s *settings) { s.log = log }
}

// Start starts armlet with an in-memory store in a temp data dir, on a
// free loopback port, with 200 ms operations, no v1LegacyMode propagation
// delay and random seed 42 (WithServeDefaults keeps serve's own), and
// closes it when the test ends.
func Start(t testing.TB, opts ...Option) *Armlet {
	t.Helper()
	var st settings
	for _, o := range opts {
		o(&st)
	}
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ProxyListen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.InMemory = true
	cfg.OperationDuration = 200 * time.Millisecond
	cfg.LegacyModePropagation = config.DurationRange{}
	cfg.RandomSeed = 42
	for _, m := range st.mutate {
		m(&cfg)
	}
	srv, err := app.Start(context.Background(), cfg, st.log, st.app...)
	if err != nil {
		t.Fatalf("start armlet: %v", err)
	}
	t.Cleanup(srv.Close)
	conn := srv.Connection()
	pem, err := os.ReadFile(conn.CACertificate)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	return &Armlet{Server: srv, Conn: conn, DataDir: cfg.DataDir, Client: client}
}

// cloudConfig points the Azure SDK for Go at armlet, with ARM at
// endpoint.
func (a *Armlet) cloudConfig(endpoint string) cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: a.Conn.LoginEndpoint,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: endpoint, Audience: a.Conn.Audience},
		},
	}
}

// ARMOptions are client options for the Azure SDK for Go's ARM clients:
// armlet's public ARM endpoint, its CA trusted, no retries.
func (a *Armlet) ARMOptions() *arm.ClientOptions {
	return a.ARMOptionsAt(strings.TrimSuffix(a.Conn.ARMEndpoint, "/"))
}

// ARMOptionsAt are ARMOptions with ARM at endpoint, such as
// "https://"+address of a private ARM listener (tokens still come from the
// main endpoint's token service).
func (a *Armlet) ARMOptionsAt(endpoint string) *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: a.cloudConfig(endpoint), Transport: a.Client,
		Retry: policy.RetryOptions{MaxRetries: -1},
	}}
}

// Credential is a real azidentity ClientSecretCredential of the bootstrap
// principal, Owner of the default subscription.
func (a *Armlet) Credential(t testing.TB) azcore.TokenCredential {
	t.Helper()
	return a.credential(t, a.Conn.ClientID, a.Conn.ClientSecret)
}

// CredentialOf is a real azidentity ClientSecretCredential of p.
func (a *Armlet) CredentialOf(t testing.TB, p Principal) azcore.TokenCredential {
	t.Helper()
	return a.credential(t, p.ClientID, p.ClientSecret)
}

func (a *Armlet) credential(t testing.TB, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(a.Conn.TenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: a.cloudConfig(strings.TrimSuffix(a.Conn.ARMEndpoint, "/")), Transport: a.Client},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// Token returns a bootstrap-principal ARM token from armlet's token
// endpoint (scope audience + "/.default"), asked for once and then kept.
func (a *Armlet) Token(t testing.TB) string {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != "" {
		return a.tok
	}
	tok, err := a.Credential(t).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{a.Conn.Audience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	a.tok = tok.Token
	return a.tok
}

// ForgetToken drops the kept bootstrap token: the next Token asks the
// token endpoint again.
func (a *Armlet) ForgetToken() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tok = ""
}

// TokenFor issues a bootstrap-principal token for another resource,
// in-process (not through the token endpoint).
func (a *Armlet) TokenFor(t testing.TB, resource string) string {
	t.Helper()
	tok, err := a.Identity().IssueToken(context.Background(), a.Conn.ClientID, resource)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// TokenOf gets an ARM access token from cred (scope audience + ".default").
func (a *Armlet) TokenOf(t testing.TB, cred azcore.TokenCredential) string {
	t.Helper()
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{a.Conn.Audience + ".default"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// ClientEnv is the environment that points a client script at a: its
// connection's endpoints, audience, tenant and subscription and the
// bootstrap principal, as the ARMLET_* variables testdata's scripts read.
func (a *Armlet) ClientEnv() []string {
	return []string{
		"ARMLET_ARM_ENDPOINT=" + a.Conn.ARMEndpoint,
		"ARMLET_LOGIN_ENDPOINT=" + a.Conn.LoginEndpoint,
		"ARMLET_AUDIENCE=" + a.Conn.Audience,
		"ARMLET_TENANT_ID=" + a.Conn.TenantID,
		"ARMLET_SUBSCRIPTION_ID=" + a.Conn.SubscriptionID,
		"ARMLET_CLIENT_ID=" + a.Conn.ClientID,
		"ARMLET_CLIENT_SECRET=" + a.Conn.ClientSecret,
	}
}

// Do sends a raw request to path on the ARM endpoint with the bootstrap
// principal's token and returns status, headers and body. A body is sent
// as application/json. header sets headers; an Authorization there
// replaces the token, and an empty value removes a header.
func (a *Armlet) Do(t testing.TB, method, path, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(a.Conn.ARMEndpoint, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if _, ok := header["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer "+a.Token(t))
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// Get sends a GET with the bootstrap token to url on any of armlet's
// listeners, with the extra headers (a "Host" sets the request's host),
// and returns status and body.
func (a *Armlet) Get(t testing.TB, url string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+a.Token(t))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if h := header["Host"]; h != "" {
		req.Host = h
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// WaitFor polls cond until it holds, for up to 10 s, then fails the test
// with what it was waiting for.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
