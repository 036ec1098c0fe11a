package engine_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/armlet/armlet/internal/engine"
)

// TestEnvelopeTypes sends each typed envelope member in its ARM shape and
// out of it, to a resource group (the ARM core's type) and to a widget
// (a provider's type): a member out of shape is a 400
// InvalidRequestContent whose target names it, a member in shape is
// stored with its names in their canonical spelling.
func TestEnvelopeTypes(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	rgBody := func(extra string) string { return `{"location":"eastus",` + extra + `}` }
	tests := []struct {
		name, path, version, extra string
		wantTarget                 string // "" for success
		wantMember                 string // the member as GET shows it, when it succeeds
	}{
		{"managedBy string", rg, "2021-04-01", `"managedBy":"/subscriptions/x"`, "", `"/subscriptions/x"`},
		{"managedBy array", rg, "2021-04-01", `"managedBy":[0,0,0]`, "managedBy", ""},
		{"managedBy number", rg, "2021-04-01", `"managedBy":1`, "managedBy", ""},
		{"managedBy object", rg, "2021-04-01", `"managedBy":{}`, "managedBy", ""},
		{"managedBy null", rg, "2021-04-01", `"managedBy":null`, "", ""},
		{"kind number", widget, "2024-01-01", `"kind":5`, "kind", ""},
		{"kind string", widget, "2024-01-01", `"kind":"big"`, "", `"big"`},
		{"zones", widget, "2024-01-01", `"zones":["1","2"]`, "", `["1","2"]`},
		{"zones string", widget, "2024-01-01", `"zones":"1"`, "zones", ""},
		{"zones number", widget, "2024-01-01", `"zones":["1",2]`, "zones[1]", ""},
		{"zones null element", widget, "2024-01-01", `"zones":[null]`, "zones[0]", ""},
		{"sku", widget, "2024-01-01", `"sku":{"Name":"S1","tier":"Standard","capacity":3,"family":"f","size":"s","model":"m"}`, "",
			`{"name":"S1","tier":"Standard","capacity":3,"family":"f","size":"s","model":"m"}`},
		{"sku string", widget, "2024-01-01", `"sku":"S1"`, "sku", ""},
		{"sku name number", widget, "2024-01-01", `"sku":{"name":1}`, "sku.name", ""},
		{"sku capacity string", widget, "2024-01-01", `"sku":{"name":"S","capacity":"3"}`, "sku.capacity", ""},
		{"sku capacity fraction", widget, "2024-01-01", `"sku":{"name":"S","capacity":1.5}`, "sku.capacity", ""},
		{"sku capacity beyond int32", widget, "2024-01-01", `"sku":{"name":"S","capacity":4294967296}`, "sku.capacity", ""},
		{"sku unknown member", widget, "2024-01-01", `"sku":{"name":"S","colour":[1]}`, "sku.colour", ""},
		{"identity", widget, "2024-01-01", `"identity":{"type":"UserAssigned","userAssignedIdentities":{"/i/1":{},"/i/2":null,"/i/3":{"clientId":"c"}}}`, "",
			`{"type":"UserAssigned","userAssignedIdentities":{"/i/1":{},"/i/2":null,"/i/3":{"clientId":"c"}}}`},
		{"identity type array", widget, "2024-01-01", `"identity":{"type":["SystemAssigned"]}`, "identity.type", ""},
		{"identity user identities array", widget, "2024-01-01", `"identity":{"type":"UserAssigned","userAssignedIdentities":["/i/1"]}`, "identity.userAssignedIdentities", ""},
		{"identity user identity string", widget, "2024-01-01", `"identity":{"userAssignedIdentities":{"/i/1":"x"}}`, "identity.userAssignedIdentities./i/1", ""},
		{"identity user identity member", widget, "2024-01-01", `"identity":{"userAssignedIdentities":{"/i/1":{"clientId":7}}}`, "identity.userAssignedIdentities./i/1.clientId", ""},
		{"plan", widget, "2024-01-01", `"plan":{"name":"n","publisher":"p","product":"q","promotionCode":"c","version":"1"}`, "",
			`{"name":"n","publisher":"p","product":"q","promotionCode":"c","version":"1"}`},
		{"plan publisher number", widget, "2024-01-01", `"plan":{"name":"n","publisher":1}`, "plan.publisher", ""},
		{"extendedLocation", widget, "2024-01-01", `"extendedLocation":{"name":"losangeles","type":"EdgeZone"}`, "", `{"name":"losangeles","type":"EdgeZone"}`},
		{"extendedLocation type array", widget, "2024-01-01", `"extendedLocation":{"type":["EdgeZone"]}`, "extendedLocation.type", ""},
		{"scale", widget, "2024-01-01", `"scale":{"minimum":1,"maximum":3,"default":2}`, "", `{"minimum":1,"maximum":3,"default":2}`},
		{"scale maximum string", widget, "2024-01-01", `"scale":{"minimum":1,"maximum":"3"}`, "scale.maximum", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _, body := h.call("PUT", tt.path, tt.version, rgBody(tt.extra), nil)
			if tt.wantTarget != "" {
				e, _ := body["error"].(map[string]any)
				if st != 400 || errCode(body) != "InvalidRequestContent" || e["target"] != tt.wantTarget {
					t.Fatalf("PUT = %d %v, want 400 InvalidRequestContent with target %q", st, body, tt.wantTarget)
				}
				return
			}
			if st != 200 && st != 201 {
				t.Fatalf("PUT = %d %v", st, body)
			}
			if tt.wantMember == "" {
				return
			}
			var member string
			for k := range body {
				if k != "id" && k != "name" && k != "type" && k != "location" && k != "tags" && k != "properties" && k != "systemData" && k != "etag" {
					member = k
				}
			}
			var got, want any
			b, _ := json.Marshal(body[member])
			_ = json.Unmarshal(b, &got)
			_ = json.Unmarshal([]byte(tt.wantMember), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %s, want %s", member, b, tt.wantMember)
			}
		})
	}
}

// TestPatchOneSpelling patches a member spelled differently from the
// stored one: the merged resource the admission chain and the type see
// holds one spelling, the patch's, and so does the store.
func TestPatchOneSpelling(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	var seen []map[string]any
	h.e.AddAdmitter(func(_ context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
		seen = append(seen, desired.Properties)
		return nil
	})
	if st, _, b := h.call("PUT", widget, "2024-01-01", `{"location":"eastus","properties":{"publicNetworkAccess":"Disabled","size":1},"sku":{"name":"S"}}`, nil); st != 201 {
		t.Fatalf("PUT = %d %v", st, b)
	}
	h.clk.Advance(2e9)
	st, _, b := h.call("PATCH", widget, "2024-01-01", `{"properties":{"PublicNetworkAccess":"Enabled"},"sku":{"CAPACITY":2}}`, nil)
	if st != 200 {
		t.Fatalf("PATCH = %d %v", st, b)
	}
	if got := seen[len(seen)-1]; len(got) != 2 || got["PublicNetworkAccess"] != "Enabled" {
		t.Errorf("admission saw properties %v, want PublicNetworkAccess Enabled beside size only", got)
	}
	_, _, g := h.call("GET", widget, "2024-01-01", "", nil)
	props, _ := g["properties"].(map[string]any)
	if _, old := props["publicNetworkAccess"]; old || props["PublicNetworkAccess"] != "Enabled" {
		t.Errorf("stored properties %v", props)
	}
	if sku, _ := g["sku"].(map[string]any); len(sku) != 2 || sku["name"] != "S" || sku["capacity"] != float64(2) {
		t.Errorf("stored sku %v, want name S and capacity 2", g["sku"])
	}
}
