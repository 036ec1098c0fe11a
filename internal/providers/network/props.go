package network

import (
	"encoding/json"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
)

// Reading request bodies. Bodies are generic JSON (numbers as
// json.Number); these helpers check one member's JSON type and name the
// property path in the error, as ARM's InvalidRequestContent does.

func badType(path, want string) *arm.Error {
	return arm.InvalidContent(path, "The value of '%s' must be %s.", path, want)
}

// objectAt returns m[key] as an object; nil when absent or null.
func objectAt(m map[string]any, key, path string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, badType(path, "a JSON object")
	}
	return o, nil
}

// arrayAt returns m[key] as an array; nil when absent or null.
func arrayAt(m map[string]any, key, path string) ([]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, badType(path, "a JSON array")
	}
	return a, nil
}

// stringAt returns m[key] as a string; "" when absent or null.
func stringAt(m map[string]any, key, path string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badType(path, "a string")
	}
	return s, nil
}

// stringsAt returns m[key] as an array of strings.
func stringsAt(m map[string]any, key, path string) ([]string, error) {
	a, err := arrayAt(m, key, path)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(a))
	for _, v := range a {
		s, ok := v.(string)
		if !ok {
			return nil, badType(path, "an array of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

// boolAt returns m[key] as a bool; def when absent or null.
func boolAt(m map[string]any, key, path string, def bool) (bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, badType(path, "a boolean")
	}
	return b, nil
}

// intAt returns m[key] as a non-negative integer; def when absent or null.
func intAt(m map[string]any, key, path string, def int64) (int64, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return def, nil
	}
	if i, isInt := v.(int); isInt && i >= 0 {
		return int64(i), nil
	}
	n, ok := v.(json.Number)
	if !ok {
		if f, isF := v.(float64); isF && f == float64(int64(f)) {
			return int64(f), nil
		}
		return 0, badType(path, "an integer")
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return 0, badType(path, "a non-negative integer")
	}
	return i, nil
}

// refID reads a reference {"id": "..."} at m[key] and parses it; ok is
// false when the member is absent.
func refID(m map[string]any, key, path string) (id resourceid.ID, ok bool, err error) {
	o, err := objectAt(m, key, path)
	if err != nil || o == nil {
		return resourceid.ID{}, false, err
	}
	s, err := stringAt(o, "id", path+".id")
	if err != nil {
		return resourceid.ID{}, false, err
	}
	if s == "" {
		return resourceid.ID{}, false, arm.InvalidContent(path+".id", "The value of '%s.id' is required.", path)
	}
	id, perr := resourceid.Parse(s)
	if perr != nil || id.SubscriptionID() == "" {
		return resourceid.ID{}, false, arm.BadRequest(arm.CodeLinkedInvalidPropertyID,
			"Property id '%s' at path '%s.id' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.", s, path)
	}
	return id, true, nil
}

// parseTargetID parses a fully qualified resource ID a property names.
func parseTargetID(s, path string) (resourceid.ID, error) {
	id, err := resourceid.Parse(s)
	if err != nil || id.SubscriptionID() == "" || id.Len() < 3 {
		return resourceid.ID{}, arm.BadRequest(arm.CodeLinkedInvalidPropertyID,
			"Property id '%s' at path '%s' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.", s, path)
	}
	return id, nil
}

// findNamed returns the index of the item of list (objects with a "name")
// named name, ignoring case, or -1.
func findNamed(list []any, name string) int {
	for i, v := range list {
		o, _ := v.(map[string]any)
		if n, _ := o["name"].(string); strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}
