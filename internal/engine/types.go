package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/foldcase"
	"github.com/armlet/armlet/internal/jsonenc"
)

// LROStyle is how a verb answers when its work takes time.
type LROStyle int

const (
	// Sync: the request completes before the response (PUT 200/201,
	// DELETE 200/204).
	Sync LROStyle = iota
	// AsyncOperation: PUT answers 201/200 with a non-terminal
	// provisioningState and an Azure-AsyncOperation header; DELETE answers
	// 202 with Azure-AsyncOperation and Location.
	AsyncOperation
	// Location: the verb answers 202 with a Location header (and
	// Retry-After); polling it gives 202 until done, then the final result.
	Location
)

// Type describes one resource type and plugs its behaviour into the
// engine. Fields are read-only after registration.
type Type struct {
	// Name is the canonical full type, e.g.
	// "Microsoft.MachineLearningServices/workspaces". Lookups ignore case.
	Name string
	// APIVersions lists the accepted api-versions, newest first.
	APIVersions []string
	// Locations lists the regions the type accepts (display names such as
	// "East US"; matching ignores case and spaces). Empty means the type is
	// not bound to a location (child and proxy resources).
	Locations []string
	// Tracked types carry location and tags, require a location on PUT,
	// and appear in the /resources lists.
	Tracked bool
	// NamePattern, when set, validates the last name segment on PUT;
	// NameRule describes it for the error message.
	NamePattern *regexp.Regexp
	NameRule    string
	// Put and Delete choose the long-running behaviour of each verb.
	Put, Delete LROStyle
	// SyncUpdate makes a PUT of an existing resource synchronous (200 with
	// the resource) when Put is long-running: Azure Storage creates an
	// account in the background (202 and Location) but answers an update
	// of one at once.
	SyncUpdate bool
	// CreatedStatus is the status of a synchronous create: 201 unless set
	// (some Azure APIs, such as private endpoint connections, answer 200).
	CreatedStatus int
	// UpdatedStatus is the status of a synchronous update of an existing
	// resource: 200 unless set (Azure Policy answers 201 to every PUT, and
	// the Azure CLI refuses a 200 there).
	UpdatedStatus int
	// DeleteBody makes a synchronous DELETE of an existing resource answer
	// 200 with the deleted resource's body (as role assignments do)
	// rather than an empty 200.
	DeleteBody bool
	// ETagInBody adds "etag" to the rendered body.
	ETagInBody bool
	// ImplicitParent, when set, lets a PUT create the resource's missing
	// immediate parent instead of answering 404 ParentResourceNotFound (as
	// Azure ML creates an asset container when a version is PUT for a name
	// that has none). After the child passes its strategy, the engine
	// builds the parent from the PUT body ImplicitParent returns for the
	// validated child (nil is an empty body), validates it through the
	// parent type's strategy as a create, and stores parent and child in
	// one store transaction, with no long-running operation for the
	// parent. The parent's own ancestors must exist.
	ImplicitParent func(child *Resource) map[string]any
	// Strategy validates and shapes the type's resources. Required.
	Strategy Strategy
}

// Strategy is the behaviour every resource type must provide.
type Strategy interface {
	// Validate is called for every PUT and PATCH, after the engine has
	// checked the envelope (name, location, tags) and, for PATCH, merged
	// the patch into the stored resource. old is nil on create. Validate
	// may set defaults and generated read-only properties on desired; it
	// must not change old. Returning an *arm.Error refuses the request.
	Validate(ctx context.Context, req *Request, desired, old *Resource) error
}

// Renderer is implemented by strategies that shape the wire form per
// api-version or over time (for example hiding properties an old
// api-version does not know). It may change body, which is the rendered
// JSON object of r. ctx is the request's. An error fails the request (a
// list as a whole): an *arm.Error is sent as it is, any other error is
// internal (a store that cannot be read).
type Renderer interface {
	Render(ctx context.Context, r *Resource, body map[string]any, apiVersion string, now time.Time) error
}

// Describer is implemented by strategies that expose derived state on the
// admin API (GET /_armlet/state), such as a workspace's effective
// v1LegacyMode while a change propagates.
type Describer interface {
	Describe(r *Resource, now time.Time) map[string]any
}

// Importer is implemented by strategies that treat pre-existing resources
// loaded from a seed file differently from new ones. Import replaces
// Validate for those resources. A provider that imports records of its own
// types at run time (Engine.ImportWith) passes what Import needs to know
// about them in req.ImportArg.
type Importer interface {
	Import(ctx context.Context, req *Request, r *Resource) error
}

// PostImporter is implemented by strategies that have more to store once
// an imported resource exists, such as child resources a seed file
// describes inline in the parent's body (the children need their parent
// stored first). It is called only when Import wrote r; r.Revision is set.
type PostImporter interface {
	PostImport(ctx context.Context, req *Request, r *Resource) error
}

// Exporter is implemented by strategies whose GET hides part of what a PUT
// gave (a datastore's secrets, a compute's passwords). ExportBody puts it
// back into body, the rendered GET body of r that an export holds, so that
// the body is one the type's PUT (and so an import) accepts and carries
// what the resource had.
type Exporter interface {
	ExportBody(r *Resource, body map[string]any)
}

// Restorer is implemented by strategies whose resources keep records
// outside the engine that follow their private state (a private
// endpoint's claims on its subnet's addresses). When an import gives a
// resource back the state an export carried (Engine.Restore), Restore is
// called before the resource is stored, with r holding the restored state
// and made the resource as Import or Validate made it from its body (with
// the outside records made for that). Restore brings the outside records
// in line with r, or, when it cannot (the addresses are taken meanwhile),
// keeps made's part of the state in r; an error refuses the import.
type Restorer interface {
	Restore(ctx context.Context, req *Request, r, made *Resource) error
}

// Remover is implemented by strategies whose resources leave something
// behind when they go, as a key vault leaves a soft-deleted vault that can
// be recovered. Removed is called for every resource of the type a delete
// removes, whether deleted itself or with its parent, resource group or
// subscription, once the store no longer holds it; r is the resource as
// it was. It is not called when an import is undone (Engine.Remove) or by
// Reset, which leave nothing behind. A failure cannot undo the delete:
// Removed logs what it cannot do.
type Remover interface {
	Removed(ctx context.Context, r *Resource)
}

// DeleteValidator is implemented by strategies that may refuse a DELETE.
type DeleteValidator interface {
	ValidateDelete(ctx context.Context, req *Request, r *Resource) error
}

// Actioner is implemented by types that answer POST actions such as
// listKeys. The engine has already checked that r exists.
type Actioner interface {
	// Action handles POST {id}/{name}. Unknown names must return an
	// error from UnknownAction.
	Action(ctx context.Context, req *Request, r *Resource, name string) (*Response, error)
}

// ChildLister is implemented by types whose resources serve read-only
// child collections the engine does not store (for example a workspace's
// privateLinkResources). Returning handled=false falls through to the
// stored children.
type ChildLister interface {
	ListChildren(ctx context.Context, req *Request, r *Resource, child string) (resp *Response, handled bool, err error)
}

// ChildGate is implemented by strategies whose resources can refuse every
// request to some of their descendants, whatever the verb: reads, writes,
// actions and collection lists (for example a workspace in v1 legacy mode
// refusing its v2 child resources). Seed imports are never gated.
type ChildGate interface {
	// GateChild is called with r, a live ancestor of the requested
	// resource or collection, and childType, the full type of the level
	// directly below r on the request's path. A non-nil error refuses the
	// request.
	GateChild(ctx context.Context, req *Request, r *Resource, childType string) error
}

// ListInheritor is implemented by strategies of extension types whose
// collection GET at a scope also lists the type's resources stored at
// other scopes, as Azure Policy lists the built-in definitions (stored at
// the root) with a subscription's or management group's own. Those come
// first, in the order returned, then the scope's own; ListFilterer's
// filter applies to all of them.
type ListInheritor interface {
	// InheritedScopes returns the other scopes for a list at scope; none
	// may be scope itself.
	InheritedScopes(req *Request, scope resourceid.ID) []resourceid.ID
}

// ListFilterer is implemented by strategies whose collection GETs take
// filters, such as Azure ML's listViewType. The engine still pages over
// the stored order; resources keep returns false for are left out.
type ListFilterer interface {
	ListFilter(req *Request) (keep func(*Resource) bool, err error)
}

// VirtualStrategy is implemented by the strategies of virtual types: types
// whose resources the engine does not store as records of their own,
// because each lives inside its parent's record (for example a workspace's
// outbound rules, kept in the workspace's
// properties.managedNetwork.outboundRules, so that the parent stays the
// single source of truth).
//
// For a request to an item of a virtual type (any method) or to its
// collection (GET), the engine resolves the type and checks the
// api-version, for PUT the name (NamePattern), then checks the ancestors
// and their ChildGates (including the parent's gate for the virtual type)
// and loads the live parent; then it hands the request to ServeVirtual.
// HEAD is served as GET without the body. A POST action on an item goes
// through the same checks to VirtualActioner. Type.Put, Type.Delete and
// Type.CreatedStatus are not used: the strategy answers, and for a
// long-running verb records the operation with NewResourceOperation, whose
// result for a PUT is then what ServeVirtual answers to a GET of the item.
type VirtualStrategy interface {
	// ServeVirtual answers req for the child name of parent, or for the
	// collection of parent's children of this type when name is "".
	ServeVirtual(ctx context.Context, req *Request, parent *Resource, name string) (*Response, error)
}

// VirtualActioner is implemented by the strategies of virtual types whose
// items answer POST actions (POST {item}/{action}, such as a subnet's
// PrepareNetworkPolicies). The engine runs the checks it runs for a write
// to the item (api-version, ancestors and their ChildGates) and loads the
// live parent; the strategy answers for the item name of parent, and a 404
// for an item that does not exist is its to give. A virtual type that does
// not implement it answers UnknownAction to every action.
type VirtualActioner interface {
	VirtualAction(ctx context.Context, req *Request, parent *Resource, name, action string) (*Response, error)
}

// UnknownAction is the error for a POST action a type does not have.
func UnknownAction(typ, name string) *arm.Error {
	return arm.BadRequest(arm.CodeInvalidResourceType,
		"The resource type '%s/%s' could not be found in the namespace '%s'.", typ, name, namespaceOf(typ))
}

// Request is what the engine and strategies know about one ARM call.
type Request struct {
	Method     string
	Path       string // escaped URL path as received
	APIVersion string
	Query      map[string][]string
	Header     http.Header
	Body       []byte
	Caller     Caller
	// BaseURL is the scheme and host clients used ("https://127.0.0.1:8443"),
	// for nextLink and operation URLs.
	BaseURL string
	// Now is the engine clock at the start of the request.
	Now time.Time
	// LocationPut asks that a PUT of a type whose Put is AsyncOperation
	// answer in the Location style (202 with Location) instead: a client
	// of another surface of the same resources expects it (an Azure ML
	// registry's regional asset API, registryapi).
	LocationPut bool
	// ImportArg is, for an import made with Engine.ImportWith, the
	// argument its caller passed for the type's Importer and PostImporter;
	// nil for seed files and every other request. Its dynamic type belongs
	// to the strategy, declared beside its Import, so only the provider
	// that owns the type passes one.
	ImportArg any
}

// Importing reports whether r is an import's (a seed or export file, or a
// provider's Engine.ImportWith) rather than a client's request.
func (r *Request) Importing() bool { return r.Method == methodImport }

// QueryValue returns the first value of a query parameter, matching the
// name case-insensitively as ARM does.
func (r *Request) QueryValue(name string) string { return QueryValue(r.Query, name) }

// QueryValue returns the first value of the parameter name of query,
// matching the name case-insensitively as ARM does.
func QueryValue(query map[string][]string, name string) string {
	for k, v := range query {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Caller is the authenticated principal of a request.
type Caller struct {
	ObjectID      string
	AppID         string
	TenantID      string
	Name          string
	PrincipalType string // "ServicePrincipal" or "User"
}

// Response is a handler's result; one adapter in armhttp writes it.
type Response struct {
	Status int
	Header http.Header
	// Body is marshalled as JSON unless nil. A json.RawMessage is written
	// as is, a RawBody as is with its content type.
	Body any
}

// RawBody is a Response body written as is rather than as JSON (the
// content of an artifact on the workspace endpoint).
type RawBody struct {
	ContentType string
	Data        []byte
}

// StreamBody is a Response body copied from Reader as it is written,
// never held whole in memory (a blob's content): Size bytes, announced as
// Content-Length. Reader is closed once written; a nil Reader (the answer
// to a HEAD) writes the headers only.
type StreamBody struct {
	ContentType string
	Size        int64
	Reader      io.ReadCloser
}

// JSON is a convenience for a 200 with a body.
func JSON(status int, body any) *Response { return &Response{Status: status, Body: body} }

// Registry holds the resource types, indexed by lower-cased name.
type Registry struct {
	types map[string]*Type
	// namespaces maps a lower-cased namespace to its canonical casing.
	namespaces map[string]string
	// nsLocations and nsOperations are what providers declared of their
	// namespaces (namespace.go), by lower-cased namespace.
	nsLocations  map[string][]string
	nsOperations map[string]OperationsFunc
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: map[string]*Type{}, namespaces: map[string]string{}}
}

// Register adds t. It panics on a duplicate or malformed type, which is a
// programming error caught at startup.
func (g *Registry) Register(t *Type) {
	key := strings.ToLower(t.Name)
	if _, dup := g.types[key]; dup || t.Strategy == nil || len(t.APIVersions) == 0 || !strings.Contains(t.Name, "/") {
		panic("engine: bad or duplicate type " + t.Name)
	}
	g.types[key] = t
	ns := namespaceOf(t.Name)
	g.namespaces[strings.ToLower(ns)] = ns
}

// Lookup finds a type by full name, ignoring case.
func (g *Registry) Lookup(name string) (*Type, bool) {
	var buf [128]byte
	t, ok := g.types[string(foldcase.AppendLower(buf[:0], name))]
	return t, ok
}

// Namespace returns the canonical casing of a registered namespace.
func (g *Registry) Namespace(ns string) (string, bool) {
	var buf [64]byte
	c, ok := g.namespaces[string(foldcase.AppendLower(buf[:0], ns))]
	return c, ok
}

// Namespaces returns the registered namespaces, sorted.
func (g *Registry) Namespaces() []string {
	out := make([]string, 0, len(g.namespaces))
	for _, ns := range g.namespaces {
		out = append(out, ns)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// TypesIn returns the types of a namespace, sorted by name.
func (g *Registry) TypesIn(ns string) []*Type {
	var out []*Type
	for _, t := range g.types {
		if strings.EqualFold(namespaceOf(t.Name), ns) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *Type) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func namespaceOf(typ string) string {
	if i := strings.IndexByte(typ, '/'); i >= 0 {
		return typ[:i]
	}
	return typ
}

// typeSegment is the last part of a full type ("computes" for
// ".../workspaces/computes", "resourceGroups" for
// "Microsoft.Resources/resourceGroups"): the segment type of an ID that is
// not introduced by "/providers/".
func typeSegment(t string) string {
	return t[strings.LastIndexByte(t, '/')+1:]
}

// rawJSON marshals v, panicking on failure (only used on values the engine
// built itself).
func rawJSON(v any) json.RawMessage {
	b, err := jsonenc.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// LinkedAccess is one of ARM's linked access checks: a resource that names
// another (a workspace its storage account) lets whoever can use the first
// reach the second (the account's key through the workspace's listKeys),
// so the caller who makes or changes the link must hold Action at Scope
// themselves.
type LinkedAccess struct {
	Scope  resourceid.ID
	Action string
}

// LinkedAccessor is a Strategy whose resources link others: LinkedAccess
// returns the checks a write of desired (old is the stored resource, nil
// on create) needs. Only links desired makes or changes need a check: a
// link already stored was checked when it was made.
type LinkedAccessor interface {
	LinkedAccess(desired, old *Resource) []LinkedAccess
}
