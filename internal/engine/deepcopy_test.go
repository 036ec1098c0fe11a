package engine_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/armlet/armlet/internal/engine"
)

func TestDeepCopy(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want any // nil: reflect.DeepEqual to v
	}{
		{"scalar", "x", nil},
		{"number", json.Number("1.5"), nil},
		{"null", nil, nil},
		{"object", map[string]any{"a": map[string]any{"b": []any{1, map[string]any{"c": true}}}}, nil},
		{"nil object stays nil", map[string]any(nil), nil},
		{"nil array becomes empty", []any(nil), []any{}},
	}
	for _, tt := range tests {
		got := engine.DeepCopy(tt.v)
		want := tt.want
		if want == nil {
			want = tt.v
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: DeepCopy(%#v) = %#v, want %#v", tt.name, tt.v, got, want)
		}
	}

	// The copy shares nothing that can be changed.
	orig := map[string]any{"a": map[string]any{"b": []any{"x"}}}
	cp := engine.DeepCopy(orig).(map[string]any)
	cp["a"].(map[string]any)["b"].([]any)[0] = "y"
	cp["a"].(map[string]any)["c"] = 1
	if want := (map[string]any{"a": map[string]any{"b": []any{"x"}}}); !reflect.DeepEqual(orig, want) {
		t.Errorf("changing the copy changed the original: %v", orig)
	}
}
