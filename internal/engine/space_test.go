package engine_test

import (
	"context"
	"testing"

	"github.com/armlet/armlet/internal/kv"
)

// TestSpace: the engine hands a provider the view of its space, on the
// engine's store, and refuses its own tables and the spaces app hands.
func TestSpace(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, sp := range kv.Spaces() {
		t.Run(sp.String(), func(t *testing.T) {
			if !sp.ViaEngine() {
				if !panics(func() { h.e.Space(sp) }) {
					t.Errorf("Space(%v) handed out a space that is not a provider's (owner %s)", sp, sp.Owner())
				}
				return
			}
			v := h.e.Space(sp)
			if v.Space() != sp {
				t.Fatalf("Space(%v) is the view of %v", sp, v.Space())
			}
			if _, err := v.Txn(ctx, kv.Put([]byte("k"), []byte(sp.String()))); err != nil {
				t.Fatal(err)
			}
			if ent, err := h.st.Get(ctx, []byte(sp.Prefix()+"k")); err != nil || string(ent.Value) != sp.String() {
				t.Errorf("the view's write is not at %q of the engine's store: %+v, %v", sp.Prefix()+"k", ent, err)
			}
		})
	}
	if !panics(func() { h.e.Space(0) }) {
		t.Error("Space(0) handed out a view")
	}
}

// TestEngineKeepsToItsTables: resources, an asynchronous operation, a
// delete still due and a provider registration all land in the engine's
// own spaces.
func TestEngineKeepsToItsTables(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	for _, c := range []struct{ method, path, version, body string }{
		{"PUT", widget, "2024-01-01", `{"location":"eastus","properties":{"size":3}}`},
		{"PUT", widget + "/parts/p1", "2024-01-01", `{}`},
		{"POST", "/subscriptions/" + sub + "/providers/Test.Widgets/unregister", "2021-04-01", ""},
		{"DELETE", rg, "2021-04-01", ""},
	} {
		if st, _, b := h.call(c.method, c.path, c.version, c.body, nil); st >= 300 {
			t.Fatalf("%s %s = %d %v", c.method, c.path, st, b)
		}
	}
	ents, err := h.st.Scan(context.Background(), nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[kv.Space]bool{}
	for _, e := range ents {
		sp, ok := kv.Holding(e.Key)
		if !ok || sp.Owner() != kv.OwnerEngine {
			t.Errorf("the engine wrote %q, outside its tables", e.Key)
		}
		seen[sp] = true
	}
	for _, sp := range kv.Spaces() {
		// The writes marker is written on a shared store only.
		if sp.Owner() == kv.OwnerEngine && !seen[sp] && sp != kv.SpaceWrites {
			t.Errorf("nothing in %v (%q) after the workload", sp, sp.Prefix())
		}
	}
}

// panics reports whether f panics.
func panics(f func()) (did bool) {
	defer func() { did = recover() != nil }()
	f()
	return false
}
