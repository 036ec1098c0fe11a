package rpkit

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSchemaCheck: values are normalised (member names and enum values to
// the schema's casing, nulls and read-only members dropped) and every
// refusal is a 400 naming the member.
func TestSchemaCheck(t *testing.T) {
	s := Object("Thing", Members{
		"name":    String(),
		"count":   Int(),
		"ratio":   Number(),
		"on":      Bool(),
		"mode":    Enum("Mode", "Fast", "Slow"),
		"ref":     ID("Microsoft.Network/virtualNetworks"),
		"tags":    MapOf(String()),
		"list":    ArrayOf(Object("Item", Members{"v": Int()}).Required("v")),
		"free":    Any(),
		"created": String().ReadOnly(),
		"open":    Object("Open", Members{"known": Bool()}).Open(),
	}).Required("name")
	vnet := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
	cases := []struct {
		name, in, want, target string
	}{
		{"normalised", `{"NAME":"x","mode":"fast","count":3.0,"created":"t","on":null,"free":{"a":[1]}}`,
			`{"name":"x","mode":"Fast","count":3,"free":{"a":[1]}}`, ""},
		{"nested", `{"name":"x","list":[{"V":1},null],"tags":{"a":"b"},"ref":"` + vnet + `","open":{"known":true,"other":1}}`,
			`{"name":"x","list":[{"v":1}],"tags":{"a":"b"},"ref":"` + vnet + `","open":{"known":true,"other":1}}`, ""},
		{"unknown member", `{"name":"x","nmae":"y"}`, "", "nmae"},
		{"missing required", `{"count":1}`, "", "name"},
		{"missing nested required", `{"name":"x","list":[{}]}`, "", "list[0].v"},
		{"wrong type", `{"name":1}`, "", "name"},
		{"object for a string", `{"name":{}}`, "", "name"},
		{"int too large", `{"name":"x","count":3000000000}`, "", "count"},
		{"fraction", `{"name":"x","count":1.5}`, "", "count"},
		{"bad enum", `{"name":"x","mode":"Medium"}`, "", "mode"},
		{"bad map value", `{"name":"x","tags":{"a":1}}`, "", "tags.a"},
		{"not an id", `{"name":"x","ref":"vnet1"}`, "", "ref"},
		{"id of another type", `{"name":"x","ref":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a"}`, "", "ref"},
		{"not an array", `{"name":"x","list":{}}`, "", "list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Check("", decode(t, c.in))
			if c.target != "" {
				ae, ok := arm.AsError(err)
				if !ok || ae.Status != 400 || ae.Target != c.target {
					t.Fatalf("error = %v (target %q), want a 400 naming %q", err, targetOf(err), c.target)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := decode(t, c.want); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func targetOf(err error) string {
	if ae, ok := arm.AsError(err); ok {
		return ae.Target
	}
	return ""
}
