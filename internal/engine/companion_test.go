package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// lidMaker makes with a new box (and with any box whose properties say
// again) the lid l1 beneath it, of the box's color, and, when the box
// names a store, a lid named after the box beneath that other box.
type lidMaker struct{ widgetStrategy }

func (lidMaker) Companions(_ context.Context, _ *engine.Request, r, old *engine.Resource) ([]engine.Companion, error) {
	if again, _ := r.Properties["again"].(bool); old != nil && !again {
		return nil, nil
	}
	lid := func(id resourceid.ID) engine.Companion {
		return engine.Companion{ID: id, Body: map[string]any{"properties": map[string]any{"color": r.Properties["color"]}}, APIVersion: "2024-01-01"}
	}
	out := []engine.Companion{lid(r.ID.Child("lids", "l1"))}
	if tenant, _ := r.Properties["tenant"].(bool); tenant {
		// Beneath nothing stored: a tenant-level resource.
		id, err := resourceid.Parse("/providers/Test.Boxes/tenantLids/" + r.ID.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, lid(id))
	}
	if store, _ := r.Properties["store"].(string); store != "" {
		out = append(out, lid(r.ID.Parent().Child("Test.Boxes/boxes", store).Child("lids", r.ID.Name())))
	}
	return out, nil
}

func TestCompanions(t *testing.T) {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	v := []string{"2024-01-01"}
	reg.Register(&engine.Type{Name: "Test.Boxes/boxes", APIVersions: v, Tracked: true, Strategy: lidMaker{}, Put: engine.AsyncOperation})
	reg.Register(&engine.Type{Name: "Test.Boxes/boxes/lids", APIVersions: v, Strategy: shelfStrategy{}})
	reg.Register(&engine.Type{Name: "Test.Boxes/tenantLids", APIVersions: v, Strategy: shelfStrategy{}})
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: reg, OperationDuration: time.Second})
	ctx := context.Background()
	if err := e.EnsureSubscription(ctx, sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, clk: clk}
	h.mustRG()
	const av = "2024-01-01"
	boxes := rg + "/providers/Test.Boxes/boxes/"
	color := func(path string) any {
		t.Helper()
		st, _, b := h.call("GET", path, av, "", nil)
		if st != 200 {
			return st
		}
		return b["properties"].(map[string]any)["color"]
	}
	steps := []struct {
		name, method, path, body string
		status                   int
		check                    string // a resource then read
		want                     any    // its color, or the status of its GET
	}{
		{"a new box gets its lid", "PUT", boxes + "b1", `{"location":"East US","properties":{"color":"red"}}`, 201, boxes + "b1/lids/l1", "red"},
		{"a refused companion refuses the box", "PUT", boxes + "b2", `{"location":"East US","properties":{"color":"bad"}}`, 400, boxes + "b2", 404},
		{"a companion whose parent is missing is left out", "PUT", boxes + "b3", `{"location":"East US","properties":{"color":"red","store":"st"}}`, 201, boxes + "st/lids/b3", 404},
		{"the store", "PUT", boxes + "st", `{"location":"East US","properties":{"color":"grey"}}`, 201, boxes + "st/lids/l1", "grey"},
		{"a companion elsewhere", "PUT", boxes + "b4", `{"location":"East US","properties":{"color":"red","store":"st"}}`, 201, boxes + "st/lids/b4", "red"},
		{"a client's lid", "PUT", boxes + "st/lids/b5", `{"properties":{"color":"blue"}}`, 201, boxes + "st/lids/b5", "blue"},
		{"an existing companion elsewhere is left alone", "PUT", boxes + "b5", `{"location":"East US","properties":{"color":"red","store":"st"}}`, 201, boxes + "st/lids/b5", "blue"},
		{"an update makes none", "DELETE", boxes + "b1/lids/l1", "", 200, boxes + "b1/lids/l1", 404},
		{"still none", "PUT", boxes + "b1", `{"location":"East US","properties":{"color":"red"}}`, 200, boxes + "b1/lids/l1", 404},
		{"unless the strategy says", "PUT", boxes + "b1", `{"location":"East US","properties":{"color":"red","again":true}}`, 200, boxes + "b1/lids/l1", "red"},
		{"a client's change", "PUT", boxes + "b1/lids/l1", `{"properties":{"color":"green"}}`, 200, boxes + "b1/lids/l1", "green"},
		{"an existing companion beneath is left alone", "PUT", boxes + "b1", `{"location":"East US","properties":{"color":"red","again":true}}`, 200, boxes + "b1/lids/l1", "green"},
	}
	for _, s := range steps {
		if st, _, b := h.call(s.method, s.path, av, s.body, nil); st != s.status {
			t.Fatalf("%s: %s %s = %d %v, want %d", s.name, s.method, s.path, st, b, s.status)
		}
		if got := color(s.check); got != s.want {
			t.Errorf("%s: %s = %v, want %v", s.name, s.check, got, s.want)
		}
	}

	// One transaction: the box and its lid carry the same revision, from
	// a client's PUT and from an import alike.
	if _, err := e.Import(ctx, mustID(t, boxes+"b6"), map[string]any{"location": "East US", "properties": map[string]any{"color": "red"}}, av, engine.Caller{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b4", "b6"} {
		box, err := e.Get(ctx, mustID(t, boxes+name))
		if err != nil {
			t.Fatal(err)
		}
		lid, err := e.Get(ctx, mustID(t, boxes+name+"/lids/l1"))
		if err != nil {
			t.Fatal(err)
		}
		if box.Revision != lid.Revision {
			t.Errorf("%s: box at revision %d, its lid at %d: not one transaction", name, box.Revision, lid.Revision)
		}
	}
	// A companion with no stored ancestor at all is stored too, with the rest.
	if st, _, b := h.call("PUT", boxes+"b8", av, `{"location":"East US","properties":{"color":"red","tenant":true}}`, nil); st != 201 {
		t.Fatalf("PUT b8 = %d %v", st, b)
	}
	for _, p := range []string{"/providers/Test.Boxes/tenantLids/b8", boxes + "b8/lids/l1"} {
		if _, err := e.Get(ctx, mustID(t, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := e.Import(ctx, mustID(t, boxes+"b7"), map[string]any{"location": "East US", "properties": map[string]any{"color": "bad"}}, av, engine.Caller{}); err == nil {
		t.Error("an import whose companion is refused succeeded")
	}
	if got := color(boxes + "b7"); got != 404 {
		t.Errorf("the refused import's box: %v, want 404", got)
	}
}
