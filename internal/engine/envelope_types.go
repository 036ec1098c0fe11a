package engine

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/arm"
)

// The envelope members the engine keeps for providers (Resource.Extra)
// are type-checked against ARM's resource definition before anything
// stores them, so that a member is what every reader expects and a body
// cannot park an arbitrary document in one (a managedBy of a million
// numbers). The shapes follow the common types of azure-rest-api-specs
// (specification/common-types/resource-management: types.json for Sku
// and Plan, managedidentity.json for ManagedServiceIdentity, and the
// Microsoft.Resources ExtendedLocation): ARM's own types, which a
// provider may narrow (Validate) but never widen.

type shapeKind int

const (
	shapeString shapeKind = iota + 1
	shapeInt              // a 32-bit integer, as the specs' int32
	shapeObject           // members named in members, matched ignoring case
	shapeArray            // elements of elem
	shapeMap              // any member names, values of elem
)

type shape struct {
	kind     shapeKind
	typeName string            // shapeObject: the type named in messages
	members  map[string]*shape // shapeObject: by canonical name
	elem     *shape            // shapeArray, shapeMap
}

func stringShape() *shape { return &shape{kind: shapeString} }
func intShape() *shape    { return &shape{kind: shapeInt} }

func objectShape(typeName string, members map[string]*shape) *shape {
	return &shape{kind: shapeObject, typeName: typeName, members: members}
}

func objectOfStrings(typeName string, names ...string) *shape {
	m := make(map[string]*shape, len(names))
	for _, n := range names {
		m[n] = stringShape()
	}
	return objectShape(typeName, m)
}

// envelopeShapes are the types of the envelope members kept in Extra
// (and of kind, kept in Resource.Kind).
var envelopeShapes = map[string]*shape{
	"kind":      stringShape(),
	"managedBy": stringShape(),
	"zones":     {kind: shapeArray, elem: stringShape()},
	// Sku: the common type's members, plus model, which the
	// Microsoft.Resources generic resource's Sku adds.
	"sku": objectShape("Sku", map[string]*shape{
		"name": stringShape(), "tier": stringShape(), "size": stringShape(),
		"family": stringShape(), "model": stringShape(), "capacity": intShape(),
	}),
	"identity": objectShape("ManagedServiceIdentity", map[string]*shape{
		"type": stringShape(), "principalId": stringShape(), "tenantId": stringShape(),
		// Keys are identity resource IDs; a value may be null (a PATCH
		// removing the identity) or {} in requests.
		"userAssignedIdentities": {kind: shapeMap, elem: objectOfStrings("UserAssignedIdentity", "principalId", "clientId")},
	}),
	"plan":             objectOfStrings("Plan", "name", "publisher", "product", "promotionCode", "version"),
	"extendedLocation": objectOfStrings("ExtendedLocation", "name", "type"),
	"scale": objectShape("ResourceScale", map[string]*shape{
		"minimum": intShape(), "maximum": intShape(), "default": intShape(),
	}),
}

// checkShape checks v, the value at path, against s and returns it with
// object member names in their canonical spelling. JSON null is accepted
// anywhere below the top (it means absent) and kept.
func checkShape(s *shape, path string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch s.kind {
	case shapeString:
		if _, ok := v.(string); !ok {
			return nil, arm.InvalidContent(path, "The value of '%s' must be a string.", path)
		}
		return v, nil
	case shapeInt:
		if !isInt32(v) {
			return nil, arm.InvalidContent(path, "The value of '%s' must be a 32-bit integer.", path)
		}
		return v, nil
	case shapeArray:
		a, ok := v.([]any)
		if !ok {
			return nil, arm.InvalidContent(path, "The value of '%s' must be a JSON array.", path)
		}
		out := make([]any, len(a))
		for i, e := range a {
			p := path + "[" + strconv.Itoa(i) + "]"
			if e == nil {
				return nil, arm.InvalidContent(p, "The value of '%s' must not be null.", p)
			}
			ne, err := checkShape(s.elem, p, e)
			if err != nil {
				return nil, err
			}
			out[i] = ne
		}
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, arm.InvalidContent(path, "The value of '%s' must be a JSON object.", path)
	}
	out := make(map[string]any, len(m))
	for k, mv := range m {
		name, ms := k, s.elem
		if s.kind == shapeObject {
			name, ms = s.member(k)
			if ms == nil {
				p := path + "." + k
				return nil, arm.InvalidContent(p, "Could not find member '%s' on object of type '%s'. Path '%s'.", k, s.typeName, p)
			}
		}
		if _, dup := out[name]; dup {
			p := path + "." + k
			return nil, arm.InvalidContent(p, "The member '%s' at '%s' repeats a member of the same object (names match ignoring case).", k, p)
		}
		nv, err := checkShape(ms, path+"."+name, mv)
		if err != nil {
			return nil, err
		}
		out[name] = nv
	}
	return out, nil
}

// member finds an object member ignoring case, as ARM's readers do, and
// returns its canonical name.
func (s *shape) member(name string) (string, *shape) {
	if ms, ok := s.members[name]; ok {
		return name, ms
	}
	for k, ms := range s.members {
		if strings.EqualFold(k, name) {
			return k, ms
		}
	}
	return "", nil
}

func isInt32(v any) bool {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return err == nil && i >= math.MinInt32 && i <= math.MaxInt32
	case float64:
		return n == math.Trunc(n) && n >= math.MinInt32 && n <= math.MaxInt32
	}
	return false
}
