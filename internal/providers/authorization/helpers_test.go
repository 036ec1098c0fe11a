package authorization

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/boltkv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// Two tenants, each with one subscription and a resource group "rg".
const (
	tenantA = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantB = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	subA    = "00000000-1111-2222-3333-444444444444"
	subB    = "99999999-1111-2222-3333-444444444444"
	ver     = "2020-05-01"
	rgA     = "/subscriptions/" + subA + "/resourceGroups/rg"
	rgB     = "/subscriptions/" + subB + "/resourceGroups/rg"
	rmplA   = rgA + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/"
	rmplB   = rgB + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/"
	mgRoot  = "/providers/Microsoft.Management/managementGroups/"
	plaA    = mgRoot + tenantA + "/providers/Microsoft.Authorization/privateLinkAssociations/"
	plaB    = mgRoot + tenantB + "/providers/Microsoft.Authorization/privateLinkAssociations/"
)

// env is an engine with this provider; requests name the tenant of their
// caller.
type env struct {
	*enginetest.Env
	t testing.TB
	e *engine.Engine
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOn(t, memkv.New())
}

func newBoltEnv(t testing.TB) *env {
	t.Helper()
	st, err := boltkv.Open(filepath.Join(t.TempDir(), "armlet.db"), boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st)
}

func newEnvOn(t testing.TB, st kv.Store) *env {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: st, Clock: clk, Registry: engine.NewRegistry()})
	Register(e, Options{})
	ctx := context.Background()
	for _, s := range []struct{ sub, tenant string }{{subA, tenantA}, {subB, tenantB}} {
		if err := e.EnsureSubscription(ctx, s.sub, s.tenant, "test"); err != nil {
			t.Fatal(err)
		}
	}
	v := &env{Env: enginetest.New(t, e, clk), t: t, e: e}
	v.must(tenantA, http.MethodPut, rgA, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	v.must(tenantB, http.MethodPut, rgB, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	return v
}

// serve sends one request as a caller of tenant.
func (v *env) serve(tenant, method, path, apiVersion, body string) (*engine.Response, error) {
	v.t.Helper()
	v.Caller.TenantID = tenant
	return v.Serve(method, path, apiVersion, body)
}

// must sends a request as a caller of tenant that must answer status; it
// returns the body.
func (v *env) must(tenant, method, path, apiVersion, body string, status int) map[string]any {
	v.t.Helper()
	v.Caller.TenantID = tenant
	return v.Must(method, path, apiVersion, body, status)
}

// fail sends a request as a caller of tenant that must fail with status
// and code.
func (v *env) fail(tenant, method, path, apiVersion, body string, status int, code string) *arm.Error {
	v.t.Helper()
	v.Caller.TenantID = tenant
	return v.Fail(method, path, apiVersion, body, status, code)
}

// disabled calls PublicARMDisabled and checks that a refusal comes exactly
// with disabled.
func (v *env) disabled(tenant string) (bool, *arm.Error) {
	v.t.Helper()
	d, refusal, err := PublicARMDisabled(context.Background(), v.e, tenant)
	if err != nil {
		v.t.Fatalf("PublicARMDisabled(%q): %v", tenant, err)
	}
	if d != (refusal != nil) {
		v.t.Fatalf("PublicARMDisabled(%q) = %v with refusal %v", tenant, d, refusal)
	}
	if !d {
		return false, nil
	}
	ae, ok := arm.AsError(refusal)
	if !ok {
		v.t.Fatalf("refusal %v is not an *arm.Error", refusal)
	}
	return true, ae
}

var asJSON = enginetest.AsJSON

func listNames(t testing.TB, body map[string]any) []string {
	t.Helper()
	var out []string
	for _, it := range body["value"].([]any) {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return out
}

func association(link, access string) string {
	props := map[string]any{"privateLink": link}
	if access != "" {
		props["publicNetworkAccess"] = access
	}
	return string(must(json.Marshal(map[string]any{"properties": props})))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func lower(s string) string { return strings.ToLower(s) }
