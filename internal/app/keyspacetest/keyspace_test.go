package keyspacetest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/boltkv"
)

// sharedOnly are the spaces written only on a store other processes
// share (etcd): the fleet's CA and the RBAC peers key. The workload runs
// on bbolt, so it cannot reach them; their owners' tests write them
// through their views.
var sharedOnly = map[kv.Space]bool{kv.SpaceSharedCA: true, kv.SpaceRBAC: true, kv.SpaceWrites: true}

// TestEveryStoredKeyIsDeclared runs a workload through armlet's front
// door on a bbolt store (resources with long-running operations and
// indexes, a private endpoint with its IP claim and listener, the
// workspace data plane, a blob uploaded and a key vault secret set
// through the HTTPS proxy, a workspace quota, a policy assignment and its
// compliance states, a provider unregistered, the clock advanced, a
// delete still due, flow records), stops armlet, and reads the store file: every key must lie in
// a declared space, and every space but the shared-store ones must hold
// some key.
func TestEveryStoredKeyIsDeclared(t *testing.T) {
	ctx := t.Context()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ProxyListen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.OperationDuration = time.Minute // a delete stays due until the clock moves
	cfg.LegacyModePropagation = config.DurationRange{}
	cfg.RandomSeed = 42
	srv, err := app.Start(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := newClient(t, srv)

	sub := "/subscriptions/" + c.conn.SubscriptionID
	rg := sub + "/resourceGroups/rg1"
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	vnet := rg + "/providers/Microsoft.Network/virtualNetworks/vnet1"
	c.must(http.MethodPut, rg+"?api-version=2021-04-01", `{"location":"eastus"}`)
	c.must(http.MethodPut, sub+"/providers/Microsoft.Authorization/policyAssignments/audit-pna?api-version=2023-04-01",
		`{"properties":{"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/438c38d2-3772-465a-a9cc-7a6666a275ce"}}`)
	c.must(http.MethodPut, ws+"?api-version=2024-04-01", `{"location":"eastus","properties":{"publicNetworkAccess":"Enabled"}}`)
	c.must(http.MethodPut, vnet+"?api-version=2024-05-01", `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},`+
		`"subnets":[{"name":"default","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`)
	account := rg + "/providers/Microsoft.Storage/storageAccounts/keyspaceblob1"
	c.must(http.MethodPut, account+"?api-version=2023-05-01", `{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`)
	if _, err := srv.AdvanceClock(ctx, time.Hour); err != nil { // the workspace, the vnet and the account are done
		t.Fatal(err)
	}
	c.must(http.MethodPut, rg+"/providers/Microsoft.Network/privateEndpoints/pe1?api-version=2024-05-01",
		`{"location":"eastus","properties":{"subnet":{"id":"`+vnet+`/subnets/default"},`+
			`"privateLinkServiceConnections":[{"name":"c1","properties":{"privateLinkServiceId":"`+ws+`","groupIds":["amlworkspace"]}}]}}`)
	if _, err := srv.AdvanceClock(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	c.waitListener()
	c.waitVNetProxy()
	c.must(http.MethodPost, "/history/v1.0"+ws+"/experiments/exp1", `{}`)
	c.uploadBlob(account)
	c.must(http.MethodPost, sub+"/providers/Microsoft.MachineLearningServices/locations/eastus/updateQuotas?api-version=2024-04-01",
		`{"value":[{"id":"`+ws+`/quotas/Standard_DSv2_Family_Cluster_Dedicated_vCPUs","limit":12}]}`)
	var wsBody struct {
		Properties struct{ WorkspaceID string }
	}
	if code, body := c.do(http.MethodGet, ws+"?api-version=2024-04-01", ""); code != http.StatusOK || json.Unmarshal([]byte(body), &wsBody) != nil {
		t.Fatalf("GET %s = %d %s", ws, code, body)
	}
	c.must(http.MethodPut, rg+"/providers/Microsoft.KeyVault/vaults/kv1?api-version=2024-11-01",
		`{"location":"eastus","properties":{"tenantId":"`+c.conn.TenantID+`","sku":{"family":"A","name":"standard"},`+
			`"accessPolicies":[{"tenantId":"`+c.conn.TenantID+`","objectId":"`+c.conn.ObjectID+`","permissions":{"secrets":["set"]}}]}}`)
	c.setSecret(srv, "kv1", "s1")
	c.must(http.MethodPost, sub+"/providers/Microsoft.Network/unregister?api-version=2021-04-01", "")
	c.must(http.MethodPut, sub+"/resourceGroups/rg2?api-version=2021-04-01", `{"location":"eastus"}`)
	c.must(http.MethodDelete, sub+"/resourceGroups/rg2?api-version=2021-04-01", "")
	if err := srv.Flows().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	st, err := boltkv.Open(filepath.Join(cfg.DataDir, "armlet.db"), boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ents, err := st.Scan(ctx, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, ents, c.conn, wsBody.Properties.WorkspaceID)
	seen := map[kv.Space]int{}
	for _, e := range ents {
		s, ok := kv.Holding(e.Key)
		if !ok {
			t.Errorf("key %q lies in no declared space (kv/keyspace.go)", e.Key)
			continue
		}
		seen[s]++
	}
	for _, s := range kv.Spaces() {
		switch {
		case sharedOnly[s] && seen[s] > 0:
			t.Errorf("%v (%q) holds %d keys on a store of armlet's own; it is declared for shared stores only", s, s.Prefix(), seen[s])
		case !sharedOnly[s] && seen[s] == 0:
			t.Errorf("%v (%q) holds no key after the workload: the workload misses it, or nothing writes it any more", s, s.Prefix())
		}
	}
	t.Logf("%d keys: %v", len(ents), seen)
}

// checkLayout pins the bytes of one key of each space the workload
// writes under known names, and the index entries' values: they are
// the layout of every data dir and etcd prefix in use, which views must
// reproduce exactly.
func checkLayout(t *testing.T, ents []kv.Entry, conn app.Connection, workspaceID string) {
	t.Helper()
	sub := strings.ToLower(conn.SubscriptionID)
	rg := "/subscriptions/" + sub + "/resourcegroups/rg1"
	vnetRecord := "r\x00" + rg + "\x00microsoft.network/virtualnetworks\x00vnet1"
	const anyValue = "\xff any" // not a value armlet writes
	want := map[string]string{
		"m\x00bootstrap":       anyValue,
		"m\x00clock-offset":    "2h0m0s",
		"identity/signing-key": anyValue,
		"identity/bootstrap":   anyValue,
		"identity/principals/" + strings.ToLower(conn.ClientID):    anyValue,
		"r\x00/\x00subscriptions\x00" + sub:                        anyValue,
		"r\x00/subscriptions/" + sub + "\x00resourcegroups\x00rg1": anyValue,
		vnetRecord: anyValue,
		"t\x00" + sub + "\x00microsoft.network/virtualnetworks\x00rg1\x00vnet1":                               vnetRecord,
		"g\x00" + sub + "\x00rg1\x00microsoft.network/virtualnetworks\x00vnet1":                               vnetRecord,
		"p\x00" + sub + "\x00microsoft.network":                                                               anyValue,
		"n\x00ip\x00" + rg + "/providers/microsoft.network/virtualnetworks/vnet1/subnets/default\x0010.0.0.4": anyValue,
		"nm\x00flowmeta":      anyValue,
		"nm\x00loopback-next": "1",
		"nm\x00loopback\x00" + rg + "/providers/microsoft.network/privateendpoints/pe1": anyValue,
		"nm\x00vnet-loopback-next": "1",
		"nm\x00vnet-loopback\x00" + rg + "/providers/microsoft.network/virtualnetworks/vnet1": anyValue,
		"policygeneration": "1",
		"policystate/" + sub + "/" + rg + "/providers/microsoft.network/virtualnetworks/vnet1|/subscriptions/" + sub +
			"/providers/microsoft.authorization/policyassignments/audit-pna||/providers/microsoft.authorization/policydefinitions/438c38d2-3772-465a-a9cc-7a6666a275ce": anyValue,
		"w\x00" + strings.ToLower(workspaceID) + "\x00e\x00exp1": anyValue,
		"mlq\x00" + sub + "\x00eastus":                           anyValue,
		"kv\x00kv1\x00s\x00s1":                                   anyValue,
	}
	stored := map[string]string{}
	for _, e := range ents {
		stored[string(e.Key)] = string(e.Value)
	}
	for k, v := range want {
		got, ok := stored[k]
		switch {
		case !ok:
			t.Errorf("no key %q: the stored layout changed", k)
		case v != anyValue && got != v:
			t.Errorf("%q = %q, want %q", k, got, v)
		}
	}
}

// client sends ARM and admin requests as the bootstrap principal.
type client struct {
	t    *testing.T
	conn app.Connection
	http *http.Client
	tok  string
}

func newClient(t *testing.T, srv *app.Server) *client {
	t.Helper()
	conn := srv.Connection()
	pem, err := os.ReadFile(conn.CACertificate)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tok, err := srv.Identity().IssueToken(context.Background(), conn.ClientID, app.ARMAudience)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, conn: conn, tok: tok.AccessToken, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}
}

// proxied is the client's transport through armlet's HTTPS proxy.
func (c *client) proxied() *http.Transport {
	c.t.Helper()
	proxyURL, err := url.Parse(c.conn.HTTPSProxy)
	if err != nil {
		c.t.Fatal(err)
	}
	tr := c.http.Transport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(proxyURL)
	return tr
}

// uploadBlob writes a blob to the account's blob data plane with azblob,
// through armlet's proxy, with the account's key.
func (c *client) uploadBlob(account string) {
	c.t.Helper()
	code, body := c.do(http.MethodPost, account+"/listKeys?api-version=2023-05-01", "")
	var keys struct{ Keys []struct{ Value string } }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &keys) != nil || len(keys.Keys) == 0 {
		c.t.Fatalf("listKeys = %d %s", code, body)
	}
	name := account[strings.LastIndex(account, "/")+1:]
	cred, err := azblob.NewSharedKeyCredential(name, keys.Keys[0].Value)
	if err != nil {
		c.t.Fatal(err)
	}
	bc, err := azblob.NewClientWithSharedKeyCredential("https://"+name+".blob.core.windows.net/", cred,
		&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: c.proxied()}}})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := bc.CreateContainer(context.Background(), "data", nil); err != nil {
		c.t.Fatalf("create a container: %v", err)
	}
	if _, err := bc.UploadBuffer(context.Background(), "data", "b", []byte("blob"), nil); err != nil {
		c.t.Fatalf("upload a blob: %v", err)
	}
}

// setSecret sets secret name of vault through armlet's HTTPS proxy, as
// the bootstrap principal with a Key Vault token.
func (c *client) setSecret(srv *app.Server, vault, name string) {
	c.t.Helper()
	tok, err := srv.Identity().IssueToken(context.Background(), c.conn.ClientID, "https://vault.azure.net")
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, "https://"+vault+".vault.azure.net/secrets/"+name+"?api-version=7.4", strings.NewReader(`{"value":"v"}`))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := (&http.Client{Transport: c.proxied(), Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK {
		c.t.Fatalf("set secret %s of %s through the proxy: %d %s", name, vault, resp.StatusCode, b)
	}
}

// do sends one request and returns its status and body.
func (c *client) do(method, path, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(c.conn.ARMEndpoint, "/")+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// must sends one request that must succeed.
func (c *client) must(method, path, body string) {
	c.t.Helper()
	if code, resp := c.do(method, path, body); code < 200 || code > 299 {
		c.t.Fatalf("%s %s = %d %s", method, path, code, resp)
	}
}

// waitVNetProxy waits until the virtual network's proxy is open, so that
// its loopback address is stored.
func (c *client) waitVNetProxy() {
	c.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, body := c.do(http.MethodGet, "/_armlet/network/virtualNetworks", "")
		var out struct{ Value []json.RawMessage }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
			c.t.Fatalf("GET /_armlet/network/virtualNetworks = %d %s", code, body)
		}
		if len(out.Value) > 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no virtual network proxy after 10s: %s", body)
		}
	}
}

// waitListener waits until the private endpoint's listener is open, so
// that its loopback address is stored.
func (c *client) waitListener() {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := c.do(http.MethodGet, "/_armlet/network/endpoints", "")
		var out struct{ Value []json.RawMessage }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
			c.t.Fatalf("GET /_armlet/network/endpoints = %d %s", code, body)
		}
		if len(out.Value) > 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no private endpoint listener after 10s: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
