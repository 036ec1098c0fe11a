package workspaceapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/machinelearning"
)

const (
	testSub    = "00000000-1111-2222-3333-444444444444"
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	rgPath     = "/subscriptions/" + testSub + "/resourceGroups/rg"
	wsPath     = rgPath + "/providers/Microsoft.MachineLearningServices/workspaces/"
	baseURL    = "https://127.0.0.1:8443"
	mlVersion  = "2024-04-01"
)

// harness is a real engine over memkv with the machinelearning provider
// and a workspace service, one subscription and a resource group "rg".
type harness struct {
	t   *testing.T
	e   *engine.Engine
	clk *clock.Offset
	s   *Service
	// eng sends ARM requests to e.
	eng *enginetest.Env
}

var testCaller = engine.Caller{ObjectID: "11111111-0000-0000-0000-000000000001", AppID: "22222222-0000-0000-0000-000000000002", TenantID: testTenant, PrincipalType: "ServicePrincipal"}

func newHarness(t testing.TB) *harness {
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry()})
	machinelearning.Register(e, machinelearning.Options{TenantID: testTenant})
	if err := e.EnsureSubscription(context.Background(), testSub, testTenant, "test"); err != nil {
		t.Fatal(err)
	}
	h := &harness{e: e, clk: clk, s: New(Options{Engine: e}), eng: enginetest.New(t, e, clk)}
	h.eng.Caller = testCaller
	h.arm(t, http.MethodPut, rgPath, "2021-04-01", `{"location":"eastus"}`)
	return h
}

// arm sends an ARM request to the engine; it must succeed.
func (h *harness) arm(t testing.TB, method, path, apiVersion, body string) map[string]any {
	t.Helper()
	resp, err := h.eng.Serve(method, path, apiVersion, body)
	if err != nil {
		t.Fatalf("ARM %s %s: %v", method, path, err)
	}
	if resp.Status >= 300 {
		t.Fatalf("ARM %s %s: status %d", method, path, resp.Status)
	}
	return toJSON(t, resp.Body)
}

// workspace creates workspace name with publicNetworkAccess pna and
// returns its id.
func (h *harness) workspace(t testing.TB, name, pna string) resourceid.ID {
	t.Helper()
	h.arm(t, http.MethodPut, wsPath+name, mlVersion, `{"location":"eastus","properties":{"publicNetworkAccess":"`+pna+`"}}`)
	id, err := resourceid.Parse(wsPath + name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// privateTo is the origin of a private endpoint connected to target.
func privateTo(target resourceid.ID) netmodel.Origin {
	pe, _ := resourceid.Parse(rgPath + "/providers/Microsoft.Network/privateEndpoints/pe-" + target.Name())
	return netmodel.Origin{Listener: "127.0.0.2:443", Endpoint: &netmodel.Endpoint{ID: pe, PrivateIP: "10.0.0.4", TargetID: target, GroupID: "amlworkspace"}}
}

// serve sends a data-plane request; path may carry a query.
func (h *harness) serve(method, path, body string, origin netmodel.Origin) (*engine.Response, error) {
	q := url.Values{}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		q, _ = url.ParseQuery(path[i+1:])
		path = path[:i]
	}
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	t, err := h.s.Resolve(context.Background(), &Request{
		Method: method, Path: path, Query: q, Header: http.Header{}, Body: b,
		Caller: testCaller, Origin: origin, BaseURL: baseURL, Now: h.clk.Now(),
	})
	if err != nil {
		return nil, err
	}
	return h.s.Serve(context.Background(), t)
}

// ok sends a public request that must answer status; it returns the body
// as generic JSON.
func (h *harness) ok(t testing.TB, method, path, body string, status int) map[string]any {
	t.Helper()
	resp, err := h.serve(method, path, body, netmodel.Origin{})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.Status != status {
		t.Fatalf("%s %s: status %d, want %d", method, path, resp.Status, status)
	}
	if _, raw := resp.Body.(engine.RawBody); raw {
		return nil
	}
	return toJSON(t, resp.Body)
}

// fail sends a request that must fail with status and code.
func (h *harness) fail(t testing.TB, method, path, body string, origin netmodel.Origin, status int, code string) *arm.Error {
	t.Helper()
	resp, err := h.serve(method, path, body, origin)
	if err == nil {
		t.Fatalf("%s %s: status %d, want error %d %s", method, path, resp.Status, status, code)
	}
	return enginetest.CheckError(t, method+" "+path, err, status, code)
}

var toJSON = enginetest.AsJSON

// values is the "value" list of a list body.
func values(t testing.TB, body map[string]any) []any {
	t.Helper()
	v, ok := body["value"].([]any)
	if !ok {
		t.Fatalf("no value list in %v", body)
	}
	return v
}

func armGet(h *harness, path string) *engine.Request {
	return &engine.Request{Method: http.MethodGet, Path: path, APIVersion: mlVersion, Header: http.Header{}, Caller: testCaller, BaseURL: baseURL, Now: h.clk.Now()}
}
