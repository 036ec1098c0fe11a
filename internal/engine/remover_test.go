package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// recorder is a strategy that remembers what the engine told it was
// removed.
type recorder struct {
	widgetStrategy
	mu      sync.Mutex
	removed []string
}

func (r *recorder) Removed(_ context.Context, res *engine.Resource) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, res.ID.Name())
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.removed
	r.removed = nil
	return out
}

// TestRemover: a Remover hears of every resource of its type a delete
// removes, by itself or with its resource group, and not of an import
// undone.
func TestRemover(t *testing.T) {
	h := newHarness(t)
	rec := &recorder{}
	h.e.Registry().Register(&engine.Type{Name: "Test.Widgets/vaults", APIVersions: []string{"2024-01-01"}, Tracked: true, Strategy: rec})
	h.mustRG()
	vault := func(name string) string { return rg + "/providers/Test.Widgets/vaults/" + name }
	for _, n := range []string{"v1", "v2"} {
		if st, _, b := h.call("PUT", vault(n), "2024-01-01", `{"location":"eastus"}`, nil); st != 201 {
			t.Fatalf("create %s: %d %v", n, st, b)
		}
	}
	if st, _, _ := h.call("DELETE", vault("v1"), "2024-01-01", "", nil); st != 200 {
		t.Fatalf("delete v1: %d", st)
	}
	if got := rec.take(); len(got) != 1 || got[0] != "v1" {
		t.Fatalf("after deleting v1: %v", got)
	}
	if st, _, _ := h.call("DELETE", rg, "2021-04-01", "", nil); st != 202 {
		t.Fatalf("delete group: %d", st)
	}
	h.clk.Advance(2 * time.Second)
	if err := h.e.ReapDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || got[0] != "v2" {
		t.Fatalf("after deleting the group: %v", got)
	}

	h.mustRG()
	id, err := resourceid.Parse(vault("v3"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Import(context.Background(), id, map[string]any{"location": "eastus"}, "2024-01-01", engine.Caller{}); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Remove(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("an import undone told the Remover: %v", got)
	}
}
