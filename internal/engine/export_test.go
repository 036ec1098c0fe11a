package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
)

// TestExportRestoreReset: Export lists the live resources parents first,
// without the one being deleted and its children; Reset deletes them all,
// with their operations, and runs the delete hooks for each; Restore
// gives them back with their systemData and internal state.
func TestExportRestoreReset(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.mustRG()
	var hooked []string
	h.e.OnDelete(func(_ context.Context, r *engine.Resource) { hooked = append(hooked, r.ID.Name()) })
	h.call("PUT", widget, "2024-01-01", `{"location":"eastus","properties":{"size":3}}`, nil)
	h.call("PUT", widget+"/parts/p1", "2024-01-01", `{"properties":{"size":1}}`, nil)
	gone := rg + "/providers/Test.Widgets/widgets/w2"
	h.call("PUT", gone, "2024-01-01", `{"location":"eastus"}`, nil)
	h.call("PUT", gone+"/parts/p2", "2024-01-01", `{}`, nil)
	h.clk.Forward(time.Minute)
	if st, _, b := h.call("DELETE", gone, "2024-01-01", "", nil); st != 202 {
		t.Fatalf("delete: %d %v", st, b)
	}
	if _, err := h.e.Update(ctx, enginetest.MustID(t, widget), func(r *engine.Resource) error {
		r.SetData("serial", "w1-serial")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, _, before := h.call("GET", widget, "2024-01-01", "", nil)

	all, err := h.e.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range all {
		ids = append(ids, x.ID.String())
	}
	if want := []string{"/subscriptions/" + sub, rg, widget, widget + "/parts/p1"}; !slices.Equal(ids, want) {
		t.Fatalf("exported %v, want %v", ids, want)
	}
	w := all[2]
	if w.APIVersion != "2024-01-01" || w.Body["etag"] != nil || string(w.State.Data["serial"]) != `"w1-serial"` || w.State.CreatedAPIVersion != "2024-01-01" {
		t.Fatalf("exported widget: %+v", w)
	}

	deleted, err := h.e.Reset(ctx)
	if err != nil || len(deleted) != 6 {
		t.Fatalf("reset: %d deleted, %v", len(deleted), err)
	}
	slices.Sort(hooked)
	if want := []string{sub, "p1", "p2", "rg1", "w1", "w2"}; !slices.Equal(hooked, want) {
		t.Errorf("delete hooks ran for %v, want %v", hooked, want)
	}
	if left, err := h.e.Export(ctx); err != nil || len(left) != 0 {
		t.Fatalf("after reset: %d left, %v", len(left), err)
	}
	if st, _, _ := h.call("GET", "/subscriptions/"+sub, "2022-12-01", "", nil); st != 404 {
		t.Fatalf("subscription after reset: %d", st)
	}

	if err := h.e.EnsureSubscription(ctx, sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	for _, x := range all[1:] {
		st := x.State
		created, err := h.e.Restore(ctx, x.ID, x.Body, x.APIVersion, engine.Caller{AppID: "importer"}, engine.RestoreOptions{State: &st})
		if err != nil || !created {
			t.Fatalf("restore %s: %v %v", x.ID, created, err)
		}
	}
	_, _, after := h.call("GET", widget, "2024-01-01", "", nil)
	delete(before, "etag")
	delete(after, "etag")
	if b, a := mustMarshal(before), mustMarshal(after); b != a {
		t.Errorf("widget after restore:\n got %s\nwant %s", a, b)
	}
	r, err := h.e.Get(ctx, enginetest.MustID(t, widget))
	if err != nil || string(r.Internal.Data["serial"]) != `"w1-serial"` {
		t.Fatalf("restored state: %v %v", err, r)
	}
	// Restoring again leaves what exists alone.
	if created, err := h.e.Restore(ctx, w.ID, w.Body, w.APIVersion, engine.Caller{}, engine.RestoreOptions{}); err != nil || created {
		t.Fatalf("restore over an existing widget: %v %v", created, err)
	}
}

func mustMarshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
