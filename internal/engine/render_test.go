package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// gaugeStrategy renders the request context's value of gaugeKey into the
// body, and fails to render a gauge whose color is "unreadable".
type gaugeStrategy struct{ widgetStrategy }

type gaugeKey struct{}

func (gaugeStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	if r.Properties["color"] == "unreadable" {
		return arm.Conflict("GaugeUnreadable", "The gauge '%s' cannot be read now.", r.ID.Name())
	}
	body["properties"].(map[string]any)["seenBy"], _ = ctx.Value(gaugeKey{}).(string)
	return nil
}

// TestRenderErrorFailsTheRequest: a Renderer gets the request's context,
// and its error fails a GET, a list as a whole and a PUT's answer (the
// write itself is stored: rendering comes after the commit) instead of
// being logged and dropped.
func TestRenderErrorFailsTheRequest(t *testing.T) {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	reg.Register(&engine.Type{Name: "Test.Widgets/gauges", APIVersions: []string{"2024-01-01"}, Put: engine.Sync, Delete: engine.Sync, Strategy: gaugeStrategy{}})
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: reg})
	if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, clk: clk}
	h.mustRG()
	gauges := rg + "/providers/Test.Widgets/gauges"
	if st, _, b := h.call("PUT", gauges+"/g1", "2024-01-01", `{"properties":{"color":"red"}}`, nil); st != 201 {
		t.Fatalf("PUT g1: %d %v", st, b)
	}
	if st, _, b := h.call("PUT", gauges+"/g2", "2024-01-01", `{"properties":{"color":"unreadable"}}`, nil); st != 409 || errCode(b) != "GaugeUnreadable" {
		t.Errorf("PUT g2 answers %d %v, want the render error", st, b)
	}
	if st, _, b := h.call("GET", gauges+"/g2", "2024-01-01", "", nil); st != 409 || errCode(b) != "GaugeUnreadable" {
		t.Errorf("GET g2: %d %v", st, b)
	}
	if st, _, b := h.call("GET", gauges, "2024-01-01", "", nil); st != 409 || errCode(b) != "GaugeUnreadable" {
		t.Errorf("list: %d %v", st, b)
	}
	// The context is the request's.
	ctx := context.WithValue(context.Background(), gaugeKey{}, "request-1")
	id, err := resourceid.Parse(gauges + "/g1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	body, err := e.Render(ctx, &engine.Request{APIVersion: "2024-01-01", Now: clk.Now()}, r)
	if err != nil || body["properties"].(map[string]any)["seenBy"] != "request-1" {
		t.Errorf("Render = %v, %v", body, err)
	}
}
