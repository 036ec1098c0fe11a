package armhttp

import (
	"context"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// testEngine is an engine over memkv, on a clock at offset 0, with the
// subscription sub (tenant "t"); register adds resource types before the
// subscription is made, so it starts registered with their namespaces.
func testEngine(t *testing.T, sub string, register ...func(*engine.Engine)) (*engine.Engine, *clock.Offset) {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry()})
	for _, r := range register {
		r(e)
	}
	if err := e.EnsureSubscription(context.Background(), sub, "t", "test"); err != nil {
		t.Fatal(err)
	}
	return e, clk
}

func mustID(t *testing.T, s string) resourceid.ID {
	t.Helper()
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
