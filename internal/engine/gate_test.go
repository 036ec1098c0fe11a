package engine_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// lockedStrategy is a parent type whose "locked" property gates its
// "secrets" children (not its "parts"), like a workspace in v1 legacy
// mode gates its v2 children.
type lockedStrategy struct{ widgetStrategy }

func (lockedStrategy) GateChild(_ context.Context, _ *engine.Request, r *engine.Resource, childType string) error {
	if locked, _ := r.Properties["locked"].(bool); locked && strings.HasSuffix(childType, "/secrets") {
		return arm.BadRequest("Locked", "The parent '%s' refuses '%s'.", r.ID.Name(), childType)
	}
	return nil
}

// colourStrategy lists only the children whose colour the query asks for.
type colourStrategy struct{ widgetStrategy }

func (colourStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	want := req.QueryValue("colour")
	if want == "" {
		return nil, nil
	}
	if want == "invalid" {
		return nil, arm.BadRequest("InvalidColour", "bad colour")
	}
	return func(r *engine.Resource) bool { return r.Properties["colour"] == want }, nil
}

func newGateHarness(t *testing.T) *harness {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	for _, typ := range []*engine.Type{
		{Name: "Test.Gates/vaults", Strategy: lockedStrategy{}},
		{Name: "Test.Gates/vaults/secrets", Strategy: colourStrategy{}},
		{Name: "Test.Gates/vaults/parts", Strategy: widgetStrategy{}},
		{Name: "Test.Gates/vaults/secrets/versions", Strategy: widgetStrategy{}},
	} {
		typ.APIVersions = []string{"2024-01-01"}
		reg.Register(typ)
	}
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: reg, OperationDuration: time.Second})
	if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, clk: clk}
	h.call(http.MethodPut, "/subscriptions/"+sub+"/resourceGroups/rg", "2021-04-01", `{"location":"eastus"}`, nil)
	return h
}

// TestChildGate: a gate refuses every verb on the gated children and their
// descendants, lists included, and nothing else; seed imports pass.
func TestChildGate(t *testing.T) {
	h := newGateHarness(t)
	const v = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Test.Gates/vaults/v1"
	const av = "2024-01-01"
	h.call(http.MethodPut, v, av, `{"properties":{"locked":false}}`, nil)
	for _, p := range []string{v + "/secrets/s1", v + "/parts/p1", v + "/secrets/s1/versions/1"} {
		if st, _, body := h.call(http.MethodPut, p, av, `{"properties":{}}`, nil); st != http.StatusCreated {
			t.Fatalf("PUT %s while unlocked: %d %v", p, st, body)
		}
	}
	h.call(http.MethodPut, v, av, `{"properties":{"locked":true}}`, nil)

	cases := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, v + "/secrets/s1", http.StatusBadRequest},
		{http.MethodPut, v + "/secrets/s2", http.StatusBadRequest},
		{http.MethodPatch, v + "/secrets/s1", http.StatusBadRequest},
		{http.MethodDelete, v + "/secrets/s1", http.StatusBadRequest},
		{http.MethodPost, v + "/secrets/s1/reveal", http.StatusBadRequest},
		{http.MethodGet, v + "/secrets", http.StatusBadRequest},
		{http.MethodGet, v + "/secrets/s1/versions", http.StatusBadRequest},
		{http.MethodGet, v + "/secrets/s1/versions/1", http.StatusBadRequest},
		{http.MethodGet, v + "/parts/p1", http.StatusOK},
		{http.MethodGet, v + "/parts", http.StatusOK},
		{http.MethodGet, v, http.StatusOK},
	}
	for _, c := range cases {
		st, _, body := h.call(c.method, c.path, av, `{"properties":{}}`, nil)
		if st != c.want {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, st, body, c.want)
		}
		if c.want == http.StatusBadRequest {
			if code := body["error"].(map[string]any)["code"]; code != "Locked" {
				t.Errorf("%s %s: code %v, want Locked", c.method, c.path, code)
			}
		}
	}

	id, err := resourceid.Parse(v + "/secrets/seeded")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.e.Import(context.Background(), id, map[string]any{"properties": map[string]any{}}, av, engine.Caller{}); err != nil || !ok {
		t.Errorf("import under a locked parent: %v %v", ok, err)
	}
}

// TestListFilter: a type's ListFilter narrows its collection GETs and its
// errors reach the client.
func TestListFilter(t *testing.T) {
	h := newGateHarness(t)
	const v = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Test.Gates/vaults/v1"
	const av = "2024-01-01"
	h.call(http.MethodPut, v, av, `{"properties":{}}`, nil)
	for name, colour := range map[string]string{"a": "red", "b": "blue", "c": "red"} {
		h.call(http.MethodPut, v+"/secrets/"+name, av, `{"properties":{"colour":"`+colour+`"}}`, nil)
	}
	for query, want := range map[string]string{"": "a,b,c", "&colour=red": "a,c", "&colour=blue": "b", "&colour=green": ""} {
		st, _, body := h.call(http.MethodGet, v+"/secrets?api-version="+av+query, "", "", nil)
		if st != http.StatusOK {
			t.Fatalf("list %q: %d %v", query, st, body)
		}
		var names []string
		for _, it := range body["value"].([]any) {
			names = append(names, it.(map[string]any)["name"].(string))
		}
		if got := strings.Join(names, ","); got != want {
			t.Errorf("list %q = %q, want %q", query, got, want)
		}
	}
	if st, _, _ := h.call(http.MethodGet, v+"/secrets?api-version="+av+"&colour=invalid", "", "", nil); st != http.StatusBadRequest {
		t.Errorf("invalid filter: %d, want 400", st)
	}
}
