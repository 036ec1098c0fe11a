package engine_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// watching makes a store look shared (written by other processes).
type watching struct{ kv.Store }

func (watching) Watch(ctx context.Context, _ []byte, _ func(kv.Entry)) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestMemo: a kept value is served until the next write through the
// engine; on a shared store not before the replica has heard of the
// writes made before the call (nothing here runs FollowWrites, so never).
func TestMemo(t *testing.T) {
	for _, tc := range []struct {
		name   string
		store  kv.Store
		shared bool
	}{{"own store", memkv.New(), false}, {"shared store", watching{memkv.New()}, true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.New(engine.Options{Store: tc.store, Registry: engine.NewRegistry(), Clock: newHarness(t).clk})
			if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
				t.Fatal(err)
			}
			computed := 0
			m := engine.NewMemo[int](e)
			get := func() int {
				v, err := m.Get(context.Background(), "k", func() (int, error) { computed++; return computed, nil })
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			first, second := get(), get()
			if kept := first == second; kept == tc.shared {
				t.Fatalf("second Get = %d after %d: kept %v, want %v", second, first, kept, !tc.shared)
			}
			before := get()
			h := &harness{t: t, e: e, clk: newHarness(t).clk}
			h.call(http.MethodPut, "/subscriptions/"+sub+"/resourceGroups/memo", "2021-04-01", `{"location":"eastus"}`, nil)
			if after := get(); after == before {
				t.Error("a value was kept across a write")
			}
		})
	}
}
