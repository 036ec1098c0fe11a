package engine

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/jsonbody"
	"github.com/armlet/armlet/internal/arm/resourceid"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// envelopeMembers are the top-level members ARM's resource definition has.
// Anything else in a PUT body is refused, as ARM's own template validation
// does ("Could not find member ..."). Read-only members are accepted and
// ignored, so a GET-modify-PUT round trip works. The kept members other
// than location, tags and properties are type-checked by envelopeShapes.
var envelopeMembers = map[string]bool{
	"id": false, "name": false, "type": false, "systemData": false, "etag": false,
	"location": true, "tags": true, "kind": true, "properties": true,
	"sku": true, "identity": true, "managedBy": true, "zones": true, "plan": true,
	"extendedLocation": true, "scale": true,
}

// Tag limits of ARM (arm-conventions.md 4.2).
const (
	maxTags         = 50
	maxTagNameLen   = 512
	maxTagValueLen  = 256
	tagNameBadChars = `<>%&\?/`
)

// generic name rules of ARM for resources without their own pattern.
const nameBadChars = `<>%&:\?/`

func checkName(t *Type, name string) error {
	if t.NamePattern != nil {
		if !t.NamePattern.MatchString(name) {
			return arm.BadRequest(arm.CodeInvalidResourceName,
				"Resource name '%s' is invalid. %s", name, t.NameRule).WithTarget("name")
		}
		return nil
	}
	if utf8.RuneCountInString(name) > 260 || strings.ContainsAny(name, nameBadChars) ||
		strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return arm.BadRequest(arm.CodeInvalidResourceName,
			"The resource name '%s' is invalid. It must be at most 260 characters, must not end with '.' or a space and must not contain any of '%s'.", name, nameBadChars).WithTarget("name")
	}
	return nil
}

// fromBody checks the envelope of a PUT body (or a PATCH merged into the
// stored resource) and builds the resource to store.
func (e *Engine) fromBody(t *Type, id resourceid.ID, body map[string]any, old *Resource) (*Resource, error) {
	r := &Resource{ID: id, Type: t.Name}
	for k, v := range body {
		keep, known := envelopeMembers[k]
		if !known {
			return nil, arm.InvalidContent(k, "Could not find member '%s' on object of type 'ResourceDefinition'. Path '%s'.", k, k)
		}
		if !keep || v == nil {
			continue
		}
		switch k {
		case "location":
			s, ok := v.(string)
			if !ok {
				return nil, arm.InvalidContent("location", "The value of 'location' must be a string.")
			}
			r.Location = s
		case "tags":
			tags, err := parseTags(v)
			if err != nil {
				return nil, err
			}
			r.Tags = tags
		case "properties":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, arm.InvalidContent("properties", "The value of 'properties' must be a JSON object.")
			}
			r.Properties = m
		default:
			nv, err := checkShape(envelopeShapes[k], k, v)
			if err != nil {
				return nil, err
			}
			if k == "kind" {
				r.Kind = nv.(string)
				continue
			}
			if r.Extra == nil {
				r.Extra = map[string]json.RawMessage{}
			}
			r.Extra[k] = rawJSON(nv)
		}
	}
	if r.Properties == nil {
		r.Properties = map[string]any{}
	}
	if err := e.checkLocation(t, r, old); err != nil {
		return nil, err
	}
	return r, nil
}

func parseTags(v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, arm.InvalidContent("tags", "The value of 'tags' must be a JSON object of strings.")
	}
	if len(m) > maxTags {
		return nil, arm.BadRequest("InvalidTagsCount", "The number of tags %d exceeds the maximum of %d tags per resource.", len(m), maxTags).WithTarget("tags")
	}
	tags := make(map[string]string, len(m))
	for k, raw := range m {
		s, ok := raw.(string)
		if !ok {
			return nil, arm.InvalidContent("tags."+k, "The value of tag '%s' must be a string.", k)
		}
		switch {
		case k == "" || utf8.RuneCountInString(k) > maxTagNameLen:
			return nil, arm.BadRequest("InvalidTagNameLength", "The tag name '%s' must be between 1 and %d characters.", k, maxTagNameLen).WithTarget("tags")
		case strings.ContainsAny(k, tagNameBadChars):
			return nil, arm.BadRequest("InvalidTagNameCharacters", "The tag name '%s' has invalid characters; tag names must not contain any of '%s'.", k, tagNameBadChars).WithTarget("tags")
		case utf8.RuneCountInString(s) > maxTagValueLen:
			return nil, arm.BadRequest("InvalidTagValueLength", "The value of tag '%s' exceeds the maximum length of %d characters.", k, maxTagValueLen).WithTarget("tags")
		}
		tags[k] = s
	}
	return tags, nil
}

// NormalizeLocation turns "East US" into "eastus", the form ARM returns.
func NormalizeLocation(loc string) string {
	return strings.ToLower(strings.ReplaceAll(loc, " ", ""))
}

func (e *Engine) checkLocation(t *Type, r *Resource, old *Resource) error {
	if r.Location == "" {
		if t.Tracked {
			if old != nil {
				r.Location = old.Location
				return nil
			}
			return arm.BadRequest(arm.CodeLocationRequired, "The location property is required for this definition.").WithTarget("location")
		}
		return nil
	}
	norm := NormalizeLocation(r.Location)
	if old != nil && old.Location != "" && norm != old.Location {
		if t.Name == TypeResourceGroups {
			return arm.Conflict("InvalidResourceGroupLocation",
				"Invalid resource group location '%s'. The Resource group already exists in location '%s'.", r.Location, old.Location)
		}
		return arm.Conflict("InvalidResourceLocation",
			"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
			r.ID.Name(), old.Location, r.ID.ResourceGroupName(), norm)
	}
	if t.Tracked {
		locs := e.locationsOf(t)
		found := false
		for _, l := range locs {
			if NormalizeLocation(l) == norm {
				found = true
				break
			}
		}
		if !found {
			list := make([]string, len(locs))
			for i, l := range locs {
				list[i] = NormalizeLocation(l)
			}
			if t.Name == TypeResourceGroups {
				return arm.BadRequest("LocationNotAvailableForResourceGroup",
					"The provided location '%s' is not available for resource group. List of available regions is '%s'.", r.Location, strings.Join(list, ",")).WithTarget("location")
			}
			return arm.BadRequest(arm.CodeInvalidLocation,
				"The provided location '%s' is not available for resource type '%s'. List of available regions for the resource type is '%s'.", r.Location, t.Name, strings.Join(list, ",")).WithTarget("location")
		}
	}
	r.Location = norm
	return nil
}

// mergeForPatch applies an ARM PATCH body to the stored resource: tags
// replace the whole tag set, properties and the other members merge as
// JSON merge patch (RFC 7396). The result is a PUT-shaped body.
func mergeForPatch(old *Resource, t *Type, patch map[string]any) (map[string]any, error) {
	doc := map[string]any{}
	if old.Location != "" {
		doc["location"] = old.Location
	}
	if old.Tags != nil {
		tags := make(map[string]any, len(old.Tags))
		for k, v := range old.Tags {
			tags[k] = v
		}
		doc["tags"] = tags
	}
	if old.Kind != "" {
		doc["kind"] = old.Kind
	}
	doc["properties"] = deepCopyMap(old.Properties)
	for k, raw := range old.Extra {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil {
			doc[k] = v
		}
	}
	for k, v := range patch {
		if _, known := envelopeMembers[k]; !known {
			return nil, arm.InvalidContent(k, "Could not find member '%s' on object of type 'ResourceDefinition'. Path '%s'.", k, k)
		}
		if k == "tags" {
			doc[k] = v
			continue
		}
		doc[k] = MergePatch(doc[k], v)
	}
	return doc, nil
}

// MergePatch applies an RFC 7396 JSON merge patch to target and returns
// the result. target is modified when it is an object.
//
// Member names match ignoring case (strings.EqualFold), as ARM's readers
// and armlet's match them: a patch member replaces, merges into or
// removes every spelling of its name in target, and the result keeps the
// patch's spelling. Matching exactly, as RFC 7396 does, would leave a
// stored "publicNetworkAccess" beside a patched "PublicNetworkAccess" in
// one document, which Azure Policy and the provider then read
// differently. The patch must hold one spelling per name in each object,
// as every body past the front door does (jsonbody.Check); otherwise the
// result depends on the order of its members.
func MergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok || t == nil {
		t = map[string]any{}
	}
	// Large targets are indexed by folded name once, so that a patch of
	// many members costs no more than a scan per member.
	var index map[string][]string
	if len(t) > 16 && len(p) > 1 {
		index = make(map[string][]string, len(t))
		for k := range t {
			fk := jsonbody.FoldKey(k)
			index[fk] = append(index[fk], k)
		}
	}
	for k, v := range p {
		cur, had := t[k]
		for _, o := range otherSpellings(t, k, index) {
			if !had {
				cur, had = t[o], true
			}
			delete(t, o)
		}
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = MergePatch(cur, v)
	}
	return t
}

// otherSpellings returns the members of t other than k whose names equal
// k ignoring case, sorted (so that which one a merge starts from does not
// depend on map order); index, when set, holds t's names by FoldKey.
func otherSpellings(t map[string]any, k string, index map[string][]string) []string {
	var out []string
	if index != nil {
		for _, o := range index[jsonbody.FoldKey(k)] {
			if _, ok := t[o]; ok && o != k {
				out = append(out, o)
			}
		}
	} else {
		for o := range t {
			if o != k && strings.EqualFold(o, k) {
				out = append(out, o)
			}
		}
	}
	slices.Sort(out)
	return out
}
