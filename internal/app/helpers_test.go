package app_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/config"
)

// testServer is an armlet started in-process on a free port with real TLS.
type testServer struct {
	*app.Server
	conn    app.Connection
	dataDir string
	client  *http.Client // trusts armlet's CA
	tok     string       // cached bootstrap token
}

// startArmlet starts armlet with an in-memory store in a temp data dir.
// mutate adjusts the configuration.
func startArmlet(t testing.TB, mutate ...func(*config.Config)) *testServer {
	t.Helper()
	return startArmletWith(t, nil, mutate...)
}

// startArmletWith is startArmlet with app options (fake endpoint sources,
// public ARM checks).
func startArmletWith(t testing.TB, opts []app.Option, mutate ...func(*config.Config)) *testServer {
	t.Helper()
	return startArmletLogged(t, nil, opts, mutate...)
}

// startArmletLogged is startArmletWith logging to log (nil discards).
func startArmletLogged(t testing.TB, log *slog.Logger, opts []app.Option, mutate ...func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.InMemory = true
	cfg.OperationDuration = 200 * time.Millisecond
	cfg.LegacyModePropagation = config.DurationRange{}
	cfg.RandomSeed = 42
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := app.Start(context.Background(), cfg, log, opts...)
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
	return &testServer{Server: srv, conn: conn, dataDir: cfg.DataDir, client: client}
}

// cloudConfig points the Azure SDK for Go at armlet.
func (s *testServer) cloudConfig() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: s.conn.LoginEndpoint,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: strings.TrimSuffix(s.conn.ARMEndpoint, "/"), Audience: s.conn.Audience},
		},
	}
}

// credential is a real azidentity ClientSecretCredential for a principal.
func (s *testServer) credential(t testing.TB, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(s.conn.TenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: s.cloudConfig(), Transport: s.client},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// armOptions are client options for ARM clients, with fast polling.
func (s *testServer) armOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: s.cloudConfig(), Transport: s.client,
		Retry: policy.RetryOptions{MaxRetries: -1},
	}}
}

// do sends a raw request with the bootstrap principal's token (or the
// given Authorization header) and returns status, headers and body.
func (s *testServer) do(t testing.TB, method, path, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(s.conn.ARMEndpoint, "/")+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if _, ok := header["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer "+s.token(t))
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// token returns a bootstrap-principal token from armlet's token endpoint.
func (s *testServer) token(t testing.TB) string {
	t.Helper()
	if s.tok != "" {
		return s.tok
	}
	cred := s.credential(t, s.conn.ClientID, s.conn.ClientSecret)
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{s.conn.Audience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	s.tok = tok.Token
	return s.tok
}

// tokenFor issues a bootstrap-principal token for another resource.
func (s *testServer) tokenFor(t testing.TB, resource string) string {
	t.Helper()
	tok, err := s.Identity().IssueToken(context.Background(), s.conn.ClientID, resource)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func hashSHA256(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// createMLWorkspace creates resource group rg and, with the Go SDK's
// poller, workspace ws1 in it with the given v1LegacyMode; it returns the
// workspaces client.
func createMLWorkspace(t *testing.T, s *testServer, cred azcore.TokenCredential, rg string, legacy bool) *armmachinelearning.WorkspacesClient {
	t.Helper()
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(s.conn.SubscriptionID, cred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatalf("create resource group: %v", err)
	}
	ws, err := armmachinelearning.NewWorkspacesClient(s.conn.SubscriptionID, cred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := ws.BeginCreateOrUpdate(ctx, rg, "ws1", armmachinelearning.Workspace{
		Location:   to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{V1LegacyMode: to.Ptr(legacy)},
	}, nil)
	if err != nil {
		t.Fatalf("begin create workspace: %v", err)
	}
	if _, err := p.PollUntilDone(ctx, fastPoll); err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	return ws
}
