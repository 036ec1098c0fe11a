package machinelearning

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

const (
	testSub    = "00000000-1111-2222-3333-444444444444"
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	rgPath     = "/subscriptions/" + testSub + "/resourceGroups/rg"
	wsBase     = rgPath + "/providers/Microsoft.MachineLearningServices/workspaces/"
	storageID  = rgPath + "/providers/Microsoft.Storage/storageAccounts/store1"
	storage2ID = rgPath + "/providers/Microsoft.Storage/storageAccounts/store2"
	vaultID    = rgPath + "/providers/Microsoft.KeyVault/vaults/vault1"
	vault2ID   = rgPath + "/providers/Microsoft.KeyVault/vaults/vault2"
	acrID      = rgPath + "/providers/Microsoft.ContainerRegistry/registries/acr1"
	peID       = rgPath + "/providers/Microsoft.Network/privateEndpoints/pe1"
	newest     = "2024-04-01"
)

// env is an engine with this provider registered, one subscription and a
// resource group "rg".
type env struct {
	t   *testing.T
	e   *engine.Engine
	clk *clock.Offset
	// now is the request time of the last request.
	now time.Time
}

func newEnv(t *testing.T, opts Options, rnd *rand.Rand) *env {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry(), Rand: rnd})
	if opts.TenantID == "" {
		opts.TenantID = testTenant
	}
	Register(e, opts)
	if err := e.EnsureSubscription(context.Background(), testSub, testTenant, "test"); err != nil {
		t.Fatal(err)
	}
	v := &env{t: t, e: e, clk: clk}
	v.must(http.MethodPut, rgPath, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	return v
}

// serve sends one request; path may carry a query (api-version in it
// wins over apiVersion).
func (v *env) serve(method, path, apiVersion, body string) (*engine.Response, error) {
	v.t.Helper()
	query := url.Values{}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		q, err := url.ParseQuery(path[i+1:])
		if err != nil {
			v.t.Fatal(err)
		}
		query, path = q, path[:i]
		if av := q.Get("api-version"); av != "" {
			apiVersion = av
		}
	}
	v.now = v.clk.Now()
	req := &engine.Request{
		Method: method, Path: path, APIVersion: apiVersion, Query: query, Body: []byte(body),
		Header: http.Header{}, BaseURL: "https://127.0.0.1:8443", Now: v.now,
		Caller: engine.Caller{ObjectID: "11111111-0000-0000-0000-000000000001", AppID: "22222222-0000-0000-0000-000000000002", PrincipalType: "ServicePrincipal"},
	}
	return v.e.Serve(context.Background(), req)
}

// must sends a request that must succeed with status; it returns the body
// as generic JSON (nil when there is none).
func (v *env) must(method, path, apiVersion, body string, status int) map[string]any {
	v.t.Helper()
	resp, err := v.serve(method, path, apiVersion, body)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.Status != status {
		v.t.Fatalf("%s %s: status %d, want %d (body %v)", method, path, resp.Status, status, resp.Body)
	}
	return asJSON(v.t, resp.Body)
}

// fail sends a request that must fail with status and code.
func (v *env) fail(method, path, apiVersion, body string, status int, code string) *arm.Error {
	v.t.Helper()
	resp, err := v.serve(method, path, apiVersion, body)
	if err == nil {
		v.t.Fatalf("%s %s: status %d, want error %d %s (body %v)", method, path, resp.Status, status, code, asJSON(v.t, resp.Body))
	}
	ae, ok := arm.AsError(err)
	if !ok {
		v.t.Fatalf("%s %s: internal error %v", method, path, err)
	}
	if ae.Status != status || ae.Code != code {
		v.t.Fatalf("%s %s: error %d %s (%s), want %d %s", method, path, ae.Status, ae.Code, ae.Message, status, code)
	}
	return ae
}

func asJSON(t *testing.T, body any) map[string]any {
	t.Helper()
	if body == nil {
		return nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// createWorkspace PUTs a workspace, checks the 202 and finishes the
// operation by advancing the clock.
func (v *env) createWorkspace(name, apiVersion, body string) {
	v.t.Helper()
	resp, err := v.serve(http.MethodPut, wsBase+name, apiVersion, body)
	if err != nil {
		v.t.Fatalf("create %s: %v", name, err)
	}
	if resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
		v.t.Fatalf("create %s: status %d, Location %q; want 202 with Location", name, resp.Status, resp.Header.Get("Location"))
	}
	v.advance(2 * time.Second)
}

func (v *env) advance(d time.Duration) {
	v.t.Helper()
	if _, err := v.clk.Advance(d); err != nil {
		v.t.Fatal(err)
	}
}

// props GETs a workspace at apiVersion and returns its properties.
func (v *env) props(name, apiVersion string) map[string]any {
	v.t.Helper()
	body := v.must(http.MethodGet, wsBase+name, apiVersion, "", http.StatusOK)
	p, _ := body["properties"].(map[string]any)
	return p
}

// describe returns the workspace's derived admin state.
func (v *env) describe(name string) map[string]any {
	v.t.Helper()
	id, err := resourceid.Parse(wsBase + name)
	if err != nil {
		v.t.Fatal(err)
	}
	out, err := v.e.Describe(context.Background(), id, "")
	if err != nil {
		v.t.Fatal(err)
	}
	return asJSON(v.t, out["derived"])
}

func (v *env) resource(id string) *engine.Resource {
	v.t.Helper()
	rid, err := resourceid.Parse(id)
	if err != nil {
		v.t.Fatal(err)
	}
	r, err := v.e.Get(context.Background(), rid)
	if err != nil {
		v.t.Fatalf("get %s: %v", id, err)
	}
	return r
}

func mustID(t *testing.T, s string) resourceid.ID {
	t.Helper()
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
