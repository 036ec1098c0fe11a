package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// TestNamespaceDeclarations checks what a provider declares of its
// namespace: the operations list at the namespace's own api-versions (the
// ARM core's are not the provider's), the list it supplies, and regions
// that only its types, resource groups and the subscription's list take.
func TestNamespaceDeclarations(t *testing.T) {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets", APIVersions: []string{"2024-01-01"}, Tracked: true,
		Put: engine.Sync, Delete: engine.Sync, Strategy: widgetStrategy{}})
	reg.Register(&engine.Type{Name: "Test.Gadgets/gadgets", APIVersions: []string{"2023-05-01"}, Tracked: true,
		Put: engine.Sync, Delete: engine.Sync, Strategy: widgetStrategy{}})
	reg.SetLocations("test.gadgets", []string{"East US", "Mars Central"})
	reg.SetOperations("Test.Gadgets", func(*engine.Request) []any {
		return []any{map[string]any{"name": "Test.Gadgets/gadgets/polish/action"}}
	})
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: reg, OperationDuration: time.Second})
	if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, clk: clk}
	gadgets := rg + "/providers/Test.Gadgets/gadgets/"
	cases := []struct {
		name, method, path, version, body string
		status                            int
		code                              string
	}{
		{"rp operations at its version", "GET", "/providers/Test.Widgets/operations", "2024-01-01", "", 200, ""},
		{"rp operations at a core version", "GET", "/providers/Test.Widgets/operations", "2021-04-01", "", 400, "NoRegisteredProviderFound"},
		{"core operations", "GET", "/providers/Microsoft.Resources/operations", "2021-04-01", "", 200, ""},
		{"unknown namespace", "GET", "/providers/Test.Nothing/operations", "2024-01-01", "", 400, "InvalidResourceNamespace"},
		{"declared operations", "GET", "/providers/Test.Gadgets/operations", "2023-05-01", "", 200, ""},
		{"group in a namespace's region", "PUT", rg, "2021-04-01", `{"location":"marscentral"}`, 201, ""},
		{"type in its namespace's region", "PUT", gadgets + "g1", "2023-05-01", `{"location":"Mars Central"}`, 201, ""},
		{"type outside its namespace's regions", "PUT", gadgets + "g2", "2023-05-01", `{"location":"westus"}`, 400, "LocationNotAvailableForResourceType"},
		{"other namespace keeps the engine's", "PUT", rg + "/providers/Test.Widgets/widgets/w1", "2024-01-01", `{"location":"marscentral"}`, 400, "LocationNotAvailableForResourceType"},
	}
	for _, c := range cases {
		status, _, body := h.call(c.method, c.path, c.version, c.body, nil)
		if status != c.status || errCode(body) != c.code {
			t.Errorf("%s: %d %q, want %d %q (%v)", c.name, status, errCode(body), c.status, c.code, body)
		}
		if c.name == "declared operations" {
			if v, _ := body["value"].([]any); len(v) != 1 {
				t.Errorf("declared operations: %v, want the provider's one", body)
			}
		}
	}
	_, _, locs := h.call("GET", "/subscriptions/"+sub+"/locations", "2022-12-01", "", nil)
	var names []string
	for _, l := range locs["value"].([]any) {
		names = append(names, l.(map[string]any)["name"].(string))
	}
	if !slices.Contains(names, "marscentral") || !slices.Contains(names, "westus") || slices.Index(names, "marscentral") < slices.Index(names, "westus") {
		t.Errorf("subscription locations %v: want the engine's, then marscentral", names)
	}
	_, _, prov := h.call("GET", "/subscriptions/"+sub+"/providers/Test.Gadgets", "2021-04-01", "", nil)
	rt := prov["resourceTypes"].([]any)[0].(map[string]any)
	if got := rt["locations"].([]any); len(got) != 2 || got[1] != "Mars Central" {
		t.Errorf("registration locations %v, want the namespace's", got)
	}
}
