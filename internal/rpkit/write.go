package rpkit

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// CheckEnvelope refuses the envelope members of r (the engine keeps kind
// and sku, identity, zones, ... for the providers) other than those
// allowed names, which the type typeName (its spec name, for the message)
// does not have: 400 InvalidRequestContent naming the member.
func CheckEnvelope(r *engine.Resource, typeName string, allowed ...string) error {
	if r.Kind != "" && !slices.Contains(allowed, "kind") {
		return arm.UnknownMember("", "kind", typeName)
	}
	for k := range r.Extra {
		if !slices.Contains(allowed, k) {
			return arm.UnknownMember("", k, typeName)
		}
	}
	return nil
}

// Updated returns the properties a PUT or PATCH stores: sent's members
// over old's properties, so that an update keeps what it omits, or, on a
// create (old nil), over defaults. It copies old's; defaults and sent are
// used as they are.
func Updated(old *engine.Resource, defaults, sent map[string]any) map[string]any {
	props := defaults
	if old != nil {
		props = engine.DeepCopy(old.Properties).(map[string]any)
	}
	if props == nil {
		props = map[string]any{}
	}
	for k, v := range sent {
		props[k] = v
	}
	return props
}

// SkuName returns the name of r's required sku (the envelope member sku)
// in the casing of names, the names its type has; ok is false for a name
// not among them, which the caller refuses in its provider's words. A
// missing sku or sku.name is 400 InvalidRequestContent.
func SkuName(r *engine.Resource, names []string) (name string, ok bool, err error) {
	raw, present := r.Extra["sku"]
	if !present {
		return "", false, MissingMember("", "sku")
	}
	var sku struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &sku); err != nil || sku.Name == "" {
		return "", false, MissingMember("sku", "name")
	}
	i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, sku.Name) })
	if i < 0 {
		return sku.Name, false, nil
	}
	return names[i], true, nil
}

// FindByName returns the live resource of the top-level type typ named
// name (ignoring case) in any subscription, or nil: the holder of a
// global name (a storage account's, a registry's, a vault's, whose host
// names are theirs).
func FindByName(ctx context.Context, e *engine.Engine, typ, name string) (*engine.Resource, error) {
	list, err := e.ListByType(ctx, typ)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if strings.EqualFold(r.ID.Name(), name) {
			return r, nil
		}
	}
	return nil, nil
}
