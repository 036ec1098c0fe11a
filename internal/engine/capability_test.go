package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// linkStrategy is a private link target with one group.
type linkStrategy struct {
	widgetStrategy
	group string
}

func (s linkStrategy) PrivateLinkGroups() []string { return []string{s.group} }

func (s linkStrategy) PrivateLinkFQDNs(r *engine.Resource, _ string) []engine.PrivateLinkFQDN {
	return []engine.PrivateLinkFQDN{{FQDN: r.ID.Name() + ".example", Member: s.group}}
}

// TestCapability: a capability is found by type name, ignoring case,
// only on a registered type whose strategy implements it.
func TestCapability(t *testing.T) {
	reg := engine.NewRegistry()
	reg.Register(&engine.Type{Name: "Test.B/links", APIVersions: []string{"2024-01-01"}, Strategy: linkStrategy{group: "b"}})
	reg.Register(&engine.Type{Name: "Test.A/links", APIVersions: []string{"2024-01-01"}, Strategy: linkStrategy{group: "a"}})
	reg.Register(&engine.Type{Name: "Test.A/plain", APIVersions: []string{"2024-01-01"}, Strategy: widgetStrategy{}})

	tests := []struct {
		typ   string
		want  bool
		group string
	}{
		{"Test.A/links", true, "a"},
		{"test.b/LINKS", true, "b"},
		{"Test.A/plain", false, ""},
		{"Test.A/missing", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			c, ok := engine.Capability[engine.PrivateLinkTarget](reg, tt.typ)
			if ok != tt.want {
				t.Fatalf("Capability(%s) ok = %v, want %v", tt.typ, ok, tt.want)
			}
			if ok && !slices.Equal(c.PrivateLinkGroups(), []string{tt.group}) {
				t.Errorf("groups = %v, want [%s]", c.PrivateLinkGroups(), tt.group)
			}
			if _, rec := engine.Capability[engine.PrivateLinkRecorder](reg, tt.typ); rec {
				t.Errorf("Capability(%s) found a PrivateLinkRecorder the strategy does not implement", tt.typ)
			}
		})
	}

	var names []string
	for _, typ := range engine.Implementing[engine.PrivateLinkTarget](reg) {
		names = append(names, typ.Name)
	}
	if want := []string{"Test.A/links", "Test.B/links"}; !slices.Equal(names, want) {
		t.Errorf("Implementing = %v, want %v", names, want)
	}
}

// argStrategy records the ImportArg its Import sees.
type argStrategy struct {
	widgetStrategy
	seen *[]any
}

func (s argStrategy) Import(_ context.Context, req *engine.Request, _ *engine.Resource) error {
	*s.seen = append(*s.seen, req.ImportArg)
	return nil
}

// TestImportWith: ImportWith's argument reaches the Importer as
// Request.ImportArg; Import (a seed) passes none.
func TestImportWith(t *testing.T) {
	h := newHarness(t)
	var seen []any
	h.e.Registry().Register(&engine.Type{Name: "Test.Args/things", APIVersions: []string{"2024-01-01"}, Tracked: true,
		Strategy: argStrategy{seen: &seen}})
	if st, _, body := h.call(http.MethodPut, rg, "2021-04-01", `{"location":"eastus"}`, nil); st != http.StatusCreated {
		t.Fatalf("PUT %s: %d %v", rg, st, body)
	}
	type arg struct{ owner string }
	imports := []struct {
		name string
		arg  any
	}{{"seed", nil}, {"run time", arg{"zone group"}}}
	for i, im := range imports {
		id, err := resourceid.Parse(fmt.Sprintf("%s/providers/Test.Args/things/t%d", rg, i))
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"location": "eastus"}
		var ok bool
		if im.arg == nil {
			ok, err = h.e.Import(context.Background(), id, body, "2024-01-01", engine.Caller{})
		} else {
			ok, err = h.e.ImportWith(context.Background(), id, body, "2024-01-01", engine.Caller{}, im.arg)
		}
		if err != nil || !ok {
			t.Fatalf("%s import: imported %v, err %v", im.name, ok, err)
		}
	}
	if want := []any{nil, arg{"zone group"}}; !slices.Equal(seen, want) {
		t.Errorf("Import saw %v, want %v", seen, want)
	}
}
