package engine_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// shelfStrategy refuses the color "bad", so a failing implicit parent can
// be tested.
type shelfStrategy struct{}

func (shelfStrategy) Validate(_ context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	if desired.Properties["color"] == "bad" {
		return arm.BadRequest("BadColor", "The color 'bad' is not allowed.")
	}
	return nil
}

// newImplicitHarness registers widgets (tracked), their shelves, the
// shelves' items (which create a missing shelf, copying the item's color)
// and bins (which do not).
func newImplicitHarness(t *testing.T) *harness {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	v := []string{"2024-01-01"}
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets", APIVersions: v, Tracked: true, Strategy: widgetStrategy{}})
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets/shelves", APIVersions: v, Strategy: shelfStrategy{},
		NamePattern: regexp.MustCompile(`^s[0-9]$`), NameRule: "Shelves are s0 to s9."})
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets/shelves/items", APIVersions: v, Strategy: widgetStrategy{},
		ImplicitParent: func(child *engine.Resource) map[string]any {
			return map[string]any{"properties": map[string]any{"color": child.Properties["color"]}}
		}})
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets/shelves/bins", APIVersions: v, Strategy: widgetStrategy{}})
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: reg, OperationDuration: time.Second})
	if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, e: e, clk: clk}
}

func TestImplicitParent(t *testing.T) {
	h := newImplicitHarness(t)
	h.mustRG()
	const av = "2024-01-01"
	shelf := widget + "/shelves/s1"
	steps := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"grandparent missing", "PUT", shelf + "/items/i1", `{"properties":{"color":"red"}}`, 404, arm.CodeParentResourceNotFound},
		{"create the widget", "PUT", widget, `{"location":"East US"}`, 201, ""},
		{"parent refused: nothing stored", "PUT", shelf + "/items/i1", `{"properties":{"color":"bad"}}`, 400, "BadColor"},
		{"no shelf after the refusal", "GET", shelf, "", 404, arm.CodeResourceNotFound},
		{"child refused: no parent either", "PUT", shelf + "/items/i1", `{"properties":{"size":"x"}}`, 400, arm.CodeInvalidRequestContent},
		{"still no shelf", "GET", shelf, "", 404, arm.CodeResourceNotFound},
		{"parent name rule applies", "PUT", widget + "/shelves/bad/items/i1", `{}`, 400, arm.CodeInvalidResourceName},
		{"type without ImplicitParent", "PUT", shelf + "/bins/b1", `{}`, 404, arm.CodeParentResourceNotFound},
		{"item creates its shelf", "PUT", widget + "/SHELVES/s1/items/i1", `{"properties":{"color":"red"}}`, 201, ""},
		{"the shelf exists", "GET", shelf, "", 200, ""},
		{"second item keeps the shelf", "PUT", shelf + "/items/i2", `{"properties":{"color":"blue"}}`, 201, ""},
		{"bins work now", "PUT", shelf + "/bins/b1", `{}`, 201, ""},
	}
	for _, s := range steps {
		st, _, b := h.call(s.method, s.path, av, s.body, nil)
		if st != s.status || (s.code != "" && errCode(b) != s.code) {
			t.Fatalf("%s: %d %v, want %d %s", s.name, st, b, s.status, s.code)
		}
	}
	st, _, b := h.call("GET", shelf, av, "", nil)
	props, _ := b["properties"].(map[string]any)
	if st != 200 || props["color"] != "red" || b["type"] != "Test.Widgets/widgets/shelves" {
		t.Errorf("shelf = %d %v, want color red from the first item", st, b)
	}
	if b["id"] != shelf {
		t.Errorf("shelf id = %v, want canonical casing %s", b["id"], shelf)
	}
	st, _, b = h.call("GET", shelf+"/items", av, "", nil)
	if items, _ := b["value"].([]any); st != 200 || len(items) != 2 {
		t.Errorf("items = %d %v, want 2", st, b)
	}
	// Deleting the shelf takes its items; a new item makes it again.
	if st, _, b := h.call("DELETE", shelf, av, "", nil); st != 200 {
		t.Fatalf("delete shelf: %d %v", st, b)
	}
	if st, _, b := h.call("PUT", shelf+"/items/i3", av, `{"properties":{"color":"green"}}`, nil); st != 201 {
		t.Fatalf("recreate: %d %v", st, b)
	}
	st, _, b = h.call("GET", shelf+"/items", av, "", nil)
	if items, _ := b["value"].([]any); st != 200 || len(items) != 1 {
		t.Errorf("items after recreate = %d %v, want only i3", st, b)
	}
}
