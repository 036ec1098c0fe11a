package engine_test

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// slotStrategy is a virtual type: a box's slots live in the box's
// properties.slots map. PUT is a Location operation, DELETE synchronous.
type slotStrategy struct{ e *engine.Engine }

func (slotStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (s slotStrategy) ServeVirtual(ctx context.Context, req *engine.Request, box *engine.Resource, name string) (*engine.Response, error) {
	slots, _ := box.Properties["slots"].(map[string]any)
	item := func(n string) map[string]any {
		return map[string]any{"id": box.ID.String() + "/slots/" + n, "name": n, "properties": slots[n]}
	}
	switch {
	case name == "":
		names := make([]string, 0, len(slots))
		for n := range slots {
			names = append(names, n)
		}
		sort.Strings(names)
		out := []any{}
		for _, n := range names {
			out = append(out, item(n))
		}
		return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
	case req.Method == http.MethodGet:
		if _, ok := slots[name]; !ok {
			return nil, arm.NotFound(arm.CodeResourceNotFound, "no slot %s", name)
		}
		return engine.JSON(http.StatusOK, item(name)), nil
	case req.Method == http.MethodPut:
		if slots == nil {
			slots = map[string]any{}
			if box.Properties == nil {
				box.Properties = map[string]any{}
			}
			box.Properties["slots"] = slots
		}
		slots[name] = map[string]any{"body": string(req.Body)}
		if err := s.e.Save(ctx, box); err != nil {
			return nil, err
		}
		r := &engine.Resource{ID: box.ID.Child("slots", name), Type: "Test.Boxes/boxes/slots"}
		return s.e.NewResourceOperation(ctx, req, r, false, req.Now.Add(s.e.OperationDuration()))
	case req.Method == http.MethodDelete:
		delete(slots, name)
		return &engine.Response{Status: http.StatusOK}, s.e.Save(ctx, box)
	}
	return nil, arm.BadRequest("MethodNotAllowed", "no")
}

// VirtualAction answers POST {slot}/peek with the slot's body: 404 for a
// slot that does not exist, UnknownAction for another action.
func (s slotStrategy) VirtualAction(_ context.Context, _ *engine.Request, box *engine.Resource, name, action string) (*engine.Response, error) {
	if action != "peek" {
		return nil, engine.UnknownAction("Test.Boxes/boxes/slots", action)
	}
	slots, _ := box.Properties["slots"].(map[string]any)
	if _, ok := slots[name]; !ok {
		return nil, arm.NotFound(arm.CodeResourceNotFound, "no slot %s", name)
	}
	return engine.JSON(http.StatusOK, map[string]any{"slot": slots[name]}), nil
}

// boxGate refuses slots of a box tagged "locked".
type boxStrategy struct{}

func (boxStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (boxStrategy) GateChild(_ context.Context, _ *engine.Request, r *engine.Resource, _ string) error {
	if r.Tags["locked"] != "" {
		return arm.BadRequest("Locked", "locked")
	}
	return nil
}

func newVirtualHarness(t *testing.T) *harness {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	reg.Register(&engine.Type{Name: "Test.Boxes/boxes", APIVersions: []string{"2024-01-01"}, Tracked: true,
		Put: engine.Sync, Delete: engine.Sync, Strategy: boxStrategy{}})
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: reg, OperationDuration: time.Second})
	reg.Register(&engine.Type{Name: "Test.Boxes/boxes/slots", APIVersions: []string{"2024-01-01"},
		NamePattern: regexpSlot, NameRule: "three letters", Strategy: slotStrategy{e: e}})
	if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, clk: clk}
	h.mustRG()
	return h
}

func TestVirtualChildren(t *testing.T) {
	h := newVirtualHarness(t)
	box := rg + "/providers/Test.Boxes/boxes/b1"
	const v = "2024-01-01"

	// Before the parent exists: the 404s a stored child would get.
	if st, _, b := h.call("GET", box+"/slots/abc", v, "", nil); st != 404 || errCode(b) != "ParentResourceNotFound" {
		t.Fatalf("slot of missing box: %d %v", st, b)
	}
	if st, _, b := h.call("GET", box+"/slots", v, "", nil); st != 404 || errCode(b) != "ResourceNotFound" {
		t.Fatalf("slots of missing box: %d %v", st, b)
	}
	if st, _, b := h.call("PUT", box, v, `{"location":"East US"}`, nil); st != 201 {
		t.Fatalf("create box: %d %v", st, b)
	}
	if st, _, b := h.call("PUT", box+"/slots/abc", "2020-01-01", `{}`, nil); st != 400 || errCode(b) != "NoRegisteredProviderFound" {
		t.Fatalf("bad api-version: %d %v", st, b)
	}
	if st, _, b := h.call("PUT", box+"/slots/toolong", v, `{}`, nil); st != 400 || errCode(b) != "InvalidResourceName" {
		t.Fatalf("bad name: %d %v", st, b)
	}

	// PUT: 202 + Location; 202 until the operation ends, then an empty
	// 200 (a slot's body shows no terminal state a poller could read), and
	// a GET gives the slot.
	st, hdr, _ := h.call("PUT", box+"/slots/abc", v, `{"x":1}`, nil)
	loc := hdr.Get("Location")
	if st != 202 || loc == "" {
		t.Fatalf("put slot: %d %v", st, hdr)
	}
	path := strings.TrimPrefix(loc, "https://armlet.test")
	if st, _, _ := h.call("GET", path, "", "", nil); st != 202 {
		t.Fatalf("poll while running: %d", st)
	}
	h.clk.Advance(2 * time.Second)
	st, _, b := h.call("GET", path, "", "", nil)
	if st != 200 || len(b) != 0 {
		t.Fatalf("poll after end: %d %v, want an empty 200", st, b)
	}
	if st, _, b := h.call("GET", box+"/slots/abc", v, "", nil); st != 200 || b["name"] != "abc" {
		t.Fatalf("slot after its PUT: %d %v", st, b)
	}
	if st, _, b := h.call("GET", box, v, "", nil); st != 200 || b["properties"].(map[string]any)["slots"] == nil {
		t.Fatalf("box shows its slot: %d %v", st, b)
	}
	if st, _, b := h.call("GET", box+"/slots", v, "", nil); st != 200 || len(b["value"].([]any)) != 1 {
		t.Fatalf("list: %d %v", st, b)
	}
	// A POST action on an item: the engine's checks, then the strategy.
	if st, _, b := h.call("POST", box+"/slots/abc/peek", v, "", nil); st != 200 || b["slot"] == nil {
		t.Fatalf("action: %d %v", st, b)
	}
	if st, _, b := h.call("POST", box+"/slots/abc/peek", "2020-01-01", "", nil); st != 400 || errCode(b) != "NoRegisteredProviderFound" {
		t.Fatalf("action, bad api-version: %d %v", st, b)
	}
	if st, _, b := h.call("POST", box+"/slots/xyz/peek", v, "", nil); st != 404 || errCode(b) != "ResourceNotFound" {
		t.Fatalf("action on a missing slot: %d %v", st, b)
	}
	if st, _, b := h.call("POST", box+"/slots/abc/poke", v, "", nil); st != 400 || errCode(b) != "InvalidResourceType" {
		t.Fatalf("unknown action: %d %v", st, b)
	}
	if st, _, b := h.call("POST", rg+"/providers/Test.Boxes/boxes/b2/slots/abc/peek", v, "", nil); st != 404 || errCode(b) != "ParentResourceNotFound" {
		t.Fatalf("action under a missing box: %d %v", st, b)
	}
	if st, _, _ := h.call("HEAD", box+"/slots/abc", v, "", nil); st != 204 {
		t.Fatalf("head: %d", st)
	}
	if st, _, _ := h.call("DELETE", box+"/slots/abc", v, "", nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st, _, _ := h.call("GET", box+"/slots/abc", v, "", nil); st != 404 {
		t.Fatalf("get after delete: %d", st)
	}

	// The parent's gate applies to items and collections.
	if st, _, b := h.call("PATCH", box, v, `{"tags":{"locked":"yes"}}`, nil); st != 200 {
		t.Fatalf("lock: %d %v", st, b)
	}
	for _, p := range []string{box + "/slots", box + "/slots/abc"} {
		if st, _, b := h.call("GET", p, v, "", nil); st != 400 || errCode(b) != "Locked" {
			t.Fatalf("gated %s: %d %v", p, st, b)
		}
	}
	if st, _, b := h.call("POST", box+"/slots/abc/peek", v, "", nil); st != 400 || errCode(b) != "Locked" {
		t.Fatalf("gated action: %d %v", st, b)
	}
}

var regexpSlot = regexp.MustCompile(`^[a-z]{3}$`)
