package engine_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// labelStrategy is an extension type at any scope with one unstored item,
// "builtin", and collections that list the scope's labels plus it.
type labelStrategy struct{ e *engine.Engine }

func (labelStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (s labelStrategy) ServeScope(ctx context.Context, req *engine.Request, scope resourceid.ID, name string) (*engine.Response, bool, error) {
	if name == "builtin" && req.Method == http.MethodGet {
		return engine.JSON(200, map[string]any{"id": scope.Child("Test.Ext/labels", "builtin").String()}), true, nil
	}
	if name != "" {
		return nil, false, nil
	}
	rs, err := s.e.List(ctx, scope, "Test.Ext/labels")
	if err != nil {
		return nil, true, err
	}
	ids := []any{"builtin"}
	for _, r := range rs {
		ids = append(ids, r.ID.String())
	}
	return engine.JSON(200, map[string]any{"value": ids}), true, nil
}

// TestScopeServer stores an extension type at the tenant root, a
// subscription, a resource group and a resource, and lets its strategy
// answer the unstored item and the collections.
func TestScopeServer(t *testing.T) {
	h := newHarness(t)
	h.e.Registry().Register(&engine.Type{Name: "Test.Ext/labels", APIVersions: []string{"2022-04-01"},
		Put: engine.Sync, Delete: engine.Sync, DeleteBody: true, Strategy: labelStrategy{e: h.e}})
	h.mustRG()
	if st, _, b := h.call("PUT", rg+"/providers/Test.Widgets/widgets/w", "2024-01-01", `{"location":"East US"}`, nil); st != 201 {
		t.Fatalf("widget: %d %v", st, b)
	}
	h.clk.Advance(2e9)
	const ext = "/providers/Test.Ext/labels"
	for _, scope := range []string{"", "/subscriptions/" + sub, rg, rg + "/providers/Test.Widgets/widgets/w"} {
		id := scope + ext + "/l1"
		if st, _, b := h.call("PUT", id, "2022-04-01", `{"properties":{"x":1}}`, nil); st != 201 || b["id"] != id {
			t.Fatalf("PUT %s: %d %v", id, st, b)
		}
		if st, _, b := h.call("GET", id, "2022-04-01", "", nil); st != 200 || b["id"] != id {
			t.Fatalf("GET %s: %d %v", id, st, b)
		}
		if st, _, b := h.call("GET", scope+ext+"/builtin", "2022-04-01", "", nil); st != 200 || b["id"] != scope+ext+"/builtin" {
			t.Fatalf("GET builtin at %q: %d %v", scope, st, b)
		}
		coll := scope + ext
		if scope == "" {
			coll = ext
		}
		if st, _, b := h.call("GET", coll, "2022-04-01", "", nil); st != 200 || len(b["value"].([]any)) != 2 || b["value"].([]any)[1] != id {
			t.Fatalf("list at %q: %d %v", scope, st, b)
		}
		if st, _, b := h.call("GET", id, "2099-01-01", "", nil); st != 400 {
			t.Fatalf("bad api-version at %q: %d %v", scope, st, b)
		}
	}
	missing := "/subscriptions/" + sub + "/resourceGroups/nope" + ext
	for _, p := range []string{missing, missing + "/l1", missing + "/builtin"} {
		if st, _, b := h.call("GET", p, "2022-04-01", "", nil); st != 404 || errCode(b) != "ResourceGroupNotFound" {
			t.Errorf("GET %s: %d %v, want 404 ResourceGroupNotFound", p, st, b)
		}
	}
	if st, _, b := h.call("DELETE", rg+ext+"/l1", "2022-04-01", "", nil); st != 200 || b["id"] != rg+ext+"/l1" {
		t.Fatalf("DELETE (DeleteBody): %d %v", st, b)
	}
	if st, _, b := h.call("GET", rg+ext+"/l1", "2022-04-01", "", nil); st != 404 {
		t.Fatalf("GET after DELETE: %d %v", st, b)
	}
}
