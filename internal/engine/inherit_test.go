package engine_test

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// ruleStrategy is an extension type whose lists at any scope other than
// the root also list the rules stored at the root first, as Azure Policy
// lists built-in definitions with a subscription's own.
type ruleStrategy struct{}

func (ruleStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (ruleStrategy) InheritedScopes(_ *engine.Request, scope resourceid.ID) []resourceid.ID {
	if scope.IsRoot() {
		return nil
	}
	return []resourceid.ID{resourceid.New()}
}

// TestListInheritor lists an inheriting type at the root, a subscription
// (the type index) and a resource group (the records), whole and page by
// page with every $top, and checks that every page's nextLink continues
// where the last one stopped, across the inherited and the own ranges.
func TestListInheritor(t *testing.T) {
	h := newHarness(t)
	h.e.Registry().Register(&engine.Type{Name: "Test.Ext/rules", APIVersions: []string{"2022-04-01"},
		Put: engine.Sync, Delete: engine.Sync, Strategy: ruleStrategy{}})
	h.mustRG()
	const ext = "/providers/Test.Ext/rules"
	subScope := "/subscriptions/" + sub
	put := func(scope string, names ...string) []string {
		var ids []string
		for _, n := range names {
			id := scope + ext + "/" + n
			if st, _, b := h.call("PUT", id, "2022-04-01", `{"properties":{}}`, nil); st != 201 {
				t.Fatalf("PUT %s: %d %v", id, st, b)
			}
			ids = append(ids, id)
		}
		return ids
	}
	root := put("", "r1", "r2", "r3")
	atSub := put(subScope, "s1", "s2")
	atRG := put(rg, "g1")

	tests := []struct {
		name, coll string
		want       []string
	}{
		{"root lists its own", ext, root},
		{"subscription lists the root's, then its own, then its groups'", subScope + ext, slices.Concat(root, atSub, atRG)},
		{"resource group lists the root's, then its own", rg + ext, append(slices.Clone(root), atRG...)},
	}
	for _, tt := range tests {
		for top := 1; top <= len(tt.want)+1; top++ {
			var got []string
			next := tt.coll + "?$top=" + strconv.Itoa(top)
			for pages := 0; next != ""; pages++ {
				if pages > len(tt.want)+1 {
					t.Fatalf("%s, $top=%d: nextLinks do not end", tt.name, top)
				}
				st, _, b := h.call("GET", next, "2022-04-01", "", nil)
				if st != 200 {
					t.Fatalf("%s: GET %s: %d %v", tt.name, next, st, b)
				}
				for _, v := range b["value"].([]any) {
					got = append(got, v.(map[string]any)["id"].(string))
				}
				next = ""
				if link, _ := b["nextLink"].(string); link != "" {
					u, err := url.Parse(link)
					if err != nil {
						t.Fatal(err)
					}
					next = u.Path + "?" + u.RawQuery
				}
			}
			if !slices.EqualFunc(got, tt.want, strings.EqualFold) {
				t.Errorf("%s, $top=%d: %v, want %v", tt.name, top, got, tt.want)
			}
		}
	}

	// A skip token into one scope's own range does not continue another
	// scope's list.
	st, _, b := h.call("GET", subScope+ext+"?$top=4", "2022-04-01", "", nil)
	link, _ := b["nextLink"].(string)
	if st != 200 || link == "" {
		t.Fatalf("subscription list, $top=4: %d %v", st, b)
	}
	u, _ := url.Parse(link)
	if st, _, b := h.call("GET", rg+ext+"?"+u.RawQuery, "2022-04-01", "", nil); st != 400 || errCode(b) != "InvalidSkipToken" {
		t.Errorf("the subscription's skip token on the group's list: %d %v, want 400 InvalidSkipToken", st, b)
	}
}
