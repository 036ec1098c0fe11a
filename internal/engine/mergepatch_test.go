package engine_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/engine"
)

// TestMergePatch covers RFC 7396 on the shapes the engine merges,
// including a nil object as the target (a resource stored without
// properties), which must not panic.
func TestMergePatch(t *testing.T) {
	tests := []struct {
		name          string
		target        any
		patch, wantJS string
	}{
		{"nil map target", map[string]any(nil), `{"a":1}`, `{"a":1}`},
		{"absent target", nil, `{"a":{"b":2}}`, `{"a":{"b":2}}`},
		{"null removes", map[string]any{"a": "x", "b": "y"}, `{"a":null}`, `{"b":"y"}`},
		{"nested merge", map[string]any{"a": map[string]any{"b": "1", "c": "2"}}, `{"a":{"c":"3","d":"4"}}`, `{"a":{"b":"1","c":"3","d":"4"}}`},
		{"non-object patch replaces", map[string]any{"a": "x"}, `[1,2]`, `[1,2]`},
		{"object replaces scalar", "x", `{"a":1}`, `{"a":1}`},
		{"nil map in a nested member", map[string]any{"a": map[string]any(nil)}, `{"a":{"b":1}}`, `{"a":{"b":1}}`},
		// Names match ignoring case; the patch's spelling stays.
		{"other spelling replaced", map[string]any{"publicNetworkAccess": "Disabled", "x": "1"}, `{"PublicNetworkAccess":"Enabled"}`, `{"PublicNetworkAccess":"Enabled","x":"1"}`},
		{"every spelling removed", map[string]any{"a": "x", "A": "y", "b": "z"}, `{"a":null}`, `{"b":"z"}`},
		{"other spelling merged into", map[string]any{"Enc": map[string]any{"s": "1", "t": "2"}}, `{"enc":{"T":"3"}}`, `{"enc":{"s":"1","T":"3"}}`},
		{"exact spelling merged into first", map[string]any{"e": map[string]any{"s": "1"}, "E": map[string]any{"u": "2"}}, `{"e":{"t":"3"}}`, `{"e":{"s":"1","t":"3"}}`},
		{"large target", largeTarget(), `{"M7":"new","m8":null,"n":"1"}`, `{"M7":"new","n":"1",` + largeRest() + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var patch any
			if err := json.Unmarshal([]byte(tt.patch), &patch); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(engine.MergePatch(tt.target, patch))
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			_ = json.Unmarshal(got, &g)
			_ = json.Unmarshal([]byte(tt.wantJS), &w)
			if gs, ws := mustJSONString(g), mustJSONString(w); gs != ws {
				t.Errorf("MergePatch = %s, want %s", gs, ws)
			}
		})
	}
}

// largeTarget has more members than MergePatch compares one by one.
func largeTarget() map[string]any {
	m := map[string]any{}
	for i := range 30 {
		m[fmt.Sprintf("m%d", i)] = "old"
	}
	return m
}

// largeRest is largeTarget after the "large target" patch, less M7 and n.
func largeRest() string {
	var parts []string
	for i := range 30 {
		if i != 7 && i != 8 {
			parts = append(parts, fmt.Sprintf(`"m%d":"old"`, i))
		}
	}
	return strings.Join(parts, ",")
}

func mustJSONString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
