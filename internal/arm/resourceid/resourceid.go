// Package resourceid parses and formats Azure Resource Manager resource IDs.
//
// An ID is a chain of (type, name) segments from the root:
//
//	/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/workspaces/w/computes/c
//	= (subscriptions, s) (resourceGroups, rg) (Microsoft.X/workspaces, w) (computes, c)
//
// A segment whose type holds a namespace ("Microsoft.X/workspaces") was
// introduced by the keyword "providers"; that is how extension resources
// nest under any scope (…/workspaces/w/providers/Microsoft.Authorization/
// roleAssignments/r). IDs compare case-insensitively but keep the casing they
// were parsed or built with, because ARM answers with the casing used at
// creation.
package resourceid

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Segment is one step of an ID. Type is either a bare type ("subscriptions",
// "computes") or namespaced ("Microsoft.MachineLearningServices/workspaces").
type Segment struct {
	Type string
	Name string
}

// Namespaced reports whether the segment was introduced by "/providers/".
func (s Segment) Namespaced() bool { return strings.Contains(s.Type, "/") }

// ID is an immutable, parsed resource ID. The zero value is the root ("/").
type ID struct {
	segs []Segment
	// str is String's value ("" for the root), rendered once when the ID
	// is made: IDs are rendered far more often (RBAC scopes, keys, flow
	// records, response bodies) than they are made.
	str string
}

// Root is the tenant root scope "/".
var Root = ID{}

// Well-known bare types of the ARM core.
const (
	TypeSubscriptions  = "subscriptions"
	TypeResourceGroups = "resourceGroups"
	TypeProviders      = "providers"
	TypeTenants        = "tenants"
	NamespaceResources = "Microsoft.Resources"
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid resource id")

// Error is a parse error: the text that did not parse and why, in words
// fit for a client ("bad escape in segment 2"). It wraps ErrInvalid.
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%v %q: %s", ErrInvalid, e.Input, e.Reason) }

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

func invalid(input, format string, args ...any) *Error {
	return &Error{Input: input, Reason: fmt.Sprintf(format, args...)}
}

// New builds an ID from segments. It panics on an empty type or name, which
// is a programming error; use Parse for untrusted input.
func New(segs ...Segment) ID {
	for _, s := range segs {
		if s.Type == "" || s.Name == "" {
			panic("resourceid: empty segment")
		}
	}
	return withSegments(append([]Segment(nil), segs...))
}

// withSegments is the ID of segs, which it keeps (the caller hands them
// over), with its rendering.
func withSegments(segs []Segment) ID {
	if len(segs) == 0 {
		return Root
	}
	return ID{segs: segs, str: render(segs)}
}

// Subscription is the ID /subscriptions/{id}.
func Subscription(id string) ID { return New(Segment{TypeSubscriptions, id}) }

// ResourceGroup is the ID /subscriptions/{sub}/resourceGroups/{rg}.
func ResourceGroup(sub, rg string) ID {
	return New(Segment{TypeSubscriptions, sub}, Segment{TypeResourceGroups, rg})
}

// Parse parses an unescaped resource ID such as a body's "id" field. It
// must name a resource (every type has a name); see ParsePath for request
// paths that may end in a collection or action.
func Parse(s string) (ID, error) {
	if s == "/" {
		return Root, nil
	}
	p, err := parse(strings.Split(strings.TrimPrefix(s, "/"), "/"), s)
	if err != nil {
		return ID{}, err
	}
	if p.Tail != "" {
		return ID{}, invalid(s, "%q has no name", p.Tail)
	}
	return p.ID, nil
}

// Path is a parsed request path: an ID, optionally followed by one more
// type segment without a name (a collection such as ".../computes", or an
// action such as ".../listKeys"; which one depends on the method and the
// type registry).
type Path struct {
	ID   ID
	Tail string
}

// ParsePath parses an escaped URL path (url.URL.EscapedPath). Each segment
// is unescaped on its own, so an escaped "/" inside a name is rejected
// rather than shifting the structure. Empty, "." and ".." segments are
// rejected; one trailing slash is ignored.
//
// One empty segment is tolerated, as ARM tolerates it: right after a
// resource provider namespace (".../providers/{namespace}//{type}/..."),
// which the Azure CLI sends for `az resource show -g G -n N
// --resource-type {namespace}/{type}`. Dropping it changes no segment's
// meaning.
func ParsePath(escaped string) (Path, error) {
	if !strings.HasPrefix(escaped, "/") {
		return Path{}, invalid(escaped, "must start with /")
	}
	if escaped == "/" {
		return Path{}, nil
	}
	trimmed := escaped[1:]
	if len(trimmed) > 1 {
		trimmed = strings.TrimSuffix(trimmed, "/")
	}
	raw := strings.Split(trimmed, "/")
	parts := make([]string, len(raw))
	for i, r := range raw {
		u, err := url.PathUnescape(r)
		if err != nil {
			return Path{}, invalid(escaped, "bad escape in segment %d", i+1)
		}
		if strings.Contains(u, "/") {
			return Path{}, invalid(escaped, "segment %d contains an escaped '/'", i+1)
		}
		parts[i] = u
	}
	return parse(dropEmptyAfterNamespace(parts), escaped)
}

// dropEmptyAfterNamespace removes an empty segment that follows
// "providers/{namespace}" and precedes a type (see ParsePath).
func dropEmptyAfterNamespace(parts []string) []string {
	for i := 2; i+1 < len(parts); i++ {
		if parts[i] == "" && strings.EqualFold(parts[i-2], TypeProviders) && strings.Contains(parts[i-1], ".") && parts[i+1] != "" {
			return append(parts[:i:i], parts[i+1:]...)
		}
	}
	return parts
}

func parse(parts []string, orig string) (Path, error) {
	var p Path
	for i, part := range parts {
		if part == "" || part == "." || part == ".." {
			return Path{}, invalid(orig, "empty or relative segment at position %d", i+1)
		}
		for _, r := range part {
			if r < 0x20 || r == 0x7f {
				return Path{}, invalid(orig, "control character in segment %d", i+1)
			}
		}
	}
	for i := 0; i < len(parts); {
		if strings.EqualFold(parts[i], TypeProviders) && i+2 < len(parts) {
			typ := parts[i+1] + "/" + parts[i+2]
			if i+3 < len(parts) {
				p.ID.segs = append(p.ID.segs, Segment{typ, parts[i+3]})
				i += 4
				continue
			}
			p.Tail = typ
			break
		}
		if i+1 < len(parts) {
			p.ID.segs = append(p.ID.segs, Segment{parts[i], parts[i+1]})
			i += 2
			continue
		}
		p.Tail = parts[i]
		break
	}
	p.ID = withSegments(p.ID.segs)
	return p, nil
}

// Segment returns the i-th segment (0 is the first), without copying the
// others; it panics when i is out of range, as indexing does.
func (id ID) Segment(i int) Segment { return id.segs[i] }

// Prefix returns the ancestor made of the first n segments (0: the root);
// like Parent, its rendering is cut from id's.
func (id ID) Prefix(n int) ID {
	for id.Len() > n {
		id = id.Parent()
	}
	return id
}

// Segments returns a copy of the ID's segments.
func (id ID) Segments() []Segment { return append([]Segment(nil), id.segs...) }

// Len is the number of segments; 0 for the root.
func (id ID) Len() int { return len(id.segs) }

// IsRoot reports whether id is the tenant root "/".
func (id ID) IsRoot() bool { return len(id.segs) == 0 }

// Last returns the last segment; the zero Segment for the root.
func (id ID) Last() Segment {
	if len(id.segs) == 0 {
		return Segment{}
	}
	return id.segs[len(id.segs)-1]
}

// Name is the last segment's name.
func (id ID) Name() string { return id.Last().Name }

// Parent drops the last segment. The parent of the root is the root.
func (id ID) Parent() ID {
	if len(id.segs) == 0 {
		return id
	}
	// The parent's rendering is a prefix of the child's: no new string.
	last := id.segs[len(id.segs)-1]
	cut := len("/") + len(last.Type) + len("/") + len(last.Name)
	if last.Namespaced() {
		cut += len("/providers")
	}
	return ID{segs: id.segs[: len(id.segs)-1 : len(id.segs)-1], str: id.str[:len(id.str)-cut]}
}

// Child appends one segment.
func (id ID) Child(typ, name string) ID {
	segs := make([]Segment, len(id.segs), len(id.segs)+1)
	copy(segs, id.segs)
	return New(append(segs, Segment{typ, name})...)
}

// SubscriptionID returns the subscription the ID is in, or "".
func (id ID) SubscriptionID() string {
	if len(id.segs) > 0 && strings.EqualFold(id.segs[0].Type, TypeSubscriptions) {
		return id.segs[0].Name
	}
	return ""
}

// ResourceGroupName returns the resource group the ID is in, or "".
func (id ID) ResourceGroupName() string {
	if len(id.segs) > 1 && id.SubscriptionID() != "" && strings.EqualFold(id.segs[1].Type, TypeResourceGroups) {
		return id.segs[1].Name
	}
	return ""
}

// ResourceType is the full type: the namespace of the last namespaced
// segment followed by every type after it, e.g.
// "Microsoft.MachineLearningServices/workspaces/computes". IDs without a
// namespaced segment belong to Microsoft.Resources ("Microsoft.Resources/
// subscriptions", "Microsoft.Resources/resourceGroups"). "" for the root.
func (id ID) ResourceType() string {
	if len(id.segs) == 0 {
		return ""
	}
	return typeOf(id.segs)
}

func typeOf(segs []Segment) string {
	j := -1
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].Namespaced() {
			j = i
			break
		}
	}
	if j < 0 {
		// Only the last bare type names a core type (subscriptions,
		// resourceGroups, providers, tenants).
		last := segs[len(segs)-1].Type
		switch last { // the common ones without a new string
		case TypeSubscriptions:
			return NamespaceResources + "/" + TypeSubscriptions
		case TypeResourceGroups:
			return NamespaceResources + "/" + TypeResourceGroups
		}
		return NamespaceResources + "/" + last
	}
	if j == len(segs)-1 {
		return segs[j].Type // a top-level type: already one string
	}
	var b strings.Builder
	b.WriteString(segs[j].Type)
	for _, s := range segs[j+1:] {
		b.WriteByte('/')
		b.WriteString(s.Type)
	}
	return b.String()
}

// ChildType is the full type of a collection or action named typ under id:
// "computes" under a workspace is "Microsoft.MachineLearningServices/
// workspaces/computes"; a namespaced typ stands for itself.
func (id ID) ChildType(typ string) string {
	return typeOf(append(id.Segments(), Segment{Type: typ}))
}

// Namespace is the resource provider namespace of ResourceType.
func (id ID) Namespace() string {
	t := id.ResourceType()
	if i := strings.IndexByte(t, '/'); i >= 0 {
		return t[:i]
	}
	return t
}

// String formats the ID with the casing it was built with, e.g.
// "/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/workspaces/w".
// The root is "/".
func (id ID) String() string {
	if len(id.segs) == 0 {
		return "/"
	}
	return id.str
}

// render is the string form of segs (at least one).
func render(segs []Segment) string {
	n := 0
	for _, s := range segs {
		n += 2 + len(s.Type) + len(s.Name)
		if s.Namespaced() {
			n += len("/providers")
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range segs {
		if s.Namespaced() {
			b.WriteString("/providers")
		}
		b.WriteByte('/')
		b.WriteString(s.Type)
		b.WriteByte('/')
		b.WriteString(s.Name)
	}
	return b.String()
}

// Key is the case-folded form of String, for storage keys and map keys.
func (id ID) Key() string { return strings.ToLower(id.String()) }

// Equal compares two IDs case-insensitively.
func (id ID) Equal(o ID) bool {
	if len(id.segs) != len(o.segs) {
		return false
	}
	for i := range id.segs {
		if !strings.EqualFold(id.segs[i].Type, o.segs[i].Type) || !strings.EqualFold(id.segs[i].Name, o.segs[i].Name) {
			return false
		}
	}
	return true
}

// Contains reports whether o is id or lies beneath it (id is a scope of o).
func (id ID) Contains(o ID) bool {
	if len(o.segs) < len(id.segs) {
		return false
	}
	return ID{segs: o.segs[:len(id.segs)]}.Equal(id)
}

// IsTopLevel reports whether id is a top-level resource in a resource
// group: /subscriptions/s/resourceGroups/rg/providers/NS/type/name.
func (id ID) IsTopLevel() bool {
	return len(id.segs) == 3 && id.ResourceGroupName() != "" && id.segs[2].Namespaced()
}

// WithCasing returns id with every segment's type and name replaced by the
// casing in canon where the two are equal ignoring case, segment by segment
// from the root. It lets the engine answer with the casing a resource (and
// each of its ancestors) was created with.
func (id ID) WithCasing(canon ID) ID {
	out := id.Segments()
	for i := range out {
		if i >= len(canon.segs) {
			break
		}
		c := canon.segs[i]
		if strings.EqualFold(out[i].Type, c.Type) {
			out[i].Type = c.Type
		}
		if strings.EqualFold(out[i].Name, c.Name) {
			out[i].Name = c.Name
		}
	}
	return withSegments(out)
}

// WithLast returns id with its last segment's type and name replaced (used
// to apply canonical casing for a type while keeping the name as given).
func (id ID) WithLast(s Segment) ID {
	if len(id.segs) == 0 {
		return id
	}
	out := id.Segments()
	out[len(out)-1] = s
	return withSegments(out)
}
