package engine

import (
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// TestDecodedCache: a cached resource is served only for its revision,
// and callers get copies they may change freely.
func TestDecodedCache(t *testing.T) {
	c := newDecodedCache(2)
	id, _ := resourceid.Parse("/subscriptions/s/resourceGroups/rg")
	r := &Resource{ID: id, Properties: map[string]any{"a": map[string]any{"b": "c"}}, Tags: map[string]string{"t": "1"}, Revision: 7}
	c.put("k", r)
	r.Properties["a"].(map[string]any)["b"] = "changed after put"
	got, ok := c.get("k", 7)
	if !ok || got.Properties["a"].(map[string]any)["b"] != "c" {
		t.Fatalf("get = %+v %v, want the value as put", got, ok)
	}
	got.Properties["a"].(map[string]any)["b"] = "changed by a caller"
	got.Tags["t"] = "2"
	if again, _ := c.get("k", 7); again.Properties["a"].(map[string]any)["b"] != "c" || again.Tags["t"] != "1" {
		t.Errorf("a caller's change reached the cache: %+v", again)
	}
	if _, ok := c.get("k", 8); ok {
		t.Error("served for another revision")
	}
	c.put("k2", r)
	c.put("k3", r)
	if len(c.items) != 2 {
		t.Errorf("cache holds %d items, want at most 2", len(c.items))
	}
}
