package machinelearning

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// A small schema language for request bodies: enough to type-check the
// properties Azure documents, to refuse members it does not know with the
// error text of its .NET deserializer, and to know which api-version
// introduced each member.

type kind int

const (
	kString kind = iota + 1
	kBool
	kInt
	kArmID
	kEnum
	kObject
	kArray
	kMap
	kUnion  // an object whose shape depends on a discriminator member
	kNumber // any JSON number
	kAny    // any JSON value, kept as sent
)

type field struct {
	kind     kind
	typeName string // .NET type name used in messages (objects, enums)
	enum     []string
	armType  string // kArmID: the full resource type expected, "" for any
	fields   map[string]*field
	required []string
	elem     *field // kArray, kMap
	// open objects keep members the schema does not list, unchecked (for
	// large free-form shapes such as job definitions).
	open bool
	// readOnly members are accepted on input (GET-modify-PUT round trips)
	// and dropped; the provider generates them.
	readOnly bool
	// since is the first stable api-version that has the member; "" is
	// every version.
	since string
	// absent marks, in a schema overlaid for one api-version
	// (sdkmodels.go), a member of the newest shape that the version does
	// not have: refused on input, dropped from responses, and kept from
	// the stored resource by a PUT, as a member newer than the version is.
	absent bool
	// versionOnly marks, in an overlaid schema, a member the version has
	// and the newest shape does not: checked at that version, then not
	// stored (shapes.upgrade may carry it over to its successor first).
	versionOnly bool
	// exact objects come from an api-version's own model (an overlay):
	// their members are all the version has, so a response at that version
	// loses every other member.
	exact bool
	// aliases map other spellings (lower case) of an enum value or union
	// discriminator to the value stored.
	aliases map[string]string
	// kUnion
	discriminator string
	discType      string // the discriminator's enum type name
	variants      map[string]*field
}

func str() *field                          { return &field{kind: kString} }
func number() *field                       { return &field{kind: kNumber} }
func anyJSON() *field                      { return &field{kind: kAny} }
func boolean() *field                      { return &field{kind: kBool} }
func integer() *field                      { return &field{kind: kInt} }
func armID(resourceType string) *field     { return &field{kind: kArmID, armType: resourceType} }
func arrayOf(elem *field) *field           { return &field{kind: kArray, elem: elem} }
func mapOf(elem *field) *field             { return &field{kind: kMap, elem: elem} }
func enum(name string, v ...string) *field { return &field{kind: kEnum, typeName: name, enum: v} }

func object(name string, fields map[string]*field, required ...string) *field {
	return &field{kind: kObject, typeName: name, fields: fields, required: required}
}

// union returns a schema whose variant is chosen by the string member
// discriminator (matched ignoring case); discType names its enum type in
// messages.
func union(discriminator, discType string, variants map[string]*field) *field {
	return &field{kind: kUnion, discriminator: discriminator, discType: discType, variants: variants}
}

// withAliases returns a copy of enum or union f that also takes the
// spellings of aliases (alias → value stored).
func (f *field) withAliases(aliases map[string]string) *field {
	c := *f
	c.aliases = make(map[string]string, len(aliases))
	for k, v := range aliases {
		c.aliases[strings.ToLower(k)] = v
	}
	return &c
}

// opened returns a copy of object schema f that keeps unknown members.
func (f *field) opened() *field {
	c := *f
	c.open = true
	return &c
}

// ro returns a read-only copy of f.
func (f *field) ro() *field {
	c := *f
	c.readOnly = true
	return &c
}

// from returns a copy of f introduced by api-version v.
func (f *field) from(v string) *field {
	c := *f
	c.since = v
	return &c
}

// missingAt reports whether member mf is not part of api-version v:
// absent from v's overlay, or introduced after v ("" has every member).
func (mf *field) missingAt(v string) bool {
	return mf.absent || v != "" && mf.since != "" && !atLeast(v, mf.since)
}

// unknownMember is the error for member name of an object of type
// typeName that api-version v does not have.
func (mf *field) unknownMember(path, name, typeName, v string) *arm.Error {
	err := arm.UnknownMember(path, name, typeName)
	switch {
	case v != "" && mf.since != "" && !atLeast(v, mf.since):
		err.Message += fmt.Sprintf(" The property needs api-version %s or newer; the request used %s.", mf.since, v)
	case mf.absent && v != "":
		err.Message += fmt.Sprintf(" The property is not part of api-version %s.", v)
	}
	return err
}

// member finds a member of an object schema; JSON member names match
// ignoring case, as the .NET deserializer does. It returns the canonical
// name.
func (f *field) member(name string) (string, *field, bool) {
	if m, ok := f.fields[name]; ok {
		return name, m, true
	}
	for k, m := range f.fields {
		if strings.EqualFold(k, name) {
			return k, m, true
		}
	}
	return "", nil, false
}

func requiredMissing(path, name string) *arm.Error {
	return arm.InvalidContent(path+"."+name, "Required property '%s' not found in JSON. Path '%s'.", name, path)
}

// describeJSON renders a value the way the .NET deserializer quotes it.
func describeJSON(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case bool:
		if t {
			return "True"
		}
		return "False"
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return ""
}

func conversion(path string, v any, typeName string) *arm.Error {
	switch v.(type) {
	case map[string]any:
		return arm.InvalidContent(path, "Unexpected JSON object where a value of type '%s' was expected. Path '%s'.", typeName, path)
	case []any:
		return arm.InvalidContent(path, "Unexpected JSON array where a value of type '%s' was expected. Path '%s'.", typeName, path)
	}
	return arm.InvalidContent(path, "Error converting value %s to type '%s'. Path '%s'.", describeJSON(v), typeName, path)
}

// check validates v against f and returns its normalised form: enum values
// in their canonical casing, integers as json.Number, member names in
// their canonical casing, read-only members and JSON nulls dropped. A nil
// result means the member is absent.
func (f *field) check(path string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch f.kind {
	case kString:
		// The checked value is v itself, not s: boxing s again would
		// allocate for every string of every body.
		if _, ok := v.(string); !ok {
			return nil, conversion(path, v, "System.String")
		}
		return v, nil
	case kBool:
		// Azure's reader (Newtonsoft) converts the strings "true" and
		// "false" too, in any casing: templates pass string parameters
		// to booleans (azure-ai-ml's hbiWorkspace).
		if s, ok := v.(string); ok {
			if b, err := strconv.ParseBool(strings.ToLower(s)); err == nil && (strings.EqualFold(s, "true") || strings.EqualFold(s, "false")) {
				return b, nil
			}
		}
		b, ok := v.(bool)
		if !ok {
			return nil, conversion(path, v, "System.Boolean")
		}
		return b, nil
	case kInt:
		if s, ok := v.(string); ok {
			// Newtonsoft converts an integer's string too.
			if i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32); err == nil {
				return json.Number(strconv.FormatInt(i, 10)), nil
			}
		}
		switch n := v.(type) {
		case json.Number:
			if i, err := n.Int64(); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
				return json.Number(strconv.FormatInt(i, 10)), nil
			}
		case float64:
			if n == math.Trunc(n) && n >= math.MinInt32 && n <= math.MaxInt32 {
				return json.Number(strconv.FormatInt(int64(n), 10)), nil
			}
		}
		return nil, conversion(path, v, "System.Int32")
	case kNumber:
		switch v.(type) {
		case json.Number, float64:
			return v, nil
		}
		return nil, conversion(path, v, "System.Double")
	case kAny:
		return v, nil
	case kArmID:
		s, ok := v.(string)
		if !ok {
			return nil, conversion(path, v, "System.String")
		}
		if s == "" {
			// Choice: an empty resource ID is no ID, as a null is:
			// azure-ai-ml's workspace template sends "" for every
			// optional ID it has no value for, and Azure takes it.
			return nil, nil
		}
		if err := checkArmID(path, s, f.armType); err != nil {
			return nil, err
		}
		return v, nil
	case kEnum:
		s, ok := v.(string)
		if !ok {
			return nil, conversion(path, v, f.typeName)
		}
		for _, e := range f.enum {
			if e == s {
				return v, nil
			}
			if strings.EqualFold(e, s) {
				return e, nil
			}
		}
		if e, ok := f.aliases[strings.ToLower(s)]; ok {
			return e, nil
		}
		return nil, arm.InvalidContent(path, "Error converting value %s to type '%s': the allowed values are '%s'. Path '%s'.",
			strconv.Quote(s), f.typeName, strings.Join(f.enum, "', '"), path)
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, conversion(path, v, f.typeName)
		}
		out := make(map[string]any, len(m))
		for k, mv := range m {
			name, mf, ok := f.member(k)
			if !ok && f.open {
				if mv != nil {
					out[k] = mv
				}
				continue
			}
			if !ok {
				return nil, arm.UnknownMember(path, k, f.typeName)
			}
			if mf.readOnly {
				continue
			}
			if _, ok := mv.(string); ok && mf.kind == kString {
				out[name] = mv // what check gives, without the member's path
				continue
			}
			nv, err := mf.check(path+"."+name, mv)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out[name] = nv
			}
		}
		for _, r := range f.required {
			if _, ok := out[r]; !ok {
				return nil, requiredMissing(path, r)
			}
		}
		return out, nil
	case kArray:
		a, ok := v.([]any)
		if !ok {
			return nil, conversion(path, v, "Array")
		}
		out := make([]any, 0, len(a))
		for i, ev := range a {
			nv, err := f.elem.check(fmt.Sprintf("%s[%d]", path, i), ev)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out = append(out, nv)
			}
		}
		return out, nil
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, conversion(path, v, "Dictionary")
		}
		out := make(map[string]any, len(m))
		for k, ev := range m {
			nv, err := f.elem.check(path+"."+k, ev)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out[k] = nv
			}
		}
		return out, nil
	case kUnion:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, conversion(path, v, f.typeName)
		}
		var disc any
		for k, dv := range m {
			if strings.EqualFold(k, f.discriminator) {
				disc = dv
			}
		}
		s, ok := disc.(string)
		if !ok {
			if disc == nil {
				return nil, requiredMissing(path, f.discriminator)
			}
			return nil, conversion(path+"."+f.discriminator, disc, "System.String")
		}
		if a, ok := f.aliases[strings.ToLower(s)]; ok {
			m = maps.Clone(m)
			for k := range m {
				if strings.EqualFold(k, f.discriminator) {
					m[k] = a
				}
			}
			s = a
		}
		for name, variant := range f.variants {
			if strings.EqualFold(name, s) {
				return variant.check(path, m)
			}
		}
		names := make([]string, 0, len(f.variants))
		for n := range f.variants {
			names = append(names, n)
		}
		slices.Sort(names)
		p := path + "." + f.discriminator
		return nil, arm.InvalidContent(p, "Error converting value %s to type '%s': the allowed values are '%s'. Path '%s'.",
			strconv.Quote(s), f.discType, strings.Join(names, "', '"), p)
	}
	return v, nil
}

// checkArmID checks that s is a resource ID, of resourceType when set.
func checkArmID(path, s, resourceType string) error {
	id, err := resourceid.Parse(s)
	valid := err == nil && id.SubscriptionID() != "" && id.Len() >= 2
	if valid && resourceType != "" && !strings.EqualFold(id.ResourceType(), resourceType) {
		return arm.InvalidContent(path, "The value '%s' of '%s' is not a resource ID of type '%s'.", s, path, resourceType)
	}
	if !valid {
		if resourceType != "" {
			return arm.InvalidContent(path, "The value '%s' of '%s' is not a valid resource ID; expected '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/%s/{name}'.",
				s, path, resourceType)
		}
		return arm.InvalidContent(path, "The value '%s' of '%s' is not a valid resource ID; expected a fully qualified ID that starts with '/subscriptions/{subscriptionId}'.", s, path)
	}
	return nil
}

// gate refuses members of v that f does not know, or that the api-version
// apiVersion does not have yet (it "could not find" them either). Read-only
// members pass: check drops them. apiVersion "" knows every member.
func (f *field) gate(path string, v any, apiVersion, typeName string) error {
	switch f.kind {
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil // check reports the type
		}
		if typeName == "" {
			typeName = f.typeName
		}
		for k, mv := range m {
			name, mf, ok := f.member(k)
			if !ok && f.open {
				continue
			}
			if !ok {
				return arm.UnknownMember(path, k, typeName)
			}
			if mf.missingAt(apiVersion) {
				return mf.unknownMember(path, k, typeName, apiVersion)
			}
			if mf.readOnly || !container(mv) {
				continue // gate has nothing to say of a scalar
			}
			if err := mf.gate(path+"."+name, mv, apiVersion, ""); err != nil {
				return err
			}
		}
	case kArray:
		if a, ok := v.([]any); ok {
			for i, ev := range a {
				if err := f.elem.gate(fmt.Sprintf("%s[%d]", path, i), ev, apiVersion, ""); err != nil {
					return err
				}
			}
		}
	case kMap:
		if m, ok := v.(map[string]any); ok {
			for k, ev := range m {
				if !container(ev) {
					continue
				}
				if err := f.elem.gate(path+"."+k, ev, apiVersion, ""); err != nil {
					return err
				}
			}
		}
	case kUnion:
		if m, ok := v.(map[string]any); ok {
			if variant := f.variantOf(m); variant != nil {
				return variant.gate(path, m, apiVersion, "")
			}
		}
	}
	return nil
}

// container reports whether v is a JSON object or array, the values gate
// descends into.
func container(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// carryOver copies into desired the members of old that the api-version
// of a PUT does not have: a client cannot send what its version lacks, so
// a PUT with an older api-version keeps them. It descends into objects
// present on both sides, and into the variant of a union both sides are of.
func (f *field) carryOver(desired, old map[string]any, apiVersion string) {
	if f.kind == kUnion {
		// Only within the variant both sides have.
		if variant := f.variantOf(desired); variant != nil && variant == f.variantOf(old) {
			variant.carryOver(desired, old, apiVersion)
		}
		return
	}
	for name, mf := range f.fields {
		if mf.readOnly {
			continue
		}
		ov, had := old[name]
		if !had {
			continue
		}
		if mf.missingAt(apiVersion) {
			desired[name] = engine.DeepCopy(ov)
			continue
		}
		if mf.kind == kObject || mf.kind == kUnion {
			dm, ok1 := desired[name].(map[string]any)
			om, ok2 := ov.(map[string]any)
			if ok1 && ok2 {
				mf.carryOver(dm, om, apiVersion)
			}
		}
	}
}

// project removes from v, a rendered value of f's shape, what api-version
// apiVersion does not have: members newer than the version or absent from
// its overlay and, in the exact objects of an overlay, every member the
// version's model lacks.
func (f *field) project(v any, apiVersion string) {
	f.prune(v, func(obj, mf *field) bool {
		if mf == nil {
			return obj.exact
		}
		return mf.missingAt(apiVersion)
	})
}

// dropVersionOnly removes from v, a checked value of f's shape, the
// members only f's api-version has (see field.versionOnly).
func (f *field) dropVersionOnly(v any) {
	f.prune(v, func(_, mf *field) bool { return mf != nil && mf.versionOnly })
}

// prune deletes from v, a value of f's shape, each object member for
// which drop(the object's schema, the member's schema or nil when the
// object has no such member) is true, and descends into the members it
// keeps: objects, union variants, arrays and maps.
func (f *field) prune(v any, drop func(obj, mf *field) bool) {
	switch f.kind {
	case kObject:
		body, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, mv := range body {
			_, mf, ok := f.member(k)
			if !ok {
				mf = nil
			}
			if drop(f, mf) {
				delete(body, k)
			} else if mf != nil {
				mf.prune(mv, drop)
			}
		}
	case kUnion:
		if body, ok := v.(map[string]any); ok {
			if variant := f.variantOf(body); variant != nil {
				variant.prune(body, drop)
			}
		}
	case kArray:
		if a, ok := v.([]any); ok {
			for _, ev := range a {
				f.elem.prune(ev, drop)
			}
		}
	case kMap:
		if m, ok := v.(map[string]any); ok {
			for _, ev := range m {
				f.elem.prune(ev, drop)
			}
		}
	}
}

// variantOf returns the variant of union f that body's discriminator
// names (ignoring case), or nil.
func (f *field) variantOf(body map[string]any) *field {
	for k, dv := range body {
		s, ok := dv.(string)
		if !ok || !strings.EqualFold(k, f.discriminator) {
			continue
		}
		for name, variant := range f.variants {
			if strings.EqualFold(name, s) {
				return variant
			}
		}
	}
	return nil
}

// sameValue compares two normalised values; resource IDs compare
// ignoring case, as ARM does.
func sameValue(f *field, a, b any) bool {
	if f != nil && f.kind == kArmID {
		as, _ := a.(string)
		bs, _ := b.(string)
		return strings.EqualFold(as, bs)
	}
	return reflect.DeepEqual(a, b)
}

// checkBody decodes a request body and checks it against the object
// schema f: 400 InvalidRequestContent for one that is not JSON or does
// not fit; the object (nil for a JSON null).
func (f *field) checkBody(raw []byte) (map[string]any, error) {
	v, err := decode(raw)
	if err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: '%s'.", err)
	}
	n, err := f.check("body", v)
	if err != nil {
		return nil, err
	}
	m, _ := n.(map[string]any)
	return m, nil
}
