package machinelearning

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
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
	*enginetest.Env
	t   *testing.T
	e   *engine.Engine
	clk *clock.Offset
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
	v := &env{Env: enginetest.New(t, e, clk), t: t, e: e, clk: clk}
	v.Must(http.MethodPut, rgPath, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	return v
}

// in makes t the test v reports to (both v's helpers and enginetest's),
// for a subtest.
func (v *env) in(t *testing.T) { v.t, v.T = t, t }

var (
	asJSON = enginetest.AsJSON
	mustID = enginetest.MustID
)

// createWorkspace PUTs a workspace, checks the 202 and finishes the
// operation by advancing the clock.
func (v *env) createWorkspace(name, apiVersion, body string) {
	v.t.Helper()
	resp, err := v.Serve(http.MethodPut, wsBase+name, apiVersion, body)
	if err != nil {
		v.t.Fatalf("create %s: %v", name, err)
	}
	if resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
		v.t.Fatalf("create %s: status %d, Location %q; want 202 with Location", name, resp.Status, resp.Header.Get("Location"))
	}
	v.Advance(2 * time.Second)
}

// props GETs a workspace at apiVersion and returns its properties.
func (v *env) props(name, apiVersion string) map[string]any {
	v.t.Helper()
	body := v.Must(http.MethodGet, wsBase+name, apiVersion, "", http.StatusOK)
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
