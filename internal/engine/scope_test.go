package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// notesStrategy is a type stored under management groups, whose only
// valid scope is the management group named "root".
type notesStrategy struct{}

func (notesStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (notesStrategy) CheckScope(_ context.Context, _ *engine.Request, scope resourceid.ID) error {
	if !strings.EqualFold(scope.Name(), "root") {
		return arm.NotFound("ManagementGroupNotFound", "Management group '%s' was not found.", scope.Name())
	}
	return nil
}

func (notesStrategy) Action(_ context.Context, _ *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	return engine.JSON(200, map[string]any{"action": name, "id": r.ID.String()}), nil
}

// TestScopeChecker drives a type at management group scope: the engine
// stores and lists it under the (unstored) management group, and asks the
// strategy about the scope on every verb.
func TestScopeChecker(t *testing.T) {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	reg.Register(&engine.Type{Name: "Test.Notes/notes", APIVersions: []string{"2024-01-01"},
		Put: engine.Sync, Delete: engine.Sync, Strategy: notesStrategy{}})
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: reg, OperationDuration: time.Second})
	h := &harness{t: t, e: e, clk: clk}

	const mg = "/providers/Microsoft.Management/managementGroups/"
	root, other := mg+"Root/providers/Test.Notes/notes", mg+"child/providers/Test.Notes/notes"

	if st, _, b := h.call("PUT", root+"/n1", "2024-01-01", `{"properties":{"x":1}}`, nil); st != 201 || b["id"] != root+"/n1" || b["type"] != "Test.Notes/notes" {
		t.Fatalf("PUT at root: %d %v", st, b)
	}
	if st, _, b := h.call("GET", strings.ToLower(root)+"/N1", "2024-01-01", "", nil); st != 200 || b["id"] != root+"/n1" {
		t.Fatalf("GET at root, other casing: %d %v", st, b)
	}
	if st, _, b := h.call("GET", root, "2024-01-01", "", nil); st != 200 || len(b["value"].([]any)) != 1 {
		t.Fatalf("list at root: %d %v", st, b)
	}
	if st, _, b := h.call("POST", root+"/n1/ping", "2024-01-01", "", nil); st != 200 || b["action"] != "ping" {
		t.Fatalf("action at root: %d %v", st, b)
	}
	for _, c := range []struct{ method, path string }{
		{"PUT", other + "/n1"}, {"GET", other + "/n1"}, {"HEAD", other + "/n1"}, {"PATCH", other + "/n1"},
		{"DELETE", other + "/n1"}, {"GET", other}, {"POST", other + "/n1/ping"},
	} {
		st, _, b := h.call(c.method, c.path, "2024-01-01", `{"properties":{}}`, nil)
		if st != 404 || errCode(b) != "ManagementGroupNotFound" {
			t.Errorf("%s %s: %d %v, want 404 ManagementGroupNotFound", c.method, c.path, st, b)
		}
	}
	if st, _, b := h.call("DELETE", root+"/n1", "2024-01-01", "", nil); st != 200 {
		t.Fatalf("DELETE at root: %d %v", st, b)
	}
	if st, _, b := h.call("GET", root, "2024-01-01", "", nil); st != 200 || len(b["value"].([]any)) != 0 {
		t.Fatalf("list after delete: %d %v", st, b)
	}
}
