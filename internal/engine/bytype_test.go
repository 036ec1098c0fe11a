package engine_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
)

func TestListByType(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const sub2 = "00000000-0000-0000-0000-00000000bbbb"
	// Upper case: the list finds it under its lower-cased record key.
	const sub3 = "00000000-0000-0000-0000-00000000CCCC"
	for _, s := range []string{sub2, sub3} {
		if err := h.e.EnsureSubscription(ctx, s, "tenant", "other"); err != nil {
			t.Fatal(err)
		}
	}
	put := func(path string, want int) {
		t.Helper()
		if st, _, body := h.call(http.MethodPut, path, "", `{"location":"eastus"}`, nil); st != want {
			t.Fatalf("PUT %s: %d %v", path, st, body)
		}
	}
	for _, s := range []string{sub, sub2, sub3} {
		for _, g := range []string{"rg1", "rg2"} {
			put("/subscriptions/"+s+"/resourceGroups/"+g+"?api-version=2021-04-01", http.StatusCreated)
		}
	}
	put(rg+"/providers/Test.Widgets/widgets/w1?api-version=2024-01-01", http.StatusCreated)
	put("/subscriptions/"+sub+"/resourceGroups/rg2/providers/Test.Widgets/widgets/w2?api-version=2024-01-01", http.StatusCreated)
	put("/subscriptions/"+sub2+"/resourceGroups/rg1/providers/Test.Widgets/widgets/w3?api-version=2024-01-01", http.StatusCreated)
	put(rg+"/providers/Test.Widgets/widgets/w1/parts/p1?api-version=2024-01-01", http.StatusCreated)
	put("/subscriptions/"+sub3+"/resourceGroups/rg1/providers/Test.Widgets/widgets/w4?api-version=2024-01-01", http.StatusCreated)

	names := func() []string {
		t.Helper()
		rs, err := h.e.ListByType(ctx, "test.widgets/WIDGETS")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID.Name())
		}
		slices.Sort(out)
		return out
	}
	if got := names(); !slices.Equal(got, []string{"w1", "w2", "w3", "w4"}) {
		t.Fatalf("ListByType = %v, want [w1 w2 w3 w4]", got)
	}
	// A resource group whose delete has completed takes its resources out
	// of the list, before the background loop removes them.
	if st, _, body := h.call(http.MethodDelete, "/subscriptions/"+sub+"/resourceGroups/rg2", "2021-04-01", "", nil); st != http.StatusAccepted {
		t.Fatalf("DELETE rg2: %d %v", st, body)
	}
	h.clk.Advance(h.e.OperationDuration())
	if got := names(); !slices.Equal(got, []string{"w1", "w3", "w4"}) {
		t.Fatalf("after deleting rg2: ListByType = %v, want [w1 w3 w4]", got)
	}
}
