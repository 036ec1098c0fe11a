package engine_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

func TestAdmission(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	var observed []string
	h.e.AddAdmitter(func(_ context.Context, req *engine.Request, desired, old *engine.Resource) error {
		if desired.Tags["forbidden"] != "" {
			return arm.Errorf(http.StatusForbidden, "Refused", "refused %s", desired.ID.Name())
		}
		if desired.Properties == nil {
			desired.Properties = map[string]any{}
		}
		desired.Properties["admitted"] = old == nil // changes are stored
		return nil
	})
	h.e.OnWrite(func(_ context.Context, _ *engine.Request, r *engine.Resource) {
		observed = append(observed, r.ID.Name())
	})
	base := rg + "/providers/Test.Widgets/widgets/"
	if st, _, b := h.call("PUT", base+"bad", "2024-01-01", `{"location":"eastus","tags":{"forbidden":"x"}}`, nil); st != 403 || errCode(b) != "Refused" {
		t.Fatalf("refusal: %d %v", st, b)
	}
	if st, _, _ := h.call("GET", base+"bad", "2024-01-01", "", nil); st != 404 {
		t.Fatalf("refused resource stored: %d", st)
	}
	if st, _, b := h.call("PUT", base+"good", "2024-01-01", `{"location":"eastus"}`, nil); st != 201 || b["properties"].(map[string]any)["admitted"] != true {
		t.Fatalf("admitted: %d %v", st, b)
	}
	if st, _, b := h.call("PATCH", base+"good", "2024-01-01", `{"tags":{"forbidden":"y"}}`, nil); st != 403 {
		t.Fatalf("patch refusal: %d %v", st, b)
	}
	if st, _, b := h.call("PATCH", base+"good", "2024-01-01", `{"tags":{"a":"b"}}`, nil); st != 200 || b["properties"].(map[string]any)["admitted"] != false {
		t.Fatalf("patch admitted: %d %v", st, b)
	}
	if len(observed) != 2 || observed[0] != "good" {
		t.Fatalf("observed writes %v", observed)
	}
}
