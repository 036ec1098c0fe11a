package rpkit

import (
	"slices"

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
