package machinelearning

import (
	"slices"
	"strings"
	"sync"
)

//go:generate /usr/bin/python3 gen/sdkmodels.py -o sdkmodels_gen.go
//go:generate gofmt -w sdkmodels_gen.go
//go:generate go mod download github.com/hashicorp/go-azure-sdk/resource-manager@v0.20260811.1225050 github.com/hashicorp/go-azure-sdk/resource-manager@v0.20250131.1134653
//go:generate go run ./gen/gosdkmodels -o gosdkmodels_gen.go

// Shapes per api-version.
//
// The hand-written schemas (workspace_schema.go, computes_schema.go,
// jobs_schema.go, ...) describe each type's properties at the newest
// api-versions, and each member newer than an api-version carries the
// version that introduced it (field.since). At ten api-versions armlet
// knows each version's members exactly, from two sources, each version
// from one:
//   - the REST models azure-ai-ml 1.4.0's generated clients carry, of the
//     versions it calls: 2022-01-01-preview, 2022-02-01-preview,
//     2022-05-01, 2022-10-01 and 2022-10-01-preview, which gen/sdkmodels.py
//     writes into sdkmodels_gen.go (sdkResourceTable, sdkModelTable,
//     sdkEnumTable);
//   - hashicorp/go-azure-sdk's generated Go packages of 2024-04-01,
//     2024-10-01, 2024-10-01-preview, 2025-06-01 and 2025-09-01, which
//     gen/gosdkmodels writes into gosdkmodels_gen.go (goSDKResourceTable,
//     goSDKModelTable, goSDKEnumTable; go-azure-sdk marks no member
//     read-only, so at those versions read-only comes from the
//     hand-written schema alone).
// Both are loaded into sdkAPIs. At those versions a type's schema is its
// hand-written one overlaid with the version's model, member by member
// (overlayer): a member both have keeps the hand-written checks (enums,
// resource ID types, read-only, required); a member only the version has
// is checked with the type the model gives (versionOnly); a member only
// the hand-written schema has is absent at that version, unless its since
// says the version has it (the models are snapshots, some taken before the
// version was final, and go-azure-sdk's sometimes lack a member the
// published spec has); a union keeps the variants the version has.
// Members are paired by JSON name from the properties of the resource's
// PUT model down, so the SDKs' own class names (OnlineEndpointData,
// OnlineEndpointDetails) never need mapping to the REST spec's.

// sdkAPIs are the api-versions armlet has the REST models of, read from
// the generated tables once.
var sdkAPIs = loadSDKAPIs()

// sdkResourceEntry is a resource type as the api-versions that have it
// share it.
type sdkResourceEntry struct {
	typ      string
	versions []string
	resource sdkResource
}

// sdkModelEntry is a model as the api-versions that have it share it.
type sdkModelEntry struct {
	name     string
	versions []string
	model    *sdkModel
}

// sdkEnumEntry is an enum as the api-versions that have it share it.
type sdkEnumEntry struct {
	name     string
	versions []string
	values   []string
}

// loadSDKAPIs indexes the generated tables of both sources by
// api-version: the Python SDK's (sdkmodels_gen.go) and go-azure-sdk's
// (gosdkmodels_gen.go). Each api-version comes from one source only.
func loadSDKAPIs() map[string]*sdkAPI {
	apis := map[string]*sdkAPI{}
	for _, src := range []struct {
		resources []sdkResourceEntry
		models    []sdkModelEntry
		enums     []sdkEnumEntry
	}{
		{sdkResourceTable, sdkModelTable, sdkEnumTable},
		{goSDKResourceTable, goSDKModelTable, goSDKEnumTable},
	} {
		own := map[string]*sdkAPI{}
		for _, r := range src.resources {
			for _, v := range r.versions {
				if own[v] == nil {
					if apis[v] != nil {
						panic("machinelearning: api-version " + v + " in both generated tables")
					}
					own[v] = &sdkAPI{resources: map[string]sdkResource{}, models: map[string]*sdkModel{}, enums: map[string][]string{}}
				}
				own[v].resources[strings.ToLower(r.typ)] = r.resource
			}
		}
		for _, m := range src.models {
			for _, v := range m.versions {
				own[v].models[m.name] = m.model
			}
		}
		for _, e := range src.enums {
			for _, v := range e.versions {
				own[v].enums[e.name] = e.values
			}
		}
		for v, a := range own {
			apis[v] = a
		}
	}
	return apis
}

// sdkAPI is one api-version of an SDK's generated REST models.
type sdkAPI struct {
	// resources are the types the version serves, by full type name in
	// lower case (go-azure-sdk spells some segments its own way:
	// workspaces/dataStores); look them up with resource.
	resources map[string]sdkResource
	// models are the models reachable from the resources' bodies.
	models map[string]*sdkModel
	// enums are the values of the enums the models' members use.
	enums map[string][]string
}

// sdkResource names the models of a type's bodies: the GET response, the
// PUT body and the PATCH body ("" when the client has no such call).
type sdkResource struct {
	get, put, patch string
}

// sdkModel is a REST model: its members and, for a polymorphic one, the
// member whose value selects the subtype.
type sdkModel struct {
	// open models take members beyond those listed (additional
	// properties).
	open          bool
	discriminator string
	subtypes      map[string]string // discriminator value -> model
	members       []sdkMember
}

// sdkMember is one member of a model. typ is msrest's type: a primitive
// (str, bool, int, long, float, object, iso-8601, duration, date), a model
// name, "[T]" for an array or "{T}" for a map of T.
type sdkMember struct {
	name, typ, enum    string
	required, readOnly bool
}

// shapes is a resource type's properties schema at each api-version: the
// hand-written schema and its overlays at the SDK's api-versions.
type shapes struct {
	base      *field
	byVersion map[string]*field
	// upgrade, when set, carries the version-only members a request at
	// apiVersion sent (props is the checked properties) over to the
	// members that replaced them, before they are dropped.
	upgrade func(props map[string]any, apiVersion string)
	// downgrade, when set, derives the version-only members of a
	// response at apiVersion from the stored properties.
	downgrade func(props map[string]any, apiVersion string)
}

// newShapes overlays base, resourceType's properties schema, with the
// models of every SDK api-version that serves resourceType.
//
// The overlays are made once per process and shared by every engine (they
// are never changed once made): making them is most of what Register
// costs.
func newShapes(resourceType string, base *field) *shapes {
	key := shapesKey{resourceType, base}
	byVersion, ok := overlays.Load(key)
	if !ok {
		made := map[string]*field{}
		for v, api := range sdkAPIs {
			typ, ok := api.propertiesType(resourceType)
			if !ok {
				continue
			}
			o := &overlayer{api: api, version: v, merged: map[overlayKey]*field{}, made: map[string]*field{}}
			made[v] = o.overlay(base, typ)
		}
		byVersion, _ = overlays.LoadOrStore(key, made)
	}
	return &shapes{base: base, byVersion: byVersion.(map[string]*field)}
}

// overlays caches newShapes' overlays by type and hand-written schema.
var overlays sync.Map // shapesKey → map[string]*field

type shapesKey struct {
	resourceType string
	base         *field
}

// at returns the schema at apiVersion and whether it is the version's own
// (an overlay) rather than the hand-written one.
func (s *shapes) at(apiVersion string) (*field, bool) {
	for v, f := range s.byVersion {
		if strings.EqualFold(v, apiVersion) {
			return f, true
		}
	}
	return s.base, false
}

// gateVersion is the api-version whose members a request at apiVersion
// may send: every member for a preview version armlet has no model of
// (isPreview), apiVersion otherwise.
func (s *shapes) gateVersion(apiVersion string) string {
	if _, exact := s.at(apiVersion); !exact && isPreview(apiVersion) {
		return ""
	}
	return apiVersion
}

// render drops from a response body at apiVersion the properties the
// version does not have and adds those only it has (downgrade).
func (s *shapes) render(body map[string]any, apiVersion string) {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return
	}
	if s.downgrade != nil {
		s.downgrade(props, apiVersion)
	}
	if v := s.gateVersion(apiVersion); v != "" {
		f, _ := s.at(apiVersion)
		f.project(props, v)
	}
}

// has reports whether props, properties of the type, have a member name at
// apiVersion (in the variant props are of, for a union).
func (s *shapes) has(apiVersion string, props map[string]any, name string) bool {
	f, _ := s.at(apiVersion)
	if f.kind == kUnion {
		if f = f.variantOf(props); f == nil {
			return false
		}
	}
	_, mf, ok := f.member(name)
	return ok && !mf.missingAt(apiVersion)
}

// resource is resourceType's models, ignoring case as ARM does.
func (a *sdkAPI) resource(resourceType string) (sdkResource, bool) {
	r, ok := a.resources[strings.ToLower(resourceType)]
	return r, ok
}

// propertiesType is the model of the properties member of resourceType's
// PUT body (its GET response when the client has no PUT).
func (a *sdkAPI) propertiesType(resourceType string) (string, bool) {
	r, ok := a.resource(resourceType)
	if !ok {
		return "", false
	}
	root := r.put
	if root == "" {
		root = r.get
	}
	m := a.models[root]
	if m == nil {
		return "", false
	}
	for _, mb := range m.members {
		if mb.name == "properties" {
			return mb.typ, true
		}
	}
	return "", false
}

// apiVersionsOf returns the api-versions resourceType accepts, newest
// first: the stable ones, less those whose SDK model shows the type does
// not exist at that version (schedules are newer than 2022-05-01), and the
// previews of PreviewAPIVersions: those whose SDK model has the type, and
// those armlet has no model of dated on or after the type's oldest stable
// version (all of them for a type as old as the namespace). Each preview
// comes after the stable version of its date.
//
// Choice: a preview armlet has no model of is accepted (Azure serves them
// all, and newer azure-ai-ml releases call them) and checked against
// armlet's schema with every member allowed (shapes.gateVersion); a preview
// older than the type's first stable version is refused, because whether
// the type existed at it is unknown.
func apiVersionsOf(resourceType string, stable []string) []string {
	var out []string
	oldest := ""
	for _, v := range stable {
		if api, ok := sdkAPIs[v]; ok {
			if _, has := api.resource(resourceType); !has {
				continue
			}
		}
		out = append(out, v)
		if oldest == "" || versionDate(v) < oldest {
			oldest = versionDate(v)
		}
	}
	if oldest == versionDate(APIVersions[len(APIVersions)-1]) {
		oldest = "" // as old as the namespace: every preview
	}
	for _, v := range PreviewAPIVersions {
		if api, ok := sdkAPIs[v]; ok {
			if _, has := api.resource(resourceType); !has {
				continue
			}
		} else if len(out) == 0 || versionDate(v) < oldest {
			continue
		}
		out = append(out, v)
	}
	sortAPIVersions(out)
	return out
}

// sortAPIVersions sorts api-versions newest date first; on one date the
// stable version first.
func sortAPIVersions(out []string) {
	slices.SortStableFunc(out, func(a, b string) int {
		if c := strings.Compare(versionDate(b), versionDate(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

// overlayer overlays hand-written schemas with the models of one
// api-version.
type overlayer struct {
	api     *sdkAPI
	version string
	merged  map[overlayKey]*field // overlays made, so shared and recursive schemas stay so
	made    map[string]*field     // schemas made from models alone, by model (and "#object")
}

type overlayKey struct {
	f   *field
	typ string
}

// primitiveKinds are the hand-written kinds each msrest primitive type
// pairs with.
var primitiveKinds = map[string][]kind{
	"str":      {kString, kEnum, kArmID},
	"iso-8601": {kString},
	"duration": {kString},
	"date":     {kString},
	"bool":     {kBool},
	"int":      {kInt, kNumber},
	"long":     {kInt, kNumber},
	"float":    {kNumber},
}

// overlay returns f, a hand-written schema, as it is at the overlayer's
// version, whose model gives the member the type typ. A nil f, or one
// whose kind does not fit typ (the member changed type between versions),
// gives the schema the model alone describes.
func (o *overlayer) overlay(f *field, typ string) *field {
	if f == nil {
		return o.fromType(typ, "")
	}
	if f.kind == kAny || typ == "object" {
		// Free-form on one side: the hand-written check (or none) stands.
		return present(f)
	}
	key := overlayKey{f, typ}
	if m, ok := o.merged[key]; ok {
		return m
	}
	var c *field
	switch {
	case strings.HasPrefix(typ, "["), strings.HasPrefix(typ, "{"):
		want := kArray
		if typ[0] == '{' {
			want = kMap
		}
		if f.kind != want {
			return o.fromType(typ, "")
		}
		c = present(f)
		if c == f {
			cc := *f
			c = &cc
		}
		o.merged[key] = c
		c.elem = o.overlay(f.elem, typ[1:len(typ)-1])
		return c
	case primitiveKinds[typ] != nil:
		if !slices.Contains(primitiveKinds[typ], f.kind) {
			return o.fromType(typ, "")
		}
		return present(f)
	}
	m := o.api.models[typ]
	switch {
	case m == nil:
		return present(f)
	case f.kind == kUnion && m.discriminator != "":
		c = &field{kind: kUnion, typeName: f.typeName, discriminator: f.discriminator, discType: f.discType,
			readOnly: f.readOnly, variants: map[string]*field{}, aliases: f.aliases}
		o.merged[key] = c
		for value, sub := range m.subtypes {
			name, hv := value, (*field)(nil)
			for n, v := range f.variants {
				if strings.EqualFold(n, value) {
					name, hv = n, v
				}
			}
			if hv != nil {
				c.variants[name] = o.overlay(hv, sub)
			} else {
				c.variants[name] = o.fromObject(sub)
			}
		}
		// A hand-written variant of a value the discriminator's enum
		// has but no subtype does is the base model itself (the
		// service reads an unknown subtype as the base):
		// OnlineDeployment's AzureMLCompute.
		values := o.api.enums[m.enumOf(m.discriminator)]
		for n, hv := range f.variants {
			if _, done := c.variants[n]; done || hv.kind != kObject || !slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, n) }) {
				continue
			}
			if _, ok := m.subtypeOf(n); ok {
				continue
			}
			b := &field{kind: kObject, typeName: hv.typeName, readOnly: hv.readOnly, exact: true, fields: map[string]*field{}}
			o.overlayObject(b, hv, m)
			c.variants[n] = b
		}
		return c
	case f.kind == kUnion && len(f.variants) == 1:
		// A union of one variant (DatastoreSecrets as one credentials
		// type takes it) where the model is an object, that variant's
		// own (AccountKeyDatastoreSecrets): the variant is the model.
		c = &field{kind: kUnion, typeName: f.typeName, discriminator: f.discriminator, discType: f.discType,
			readOnly: f.readOnly, variants: map[string]*field{}}
		o.merged[key] = c
		for n, hv := range f.variants {
			c.variants[n] = o.overlay(hv, typ)
		}
		return c
	case f.kind == kObject && m.discriminator == "":
		c = &field{kind: kObject, typeName: f.typeName, readOnly: f.readOnly, open: m.open, exact: !m.open, fields: map[string]*field{}}
		o.merged[key] = c
		o.overlayObject(c, f, m)
		return c
	case f.kind == kObject:
		// go-azure-sdk types some members with their union's base where
		// the REST spec names one subtype (CommandJob.limits is
		// JobLimits, the spec's CommandJobLimits): a hand-written object
		// whose discriminator member takes one value is that subtype.
		if _, df, ok := f.member(m.discriminator); ok && df.kind == kEnum && len(df.enum) == 1 {
			if sub, ok := m.subtypeOf(df.enum[0]); ok {
				c = o.overlay(f, sub)
				o.merged[key] = c
				return c
			}
		}
	}
	return o.fromType(typ, "")
}

// enumOf is the enum of member name ("" when it has none).
func (m *sdkModel) enumOf(name string) string {
	for _, mb := range m.members {
		if mb.name == name {
			return mb.enum
		}
	}
	return ""
}

// subtypeOf is the subtype of discriminator value v, matched ignoring
// case.
func (m *sdkModel) subtypeOf(v string) (string, bool) {
	for value, sub := range m.subtypes {
		if strings.EqualFold(value, v) {
			return sub, true
		}
	}
	return "", false
}

// overlayObject fills c with the members of model m, each overlaying f's
// member of that name when f has one, and f's other members marked
// absent, but those whose since says the version has them: the SDK's
// models are snapshots of the REST spec taken before some versions were
// final (its 2022-05-01 Workspace lacks v1LegacyMode, which the published
// 2022-05-01 spec has).
func (o *overlayer) overlayObject(c, f *field, m *sdkModel) {
	seen := map[string]bool{}
	for _, mb := range m.members {
		name, hf, ok := f.member(mb.name)
		if ok {
			c.fields[name] = o.overlay(hf, mb.typ)
			if slices.Contains(f.required, name) {
				c.required = append(c.required, name)
			}
		} else {
			name = mb.name
			c.fields[name] = o.fromMember(mb)
			// What an open hand-written object keeps as sent is not
			// version-only: the newest shape takes it too.
			c.fields[name].versionOnly = !f.open
			if mb.required && !mb.readOnly {
				c.required = append(c.required, name)
			}
		}
		seen[name] = true
	}
	for name, hf := range f.fields {
		switch {
		case seen[name]:
		case hf.since != "" && atLeast(o.version, hf.since):
			c.fields[name] = present(hf)
		default:
			a := *hf
			a.absent = true
			c.fields[name] = &a
		}
	}
}

// present returns f as a member the version has: without since or absent.
func present(f *field) *field {
	if f.since == "" && !f.absent {
		return f
	}
	c := *f
	c.since, c.absent = "", false
	return &c
}

// fromMember is the schema of a member only the model describes.
func (o *overlayer) fromMember(mb sdkMember) *field {
	f := o.fromType(mb.typ, mb.enum)
	c := *f
	c.readOnly = mb.readOnly
	return &c
}

// fromType is the schema of msrest type typ (enum names the enum of a
// str).
func (o *overlayer) fromType(typ, enumName string) *field {
	switch typ {
	case "str":
		if values := o.api.enums[enumName]; len(values) > 0 {
			return enum(dotNetName(enumName), values...)
		}
		return str()
	case "iso-8601", "duration", "date", "rfc-1123":
		return str()
	case "bool":
		return boolean()
	case "int":
		return integer()
	case "long", "float", "unix-time":
		return number()
	case "object", "bytearray":
		return anyJSON()
	}
	switch typ[0] {
	case '[':
		return arrayOf(o.fromType(typ[1:len(typ)-1], ""))
	case '{':
		return mapOf(o.fromType(typ[1:len(typ)-1], ""))
	}
	m := o.api.models[typ]
	if m == nil || m.discriminator == "" {
		return o.fromObject(typ)
	}
	if u, ok := o.made[typ]; ok {
		return u
	}
	u := &field{kind: kUnion, typeName: dotNetName(typ), discriminator: m.discriminator, variants: map[string]*field{}}
	o.made[typ] = u
	for _, mb := range m.members {
		if mb.name == m.discriminator {
			u.discType = dotNetName(mb.enum)
		}
	}
	for value, sub := range m.subtypes {
		u.variants[value] = o.fromObject(sub)
	}
	return u
}

// fromObject is the object schema of model name, its members only.
func (o *overlayer) fromObject(name string) *field {
	if f, ok := o.made[name+"#object"]; ok {
		return f
	}
	f := &field{kind: kObject, typeName: dotNetName(name), fields: map[string]*field{}}
	o.made[name+"#object"] = f
	m := o.api.models[name]
	if m == nil || m.open {
		f.open = true
	}
	if m == nil {
		return f
	}
	f.exact = !f.open
	for _, mb := range m.members {
		f.fields[mb.name] = o.fromMember(mb)
		if mb.required && !mb.readOnly {
			f.required = append(f.required, mb.name)
		}
	}
	return f
}

// dotNetName is the type name messages show for a model or enum of the
// tables: gosdkmodels qualifies a name two go-azure-sdk packages of one
// api-version use differently with its package ("serverlessendpoint.X"),
// which Azure's messages do not show.
func dotNetName(name string) string {
	return name[strings.LastIndexByte(name, '.')+1:]
}
