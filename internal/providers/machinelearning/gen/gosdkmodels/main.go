// Command gosdkmodels writes gosdkmodels_gen.go: the request and response
// shapes of api-versions of Microsoft.MachineLearningServices, read from
// hashicorp/go-azure-sdk's generated Go packages
// (resource-manager/machinelearningservices/<api-version>/<package>), in
// the table format of sdkmodels_gen.go (sdkResourceEntry, sdkModelEntry,
// sdkEnumEntry) under the names goSDKResourceTable, goSDKModelTable and
// goSDKEnumTable.
//
// For every api-version it records
//   - the resource types of Microsoft.MachineLearningServices/workspaces
//     and below that its packages serve, each with the model of its GET
//     response, PUT body and PATCH body: a client method whose
//     client.RequestOptions have Path id.ID() (not a list or an action) and
//     HttpMethod Get, Put or Patch; the type comes from the id type's
//     Segments() (id_*.go), the model from the response's Model field
//     (GET) or the input parameter (PUT, PATCH; none when the input is a
//     free-form interface{}). Where two packages serve one type
//     (operationalizationclusters repeats machinelearningcomputes) their
//     models must be the same;
//   - every model reachable from those, member by member, from the
//     structs' json tags: JSON name; type, mapped to msrest's type strings
//     (string "str", bool "bool", int64 "long", float64 "float",
//     interface{} and json.RawMessage "object", map[string]T "{T}", []T
//     "[T]", a struct its model name, a string type with
//     PossibleValuesForX "str" with that enum, a *string with a
//     GetXAsTime helper "iso-8601"; for a union's base, when a subtype's
//     field has one); required when the tag has no omitempty, but for a
//     member of a union type, which go-azure-sdk never tags omitempty
//     (so never required). A discriminated union (an interface with
//     BaseXImpl and UnmarshalXImplementation) is the model X with
//     BaseXImpl's members, the discriminator member
//     UnmarshalXImplementation reads (temp["..."]) and the subtypes it
//     switches to (strings.EqualFold(value, "V") ... var out S).
//     go-azure-sdk's models nest properties as the wire does, so nothing
//     is flattened;
//   - the values of the enums those members use (PossibleValuesForX and
//     the constants it lists).
//
// Choices:
//   - go-azure-sdk does not mark read-only members: every member's
//     readOnly is false, and a read-only member that is not required stays
//     optional. Neither does it mark models that take additional
//     properties: none is open.
//   - The common types it imports from go-azure-helpers (identity,
//     systemdata, zones, edgezones, ...) are "object": free-form, so the
//     hand-written schema's checks of identity, systemData and the others
//     stand at these versions (overlayer.overlay).
//   - Model and enum names are per package. When packages of one
//     api-version have different models (or enums) of one name, the one
//     most packages share (the first package's, by name, on a tie) keeps
//     the name and the others are qualified with their package,
//     "package.Name"; the overlay shows the name after the dot in
//     messages.
//   - Only types under workspaces are kept (registries are not), also
//     those armlet does not serve (feature sets, serverless endpoints,
//     ...): the loader indexes them all, and they cost nothing else.
//   - go-azure-sdk spells some type segments its own way
//     (workspaces/dataStores); the table keeps its spelling and the loader
//     matches types ignoring case, as ARM does.
//
// Run through go generate in internal/providers/machinelearning, after
// go mod download of the module versions below: the module directories
// are found under GOMODCACHE (go env GOMODCACHE, or -modcache). The output
// is deterministic and gofmt'd: members in the order of the struct,
// models, enums and resources sorted.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// source is a go-azure-sdk module version and the api-versions taken from
// it.
type source struct {
	module, version string
	apiVersions     []string
}

// sources are where each api-version comes from (one source each).
var sources = []source{
	{"github.com/hashicorp/go-azure-sdk/resource-manager", "v0.20260811.1225050", []string{"2024-04-01", "2025-06-01", "2025-09-01"}},
	{"github.com/hashicorp/go-azure-sdk/resource-manager", "v0.20250131.1134653", []string{"2024-10-01", "2024-10-01-preview"}},
}

const (
	service   = "machinelearningservices"
	namespace = "Microsoft.MachineLearningServices"
)

func main() {
	output := flag.String("o", "gosdkmodels_gen.go", "the file to write")
	modcache := flag.String("modcache", "", "the module cache (default: go env GOMODCACHE)")
	flag.Parse()
	if *modcache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			fail("go env GOMODCACHE: %v", err)
		}
		*modcache = strings.TrimSpace(string(out))
	}
	var apis []*api
	for _, s := range sources {
		root := filepath.Join(*modcache, escapePath(s.module)+"@"+s.version, service)
		for _, v := range s.apiVersions {
			a, err := readVersion(filepath.Join(root, v))
			if err != nil {
				fail("%s %s: %v (run go mod download %s@%s)", v, s.version, err, s.module, s.version)
			}
			a.version = v
			apis = append(apis, a)
		}
	}
	sort.Slice(apis, func(i, j int) bool { return apis[i].version < apis[j].version })
	src, err := format.Source(write(apis))
	if err != nil {
		fail("gofmt: %v", err)
	}
	if err := os.WriteFile(*output, src, 0o644); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gosdkmodels: "+format+"\n", args...)
	os.Exit(1)
}

// escapePath is the module cache's form of a module path: each capital
// letter as "!" and its lower case.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// api is one api-version: its resources, models and enums, by final
// (possibly qualified) name.
type api struct {
	version   string
	resources map[string]resource // ARM type -> models
	models    map[string]*model
	enums     map[string][]string
}

// resource names the models of a type's bodies.
type resource struct{ get, put, patch string }

// model is a REST model as the table writes it.
type model struct {
	discriminator string
	subtypes      map[string]string // discriminator value -> model
	members       []member
}

// member is one member of a model. typ is msrest's type, with the model
// it names (ref) still to be resolved to its final name.
type member struct {
	name               string
	prefix, suffix     string // "[" and "]" and "{" and "}" around ref or prim
	prim               string // a primitive type, or "" for ref
	ref                string // a model of the member's package
	enum               string // an enum of the member's package
	required, readOnly bool
}

// pkg is one go-azure-sdk package of an api-version.
type pkg struct {
	name       string
	structs    map[string]*ast.StructType
	interfaces map[string]bool
	enumOf     map[string][]string // string type -> values
	unions     map[string]*union   // interface -> discriminator and subtypes
	timeFields map[string]bool     // "Struct.Field" with a GetFieldAsTime helper
	ids        map[string]string   // id type -> ARM type ("" when not under workspaces)
	funcs      []*ast.FuncDecl     // methods of the client

	models map[string]*model // reached models, by local name
	enums  map[string]bool   // reached enums
}

type union struct {
	discriminator string
	subtypes      map[string]string
}

// readVersion reads every package of an api-version's directory.
func readVersion(dir string) (*api, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pkgs []*pkg
	// ARM type -> verb -> the packages' models ("pkg\x00model"): some
	// types are served by two packages (operationalizationclusters
	// repeats machinelearningcomputes), which must agree.
	resources := map[string]map[string][]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p, err := readPackage(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
		rs, err := p.resources()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p.name, err)
		}
		for _, typ := range sortedKeys(rs) {
			for verb, m := range rs[typ] {
				if resources[typ] == nil {
					resources[typ] = map[string][]string{}
				}
				resources[typ][verb] = append(resources[typ][verb], p.name+"\x00"+m)
				if err := p.visit(m); err != nil {
					return nil, fmt.Errorf("%s: %v", p.name, err)
				}
			}
		}
	}
	names := resolve(pkgs)
	a := &api{resources: map[string]resource{}, models: map[string]*model{}, enums: map[string][]string{}}
	byName := map[string]*pkg{}
	for _, p := range pkgs {
		byName[p.name] = p
		for local, m := range p.models {
			a.models[names.model(p.name, local)] = names.final(p.name, m)
		}
		for local := range p.enums {
			a.enums[names.enum(p.name, local)] = p.enumOf[local]
		}
	}
	for _, typ := range sortedKeys(resources) {
		var r [3]string
		for i, verb := range []string{"get", "put", "patch"} {
			lit := ""
			for _, ref := range resources[typ][verb] { // in package order
				pn, m, _ := strings.Cut(ref, "\x00")
				name := names.model(pn, m)
				l := modelLiteral(a.models[name])
				if r[i] == "" {
					r[i], lit = name, l
				} else if l != lit {
					return nil, fmt.Errorf("%s %s: packages differ: %s and %s", typ, verb, r[i], name)
				}
			}
		}
		a.resources[typ] = resource{get: r[0], put: r[1], patch: r[2]}
	}
	return a, nil
}

// readPackage parses a package's files (tests aside).
func readPackage(dir string) (*pkg, error) {
	p := &pkg{
		name: filepath.Base(dir), structs: map[string]*ast.StructType{}, interfaces: map[string]bool{},
		enumOf: map[string][]string{}, unions: map[string]*union{}, timeFields: map[string]bool{}, ids: map[string]string{},
		models: map[string]*model{}, enums: map[string]bool{},
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	consts := map[string]string{}
	possible := map[string][]string{} // type -> constant names
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						switch t := s.Type.(type) {
						case *ast.StructType:
							p.structs[s.Name.Name] = t
						case *ast.InterfaceType:
							p.interfaces[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						if d.Tok != token.CONST {
							continue
						}
						for i, name := range s.Names {
							if i < len(s.Values) {
								if lit, ok := s.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
									v, _ := strconv.Unquote(lit.Value)
									consts[name.Name] = v
								}
							}
						}
					}
				}
			case *ast.FuncDecl:
				if err := p.readFunc(d, possible); err != nil {
					return nil, fmt.Errorf("%s: %s: %v", p.name, d.Name.Name, err)
				}
			}
		}
	}
	for typ, names := range possible {
		var values []string
		for _, n := range names {
			v, ok := consts[n]
			if !ok {
				return nil, fmt.Errorf("%s: %s: constant %s unknown", p.name, typ, n)
			}
			values = append(values, v)
		}
		p.enumOf[typ] = values
	}
	return p, nil
}

// readFunc notes what a function tells: enum values, a union's
// discriminator and subtypes, a date-time helper, an id's type, a client
// method.
func (p *pkg) readFunc(d *ast.FuncDecl, possible map[string][]string) error {
	name := d.Name.Name
	if d.Recv == nil {
		switch {
		case strings.HasPrefix(name, "PossibleValuesFor"):
			var names []string
			ast.Inspect(d.Body, func(n ast.Node) bool {
				// string(ConstName)
				if c, ok := n.(*ast.CallExpr); ok && isIdent(c.Fun, "string") && len(c.Args) == 1 {
					if id, ok := c.Args[0].(*ast.Ident); ok {
						names = append(names, id.Name)
					}
				}
				return true
			})
			possible[strings.TrimPrefix(name, "PossibleValuesFor")] = names
		case strings.HasPrefix(name, "Unmarshal") && strings.HasSuffix(name, "Implementation"):
			u, err := readUnion(d)
			if err != nil {
				return err
			}
			p.unions[strings.TrimSuffix(strings.TrimPrefix(name, "Unmarshal"), "Implementation")] = u
		}
		return nil
	}
	recv := typeName(d.Recv.List[0].Type)
	switch {
	case strings.HasPrefix(name, "Get") && strings.HasSuffix(name, "AsTime"):
		p.timeFields[recv+"."+strings.TrimSuffix(strings.TrimPrefix(name, "Get"), "AsTime")] = true
	case name == "Segments":
		typ, err := readSegments(d)
		if err != nil {
			return err
		}
		p.ids[recv] = typ
	case strings.HasSuffix(recv, "Client"):
		p.funcs = append(p.funcs, d)
	}
	return nil
}

// readUnion reads UnmarshalXImplementation: the discriminator member is
// the key of temp["..."], each subtype the type of out after
// strings.EqualFold(value, "...").
func readUnion(d *ast.FuncDecl) (*union, error) {
	u := &union{subtypes: map[string]string{}}
	ast.Inspect(d.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IndexExpr:
			if isIdent(n.X, "temp") {
				if lit, ok := n.Index.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					u.discriminator, _ = strconv.Unquote(lit.Value)
				}
			}
		case *ast.IfStmt:
			c, ok := n.Cond.(*ast.CallExpr)
			if !ok || !isSelector(c.Fun, "strings", "EqualFold") || len(c.Args) != 2 {
				return true
			}
			lit, ok := c.Args[1].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			value, _ := strconv.Unquote(lit.Value)
			for _, s := range n.Body.List {
				if ds, ok := s.(*ast.DeclStmt); ok {
					if g, ok := ds.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
						vs := g.Specs[0].(*ast.ValueSpec)
						if vs.Names[0].Name == "out" {
							u.subtypes[value] = typeName(vs.Type)
						}
					}
				}
			}
		}
		return true
	})
	if u.discriminator == "" {
		return nil, fmt.Errorf("no discriminator")
	}
	return u, nil
}

// readSegments turns an id's Segments() into its ARM type: the static
// segments after the resource provider, "" when the id is not of
// Microsoft.MachineLearningServices/workspaces or below, or not of one
// resource (a static segment not followed by a name).
func readSegments(d *ast.FuncDecl) (string, error) {
	var kinds, values []string
	ast.Inspect(d.Body, func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := c.Fun.(*ast.SelectorExpr)
		if !ok || !isIdent(sel.X, "resourceids") || len(c.Args) < 2 {
			return true
		}
		lit, _ := c.Args[1].(*ast.BasicLit)
		v := ""
		if lit != nil {
			v, _ = strconv.Unquote(lit.Value)
		}
		kinds = append(kinds, sel.Sel.Name)
		values = append(values, v)
		return false
	})
	for i, k := range kinds {
		if k != "ResourceProviderSegment" {
			continue
		}
		if values[i] != namespace {
			return "", nil
		}
		rest, vals := kinds[i+1:], values[i+1:]
		if len(rest) == 0 || len(rest)%2 != 0 || vals[0] != "workspaces" {
			return "", nil
		}
		typ := namespace
		for j := 0; j < len(rest); j += 2 {
			if rest[j] != "StaticSegment" || rest[j+1] != "UserSpecifiedSegment" {
				return "", nil
			}
			typ += "/" + vals[j]
		}
		return typ, nil
	}
	return "", nil
}

// resources are the ARM types the package's client serves, with the
// local model of each verb's body.
func (p *pkg) resources() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, d := range p.funcs {
		method, path := "", ""
		ast.Inspect(d.Body, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok || !isSelector(cl.Type, "client", "RequestOptions") {
				return true
			}
			for _, e := range cl.Elts {
				kv := e.(*ast.KeyValueExpr)
				switch {
				case isIdent(kv.Key, "HttpMethod"):
					if sel, ok := kv.Value.(*ast.SelectorExpr); ok {
						method = sel.Sel.Name
					}
				case isIdent(kv.Key, "Path"):
					if c, ok := kv.Value.(*ast.CallExpr); ok && len(c.Args) == 0 && isSelector(c.Fun, "id", "ID") {
						path = "id"
					}
				}
			}
			return false
		})
		if path == "" {
			continue
		}
		verb := map[string]string{"MethodGet": "get", "MethodPut": "put", "MethodPatch": "patch"}[method]
		if verb == "" {
			continue
		}
		params := map[string]ast.Expr{}
		for _, f := range d.Type.Params.List {
			for _, n := range f.Names {
				params[n.Name] = f.Type
			}
		}
		typ := p.ids[typeName(params["id"])]
		if typ == "" {
			continue
		}
		var m string
		if verb == "get" {
			resp := p.structs[typeName(d.Type.Results.List[0].Type)]
			if resp == nil {
				return nil, fmt.Errorf("%s: no response type", d.Name.Name)
			}
			for _, f := range resp.Fields.List {
				if len(f.Names) == 1 && f.Names[0].Name == "Model" {
					if star, ok := f.Type.(*ast.StarExpr); ok {
						if id, ok := star.X.(*ast.Ident); ok {
							m = id.Name
						}
					}
				}
			}
		} else if id, ok := params["input"].(*ast.Ident); ok {
			m = id.Name
		} else if _, free := params["input"].(*ast.InterfaceType); free {
			continue // a free-form body (interface{}): no model
		}
		if m == "" {
			return nil, fmt.Errorf("%s: no model of its %s body", d.Name.Name, verb)
		}
		if out[typ] == nil {
			out[typ] = map[string]string{}
		}
		if old, ok := out[typ][verb]; ok && old != m {
			return nil, fmt.Errorf("%s %s: both %s and %s", typ, verb, old, m)
		}
		out[typ][verb] = m
	}
	return out, nil
}

// visit records model name and the models and enums it reaches.
func (p *pkg) visit(name string) error {
	if _, ok := p.models[name]; ok {
		return nil
	}
	m := &model{}
	p.models[name] = m
	st := p.structs[name]
	if p.interfaces[name] {
		u := p.unions[name]
		if u == nil {
			return fmt.Errorf("interface %s: no Unmarshal%sImplementation", name, name)
		}
		if st = p.structs["Base"+name+"Impl"]; st == nil {
			return fmt.Errorf("interface %s: no Base%sImpl", name, name)
		}
		m.discriminator = u.discriminator
		m.subtypes = u.subtypes
		for _, sub := range sortedKeys(u.subtypes) {
			if err := p.visit(u.subtypes[sub]); err != nil {
				return err
			}
		}
	}
	if st == nil {
		return fmt.Errorf("model %s unknown", name)
	}
	for _, f := range st.Fields.List {
		if f.Tag == nil || len(f.Names) != 1 {
			if len(f.Names) == 0 {
				return fmt.Errorf("%s: embedded field", name)
			}
			continue
		}
		tag, _ := strconv.Unquote(f.Tag.Value)
		jsonTag, ok := reflect.StructTag(tag).Lookup("json")
		if !ok || jsonTag == "-" {
			continue
		}
		jsonName, opts, _ := strings.Cut(jsonTag, ",")
		// go-azure-sdk tags a member of a union type without omitempty
		// whether the REST spec requires it or not
		// (Classification.nCrossValidations, CommandJob.limits): such a
		// member is not required.
		mb := member{name: jsonName, required: !strings.Contains(","+opts+",", ",omitempty,") && !p.interfaces[typeName(f.Type)]}
		if err := p.memberType(&mb, f.Type); err != nil {
			return fmt.Errorf("%s.%s: %v", name, f.Names[0].Name, err)
		}
		if mb.prim == "str" && mb.prefix == "" && mb.enum == "" && p.isTime(name, f.Names[0].Name, m) {
			mb.prim = "iso-8601"
		}
		m.members = append(m.members, mb)
		if mb.ref != "" {
			if err := p.visit(mb.ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// isTime reports whether field of struct name has a GetFieldAsTime helper;
// for a union's base (m has subtypes), whether a subtype has it.
func (p *pkg) isTime(name, field string, m *model) bool {
	if p.timeFields[name+"."+field] {
		return true
	}
	for _, sub := range m.subtypes {
		if p.timeFields[sub+"."+field] {
			return true
		}
	}
	return false
}

// memberType sets mb's type from the Go type t.
func (p *pkg) memberType(mb *member, t ast.Expr) error {
	switch t := t.(type) {
	case *ast.StarExpr:
		return p.memberType(mb, t.X)
	case *ast.ArrayType:
		if t.Len != nil {
			return fmt.Errorf("array type")
		}
		mb.prefix += "["
		mb.suffix = "]" + mb.suffix
		mb.enum = ""
		return p.elemType(mb, t.Elt)
	case *ast.MapType:
		if !isIdent(t.Key, "string") {
			return fmt.Errorf("map key")
		}
		mb.prefix += "{"
		mb.suffix = "}" + mb.suffix
		return p.elemType(mb, t.Value)
	case *ast.InterfaceType:
		mb.prim = "object"
		return nil
	case *ast.SelectorExpr:
		switch x := typeName(t.X); {
		case x == "json" && t.Sel.Name == "RawMessage":
			mb.prim = "object"
		case x == "identity", x == "systemdata", x == "zones", x == "edgezones", x == "location", x == "tags":
			// go-azure-helpers' common types: free-form.
			mb.prim = "object"
		default:
			return fmt.Errorf("type %s.%s unknown", x, t.Sel.Name)
		}
		return nil
	case *ast.Ident:
		switch t.Name {
		case "string":
			mb.prim = "str"
		case "bool":
			mb.prim = "bool"
		case "int64", "int":
			mb.prim = "long"
		case "int32":
			mb.prim = "int"
		case "float64", "float32":
			mb.prim = "float"
		default:
			if _, ok := p.enumOf[t.Name]; ok {
				mb.prim = "str"
				if mb.prefix == "" {
					// As msrest: only a member that is itself of an
					// enum names it, not an array or map of one.
					mb.enum = t.Name
					p.enums[t.Name] = true
				}
				return nil
			}
			if p.structs[t.Name] == nil && !p.interfaces[t.Name] {
				return fmt.Errorf("type %s unknown", t.Name)
			}
			mb.ref = t.Name
		}
		return nil
	}
	return fmt.Errorf("type %T unknown", t)
}

// elemType sets mb's element type (of an array or map).
func (p *pkg) elemType(mb *member, t ast.Expr) error {
	if _, ok := t.(*ast.StarExpr); ok {
		return fmt.Errorf("pointer element")
	}
	return p.memberType(mb, t)
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.StarExpr:
		return typeName(e.X)
	}
	return ""
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isSelector(e ast.Expr, x, sel string) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(s.X, x) && s.Sel.Name == sel
}

// naming is the final name of each package's models and enums: the local
// name, or "package.Name" where packages of one api-version differ.
type naming struct {
	models, enums map[string]bool // "pkg\x00Name" qualified
}

func (n naming) model(pn, local string) string {
	if n.models[pn+"\x00"+local] {
		return pn + "." + local
	}
	return local
}

func (n naming) enum(pn, local string) string {
	if n.enums[pn+"\x00"+local] {
		return pn + "." + local
	}
	return local
}

// final is m of package pn with the final names of what it names.
func (n naming) final(pn string, m *model) *model {
	out := &model{discriminator: m.discriminator}
	if m.subtypes != nil {
		out.subtypes = map[string]string{}
		for v, s := range m.subtypes {
			out.subtypes[v] = n.model(pn, s)
		}
	}
	for _, mb := range m.members {
		c := mb
		if mb.ref != "" {
			c.prim, c.ref = n.model(pn, mb.ref), ""
		}
		if mb.enum != "" {
			c.enum = n.enum(pn, mb.enum)
		}
		out.members = append(out.members, c)
	}
	return out
}

// resolve qualifies the names packages of one api-version give different
// models or enums: in each set of packages sharing a name, those whose
// model (or values) most share keep it, the others are qualified. A
// qualified model changes the literal of the models naming it, so this
// runs until nothing changes.
func resolve(pkgs []*pkg) naming {
	n := naming{models: map[string]bool{}, enums: map[string]bool{}}
	qualify := func(qualified map[string]bool, lits map[string]map[string]string) bool {
		changed := false
		for _, name := range sortedKeys(lits) {
			byLit := map[string][]string{} // literal -> packages keeping the name
			for pn, lit := range lits[name] {
				if !qualified[pn+"\x00"+name] {
					byLit[lit] = append(byLit[lit], pn)
				}
			}
			if len(byLit) < 2 {
				continue
			}
			keep := ""
			for _, lit := range sortedKeys(byLit) {
				sort.Strings(byLit[lit])
				if keep == "" || len(byLit[lit]) > len(byLit[keep]) ||
					len(byLit[lit]) == len(byLit[keep]) && byLit[lit][0] < byLit[keep][0] {
					keep = lit
				}
			}
			for lit, ps := range byLit {
				if lit == keep {
					continue
				}
				for _, pn := range ps {
					qualified[pn+"\x00"+name] = true
					changed = true
				}
			}
		}
		return changed
	}
	enumLits := map[string]map[string]string{}
	for _, p := range pkgs {
		for e := range p.enums {
			if enumLits[e] == nil {
				enumLits[e] = map[string]string{}
			}
			enumLits[e][p.name] = stringsLiteral(p.enumOf[e])
		}
	}
	qualify(n.enums, enumLits)
	for {
		lits := map[string]map[string]string{}
		for _, p := range pkgs {
			for name, m := range p.models {
				if lits[name] == nil {
					lits[name] = map[string]string{}
				}
				lits[name][p.name] = modelLiteral(n.final(p.name, m))
			}
		}
		if !qualify(n.models, lits) {
			return n
		}
	}
}

func goString(s string) string { return strconv.Quote(s) }

func stringsLiteral(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = goString(v)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

// modelLiteral is the Go composite literal of m (members resolved).
func modelLiteral(m *model) string {
	var parts []string
	if m.discriminator != "" {
		var subs []string
		for _, v := range sortedKeys(m.subtypes) {
			subs = append(subs, goString(v)+": "+goString(m.subtypes[v]))
		}
		parts = append(parts, "discriminator: "+goString(m.discriminator),
			"subtypes: map[string]string{"+strings.Join(subs, ", ")+"}")
	}
	var lines strings.Builder
	for _, mb := range m.members {
		fields := []string{"name: " + goString(mb.name), "typ: " + goString(mb.prefix+mb.prim+mb.suffix)}
		if mb.enum != "" {
			fields = append(fields, "enum: "+goString(mb.enum))
		}
		if mb.required {
			fields = append(fields, "required: true")
		}
		if mb.readOnly {
			fields = append(fields, "readOnly: true")
		}
		lines.WriteString("\t\t{" + strings.Join(fields, ", ") + "},\n")
	}
	parts = append(parts, "members: []sdkMember{\n"+lines.String()+"\t}")
	return "&sdkModel{" + strings.Join(parts, ", ") + "}"
}

// write is the generated file: each resource, model and enum once per
// distinct shape, with the api-versions that have it.
func write(apis []*api) []byte {
	resources, models, enums := map[[2]string][]string{}, map[[2]string][]string{}, map[[2]string][]string{}
	for _, a := range apis {
		for _, t := range sortedKeys(a.resources) {
			r := a.resources[t]
			var fs []string
			for _, kv := range [][2]string{{"get", r.get}, {"put", r.put}, {"patch", r.patch}} {
				if kv[1] != "" {
					fs = append(fs, kv[0]+": "+goString(kv[1]))
				}
			}
			k := [2]string{t, "sdkResource{" + strings.Join(fs, ", ") + "}"}
			resources[k] = append(resources[k], a.version)
		}
		for _, name := range sortedKeys(a.models) {
			k := [2]string{name, modelLiteral(a.models[name])}
			models[k] = append(models[k], a.version)
		}
		for _, name := range sortedKeys(a.enums) {
			k := [2]string{name, stringsLiteral(a.enums[name])}
			enums[k] = append(enums[k], a.version)
		}
	}
	var b bytes.Buffer
	var from []string
	for _, s := range sources {
		from = append(from, s.module+"@"+s.version+" ("+strings.Join(s.apiVersions, ", ")+")")
	}
	fmt.Fprintf(&b, "// Code generated by gen/gosdkmodels from %s; DO NOT EDIT.\n\n", strings.Join(from, " and "))
	b.WriteString("package machinelearning\n")
	table := func(comment, decl string, rows map[[2]string][]string, row string) {
		fmt.Fprintf(&b, "\n%s\nvar %s{\n", comment, decl)
		for _, k := range sortedPairs(rows) {
			fmt.Fprintf(&b, "\t{"+row+"},\n", goString(k[0]), stringsLiteral(rows[k]), k[1])
		}
		b.WriteString("}\n")
	}
	table("// goSDKResourceTable is every resource type an api-version serves, with the\n"+
		"// models of its bodies, once per distinct set, with the versions that have it.",
		"goSDKResourceTable = []sdkResourceEntry", resources, "typ: %s, versions: %s, resource: %s")
	table("// goSDKModelTable is every model the resources' bodies reach, once per\n"+
		"// distinct shape, with the api-versions that have it.",
		"goSDKModelTable = []sdkModelEntry", models, "name: %s, versions: %s, model: %s")
	table("// goSDKEnumTable is every enum the models use, once per distinct list of\n"+
		"// values, with the api-versions that have it.",
		"goSDKEnumTable = []sdkEnumEntry", enums, "name: %s, versions: %s, values: %s")
	return b.Bytes()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedPairs(m map[[2]string][]string) [][2]string {
	out := make([][2]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}
