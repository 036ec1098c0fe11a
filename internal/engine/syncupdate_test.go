package engine_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// TestSyncUpdate: a type whose create is long-running (202 and Location)
// but whose update is not answers a PUT of an existing resource with 200
// and the resource, as Azure Storage does for an account.
func TestSyncUpdate(t *testing.T) {
	h := newHarness(t)
	h.e.Registry().Register(&engine.Type{Name: "Test.Widgets/gadgets", APIVersions: []string{"2024-01-01"}, Tracked: true,
		Put: engine.Location, SyncUpdate: true, Strategy: widgetStrategy{}})
	h.mustRG()
	gadget := rg + "/providers/Test.Widgets/gadgets/g1"
	st, hdr, body := h.call("PUT", gadget, "2024-01-01", `{"location":"eastus"}`, nil)
	if st != 202 || hdr.Get("Location") == "" || body != nil {
		t.Fatalf("create = %d %v %v, want 202 with Location and no body", st, hdr, body)
	}
	loc, _ := url.Parse(hdr.Get("Location"))
	if st, _, _ := h.call("GET", loc.Path, "2024-01-01", "", nil); st != 202 {
		t.Fatalf("Location while creating = %d, want 202", st)
	}
	h.clk.Advance(2 * time.Second)
	if st, _, body := h.call("GET", loc.Path, "2024-01-01", "", nil); st != 200 || body["name"] != "g1" {
		t.Fatalf("Location once created = %d %v, want 200 with the resource", st, body)
	}
	st, hdr, body = h.call("PUT", gadget, "2024-01-01", `{"location":"eastus","properties":{"size":2}}`, nil)
	if st != 200 || hdr.Get("Location") != "" || body["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Fatalf("update = %d %v %v, want 200 with the resource, Succeeded", st, hdr, body)
	}
}

// TestCheckAPIVersion: a route checks api-versions against a registered
// type as a request to the type would be checked.
func TestCheckAPIVersion(t *testing.T) {
	reg := engine.NewRegistry()
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets", APIVersions: []string{"2024-01-01"}, Tracked: true, Strategy: widgetStrategy{}})
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clock.NewOffset(0), Registry: reg})
	cases := []struct {
		version, typ, code string
	}{
		{"2024-01-01", "Test.Widgets/widgets", ""},
		{"", "Test.Widgets/widgets", arm.CodeMissingAPIVersion},
		{"2023-01-01", "Test.Widgets/widgets", arm.CodeNoRegisteredProvider},
		{"nonsense", "Test.Widgets/widgets", arm.CodeInvalidAPIVersion},
		{"2021-04-01", "Test.Widgets/nothing", ""}, // the ARM core's versions
	}
	for _, c := range cases {
		err := e.CheckAPIVersion(c.version, c.typ)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s %s: %v", c.typ, c.version, err)
			}
			continue
		}
		if ae, ok := arm.AsError(err); !ok || ae.Code != c.code {
			t.Errorf("%s %s: %v, want %s", c.typ, c.version, err, c.code)
		}
	}
}
