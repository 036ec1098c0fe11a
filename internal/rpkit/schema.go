package rpkit

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
)

// Schema describes one JSON value of a request body: enough of the REST
// spec's types to refuse what Azure's resource providers refuse (a member
// the type does not have, a value of the wrong JSON type, an enum value it
// does not list) with the .NET deserializer's wording, and to store what
// is accepted in one canonical spelling.
//
// Schemas are built once, when a provider registers, and never changed
// afterwards: the methods that adjust one (Required, ReadOnly, Open)
// return a copy.
type Schema struct {
	kind kind
	// name is the type named in messages: an object's or enum's spec type.
	name string
	// values are an enum's values in Azure's casing.
	values []string
	// members are an object's members by canonical name, and byFold the
	// canonical names by their lower-case form.
	members map[string]*Schema
	byFold  map[string]string
	// required are an object's required members.
	required []string
	// elem is an array's or map's element.
	elem *Schema
	// resourceType is what an ID must name ("" for any type).
	resourceType string
	// open objects keep members the schema does not list, as sent.
	open bool
	// keepCase enums store a value in the casing it was sent in.
	keepCase bool
	// readOnly members are accepted on input, so a GET-modify-PUT round
	// trip works, and dropped: the provider makes them.
	readOnly bool
}

type kind uint8

const (
	kindString kind = iota + 1
	kindBool
	kindInt
	kindNumber
	kindAny
	kindID
	kindEnum
	kindObject
	kindArray
	kindMap
)

// Members are an object's members, by their name in the spec.
type Members map[string]*Schema

// String is a JSON string.
func String() *Schema { return &Schema{kind: kindString} }

// Bool is a JSON boolean.
func Bool() *Schema { return &Schema{kind: kindBool} }

// Int is a 32-bit integer, the specs' int32.
func Int() *Schema { return &Schema{kind: kindInt} }

// Number is any JSON number.
func Number() *Schema { return &Schema{kind: kindNumber} }

// Any is any JSON value, kept as sent.
func Any() *Schema { return &Schema{kind: kindAny} }

// ID is a fully qualified resource ID, of resourceType when it is not "".
func ID(resourceType string) *Schema { return &Schema{kind: kindID, resourceType: resourceType} }

// Enum is a string that must be one of values (matched ignoring case and
// stored in the casing given here); name is its type in messages.
func Enum(name string, values ...string) *Schema {
	return &Schema{kind: kindEnum, name: name, values: values}
}

// Object is a JSON object of the spec type name with the given members.
func Object(name string, members Members) *Schema {
	byFold := make(map[string]string, len(members))
	for k := range members {
		byFold[strings.ToLower(k)] = k
	}
	return &Schema{kind: kindObject, name: name, members: members, byFold: byFold}
}

// ArrayOf is a JSON array of elem.
func ArrayOf(elem *Schema) *Schema { return &Schema{kind: kindArray, elem: elem} }

// MapOf is a JSON object with any member names and values of elem.
func MapOf(elem *Schema) *Schema { return &Schema{kind: kindMap, elem: elem} }

// Required returns a copy of the object schema s whose members names must
// be present (and not null).
func (s *Schema) Required(names ...string) *Schema {
	c := *s
	c.required = names
	return &c
}

// ReadOnly returns a read-only copy of s.
func (s *Schema) ReadOnly() *Schema {
	c := *s
	c.readOnly = true
	return &c
}

// Open returns a copy of the object schema s that keeps members it does
// not list, unchecked: for the large shapes armlet stores but does not
// interpret.
func (s *Schema) Open() *Schema {
	c := *s
	c.open = true
	return &c
}

// KeepCase returns a copy of the enum schema s that matches values
// ignoring case but keeps them as sent, for the enums whose service
// answers what it was given (Key Vault's access policy permissions).
func (s *Schema) KeepCase() *Schema {
	c := *s
	c.keepCase = true
	return &c
}

// Values returns an enum's values.
func (s *Schema) Values() []string { return s.values }

// Check validates v, the value at path, and returns its normal form:
// member names and enum values in the schema's casing, integers as
// json.Number, JSON nulls and read-only members dropped. A nil result
// means absent. Errors are 400 InvalidRequestContent *arm.Error values
// whose target is the offending path.
func (s *Schema) Check(path string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch s.kind {
	case kindString:
		if _, ok := v.(string); !ok {
			return nil, convertError(path, v, "System.String")
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			return nil, convertError(path, v, "System.Boolean")
		}
	case kindInt:
		n, ok := int32Of(v)
		if !ok {
			return nil, convertError(path, v, "System.Int32")
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	case kindNumber:
		switch v.(type) {
		case json.Number, float64:
		default:
			return nil, convertError(path, v, "System.Double")
		}
	case kindID:
		str, ok := v.(string)
		if !ok {
			return nil, convertError(path, v, "System.String")
		}
		if _, err := ParseID(path, str, s.resourceType); err != nil {
			return nil, err
		}
	case kindEnum:
		str, ok := v.(string)
		if !ok {
			return nil, convertError(path, v, s.name)
		}
		i := slices.IndexFunc(s.values, func(e string) bool { return strings.EqualFold(e, str) })
		if i < 0 {
			return nil, arm.InvalidContent(path, "Error converting value %s to type '%s': the allowed values are '%s'. Path '%s'.",
				strconv.Quote(str), s.name, strings.Join(s.values, "', '"), path)
		}
		if s.keepCase {
			return str, nil
		}
		return s.values[i], nil
	case kindObject:
		return s.checkObject(path, v)
	case kindArray:
		list, ok := v.([]any)
		if !ok {
			return nil, convertError(path, v, "Array")
		}
		out := make([]any, 0, len(list))
		for i, e := range list {
			ne, err := s.elem.Check(path+"["+strconv.Itoa(i)+"]", e)
			if err != nil {
				return nil, err
			}
			if ne != nil {
				out = append(out, ne)
			}
		}
		return out, nil
	case kindMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, convertError(path, v, "Dictionary")
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			ne, err := s.elem.Check(path+"."+k, e)
			if err != nil {
				return nil, err
			}
			if ne != nil {
				out[k] = ne
			}
		}
		return out, nil
	}
	return v, nil
}

func (s *Schema) checkObject(path string, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, convertError(path, v, s.name)
	}
	out := make(map[string]any, len(m))
	for k, mv := range m {
		name, ms := s.member(k)
		switch {
		case ms == nil && s.open:
			if mv != nil {
				out[k] = mv
			}
			continue
		case ms == nil:
			return nil, arm.UnknownMember(path, k, s.name)
		case ms.readOnly:
			continue
		}
		nv, err := ms.Check(join(path, name), mv)
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out[name] = nv
		}
	}
	for _, r := range s.required {
		if _, ok := out[r]; !ok {
			return nil, MissingMember(path, r)
		}
	}
	return out, nil
}

// CheckObject checks the object m at path (the "properties" of a body,
// say) against the object schema s and returns its normal form, never
// nil.
func (s *Schema) CheckObject(path string, m map[string]any) (map[string]any, error) {
	if m == nil {
		m = map[string]any{}
	}
	return s.checkObject(path, m)
}

// CheckBody decodes a request body (rpkit.DecodeBody) and checks it
// against the object schema s (CheckObject at the top level): the body
// of a POST action or a PUT a provider answers itself.
func (s *Schema) CheckBody(b []byte) (map[string]any, error) {
	body, err := DecodeBody(b)
	if err != nil {
		return nil, err
	}
	return s.CheckObject("", body)
}

// member finds an object's member ignoring case, as Azure's readers do,
// and returns its canonical name; nil when s has none of that name.
func (s *Schema) member(name string) (string, *Schema) {
	canonical, ok := s.byFold[strings.ToLower(name)]
	if !ok {
		return "", nil
	}
	return canonical, s.members[canonical]
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// MissingMember is the .NET deserializer's refusal of a body without the
// required member name of the object at path.
func MissingMember(path, name string) *arm.Error {
	return arm.InvalidContent(join(path, name), "Required property '%s' not found in JSON. Path '%s'.", name, path)
}

// convertError is the .NET deserializer's refusal of a value of the wrong
// JSON type.
func convertError(path string, v any, typeName string) *arm.Error {
	switch t := v.(type) {
	case map[string]any:
		return arm.InvalidContent(path, "Unexpected JSON object where a value of type '%s' was expected. Path '%s'.", typeName, path)
	case []any:
		return arm.InvalidContent(path, "Unexpected JSON array where a value of type '%s' was expected. Path '%s'.", typeName, path)
	case string:
		return arm.InvalidContent(path, "Error converting value %s to type '%s'. Path '%s'.", strconv.Quote(t), typeName, path)
	default:
		b, _ := json.Marshal(v)
		return arm.InvalidContent(path, "Error converting value %s to type '%s'. Path '%s'.", b, typeName, path)
	}
}

func int32Of(v any) (int64, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, i >= math.MinInt32 && i <= math.MaxInt32
		}
		var err error
		if f, err = n.Float64(); err != nil { // 3.0 is an integer too
			return 0, false
		}
	case float64:
		f = n
	case int:
		f = float64(n)
	default:
		return 0, false
	}
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int64(f), true
}

// ParseID parses s, the value of the member at path, as a fully qualified
// resource ID (in a subscription), of resourceType when it is not "",
// refusing anything else with 400 LinkedInvalidPropertyId naming path.
func ParseID(path, s, resourceType string) (resourceid.ID, error) {
	id, err := resourceid.Parse(s)
	if err != nil || id.SubscriptionID() == "" || id.Len() < 2 {
		return resourceid.ID{}, arm.BadRequest(arm.CodeLinkedInvalidPropertyID,
			"Property id '%s' at path '%s' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.", s, path).WithTarget(path)
	}
	if resourceType != "" && !strings.EqualFold(id.ResourceType(), resourceType) {
		return resourceid.ID{}, arm.BadRequest(arm.CodeLinkedInvalidPropertyID,
			"Property id '%s' at path '%s' is invalid: it must be the ID of a resource of type '%s'.", s, path, resourceType).WithTarget(path)
	}
	return id, nil
}
