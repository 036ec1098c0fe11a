package engine_test

import (
	"context"
	"errors"
	"net/http"
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

// TestErrNotFound: every "does not exist" the engine answers, for the
// resource or any ancestor, is ErrNotFound to callers, while the client
// still sees ARM's own 404 codes; other errors are not.
func TestErrNotFound(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	ctx := context.Background()
	for _, tc := range []struct {
		id, code string
	}{
		{widget, arm.CodeResourceNotFound},
		{widget + "/parts/p1", arm.CodeResourceNotFound},
		{"/subscriptions/" + sub + "/resourceGroups/nope/providers/Test.Widgets/widgets/w1", arm.CodeResourceNotFound},
		{"/subscriptions/" + sub + "/resourceGroups/nope", arm.CodeResourceGroupNotFound},
	} {
		id, err := resourceid.Parse(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.e.Get(ctx, id)
		ae, ok := arm.AsError(err)
		if !errors.Is(err, engine.ErrNotFound) || !ok || ae.Code != tc.code {
			t.Errorf("Get(%s) = %v, want %s wrapping ErrNotFound", tc.id, err, tc.code)
		}
		if _, err := h.e.Update(ctx, id, func(*engine.Resource) error { return nil }); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("Update(%s) = %v, want ErrNotFound", tc.id, err)
		}
	}
	// A request below a missing ancestor: the ancestor's 404, ErrNotFound.
	for path, code := range map[string]string{
		widget + "/parts/p1": arm.CodeParentResourceNotFound,
		"/subscriptions/" + sub + "/resourceGroups/nope/providers/Test.Widgets/widgets/w1":                         arm.CodeResourceGroupNotFound,
		"/subscriptions/00000000-0000-0000-0000-00000000ffff/resourceGroups/rg1/providers/Test.Widgets/widgets/w1": arm.CodeSubscriptionNotFound,
	} {
		_, err := h.e.Serve(ctx, &engine.Request{Method: "PUT", Path: path, APIVersion: "2024-01-01", Body: []byte(`{"location":"East US"}`),
			Header: http.Header{}, Now: h.clk.Now(), Caller: engine.Caller{ObjectID: "oid"}})
		if ae, ok := arm.AsError(err); !errors.Is(err, engine.ErrNotFound) || !ok || ae.Code != code {
			t.Errorf("PUT %s = %v, want %s wrapping ErrNotFound", path, err, code)
		}
	}
	if st, _, b := h.call("PUT", widget, "2024-01-01", `{"location":"East US","properties":{}}`, nil); st/100 != 2 {
		t.Fatalf("PUT widget: %d %v", st, b)
	}
	id, _ := resourceid.Parse(widget)
	if _, err := h.e.Get(ctx, id); err != nil {
		t.Fatalf("Get of a live widget: %v", err)
	}
}
