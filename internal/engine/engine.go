// Package engine is armlet's generic ARM resource engine: one
// implementation of PUT, GET, PATCH, DELETE, list and POST actions for every
// resource type, with api-version checks, ETags and conditional requests,
// paging, long-running operations and cascading deletes. Resource types
// plug in through the Type and Strategy contracts in types.go; the engine
// never knows what a workspace is.
//
// # Order of work for a write
//
// Every PUT and PATCH goes through the same steps: resolve the type and
// check the api-version; check that the subscription, resource group and
// parent resources exist; load the current resource; check If-Match /
// If-None-Match; decode the body and check the envelope (name, location,
// tags); for PATCH merge the patch into the current resource; call the
// strategy's Validate; write with a condition on the revision read, and
// retry from the load if another writer got there first.
//
// # Time
//
// Long-running work is evaluated lazily against the clock: a resource
// records until when it is Creating or Deleting, and readers compute what
// a client sees now. A background loop (Run) makes completed deletes
// physical. So `armlet clock advance` takes effect at once.
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/kv"
)

// Options configures an Engine.
type Options struct {
	// Store is the store armlet keeps all state in. The engine reads and
	// writes only its own spaces of it (kv.OwnerEngine) and hands each
	// provider the view of the provider's space (Space).
	Store    kv.Store
	Clock    clock.Clock
	Registry *Registry
	Logger   *slog.Logger // nil discards
	// OperationDuration is how long asynchronous operations take on the
	// engine clock. Default 1s.
	OperationDuration time.Duration
	// LenientAPIVersions accepts any well-formed api-version.
	LenientAPIVersions bool
	// Locations are the regions of every subscription, display names.
	Locations []string
	// Rand drives random choices; nil uses a random seed.
	Rand *rand.Rand
	// RenderCacheBytes bounds the rendered-body cache that answers GETs
	// without loading and rendering (rendered.go): 0 means
	// DefaultRenderCacheBytes, a negative value turns it off. On a store
	// other processes write too (etcd) it needs FollowWrites running.
	RenderCacheBytes int
}

// decodedCacheSize bounds the decoded resources the engine keeps (a few
// MB for workspaces).
const decodedCacheSize = 4096

// Engine serves ARM requests over a kv.Store.
type Engine struct {
	tables  tables   // the engine's own spaces
	store   kv.Store // only for the views Space hands out
	clock   clock.Clock
	reg     *Registry
	log     *slog.Logger
	opDur   time.Duration
	lenient bool
	locs    []string
	randMu  sync.Mutex
	rand    *rand.Rand
	wake    chan struct{}
	decoded *decodedCache
	// counted is the store under tables and Space, counting writes;
	// rendered is nil when the rendered-body cache is off.
	counted  *countingStore
	rendered *renderedCache
	hooksMu  sync.RWMutex
	onDelete []func(ctx context.Context, r *Resource)
	routes   []Route
	// admitters and onWrite are the admission chain and write observers
	// (admit.go).
	admitters []Admitter
	onWrite   []WriteObserver
}

// Route answers ARM paths that are neither stored resources nor the ARM
// core's, such as the activity log
// (/subscriptions/s/providers/Microsoft.Insights/eventtypes/management/values).
// A route reached through Serve has passed everything in front of the
// engine (authentication, the public ARM gate and any access checks the
// front door or Serve makes); it checks its own api-version.
type Route interface {
	// ServeRoute answers req, parsed as p, or returns handled=false.
	ServeRoute(ctx context.Context, req *Request, p resourceid.Path) (resp *Response, handled bool, err error)
}

// AddRoute adds r; routes are asked in order, after the ARM core.
func (e *Engine) AddRoute(r Route) {
	e.hooksMu.Lock()
	defer e.hooksMu.Unlock()
	e.routes = append(e.routes, r)
}

// New returns an Engine. The registry gets the core Microsoft.Resources
// types added.
func New(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OperationDuration <= 0 {
		opts.OperationDuration = time.Second
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if len(opts.Locations) == 0 {
		opts.Locations = DefaultLocations
	}
	var store kv.Store
	var counted *countingStore
	if opts.Store != nil {
		store, counted = counting(opts.Store)
	}
	e := &Engine{
		tables: newTables(store), store: store, clock: opts.Clock, reg: opts.Registry, log: opts.Logger,
		opDur: opts.OperationDuration, lenient: opts.LenientAPIVersions, locs: opts.Locations,
		rand: opts.Rand, wake: make(chan struct{}, 1), decoded: newDecodedCache(decodedCacheSize), counted: counted,
	}
	if opts.RenderCacheBytes == 0 {
		opts.RenderCacheBytes = DefaultRenderCacheBytes
	}
	if opts.Store != nil && opts.RenderCacheBytes > 0 {
		e.rendered = newRenderedCache(opts.RenderCacheBytes)
	}
	registerCore(e)
	return e
}

// Registry returns the engine's type registry.
func (e *Engine) Registry() *Registry { return e.reg }

// Logger returns the engine's logger, for strategies that must log what
// they cannot return (a Renderer's lookups).
func (e *Engine) Logger() *slog.Logger { return e.log }

// Space returns the view of sp, for the package that owns it
// (sp.Owner()) to keep its side records in: a provider's IP claims or
// policy states, the workspace data plane's records. Nothing else of the
// store is reachable through it. Space panics unless sp.ViaEngine(): the
// engine's own tables change only through the engine, so that records,
// indexes and caches stay in step, and the spaces of the packages
// internal/app wires (identity, the network model, …) are app's to hand.
func (e *Engine) Space(sp kv.Space) kv.View {
	if !sp.ViaEngine() {
		panic(fmt.Sprintf("engine: no view of %v for a provider", sp))
	}
	return sp.Of(e.store)
}

// Now reads the engine clock.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// Float64 returns a random number in [0,1) from the engine's source, which
// is deterministic under a seed.
func (e *Engine) Float64() float64 {
	e.randMu.Lock()
	defer e.randMu.Unlock()
	return e.rand.Float64()
}

// OperationDuration is how long asynchronous operations take.
func (e *Engine) OperationDuration() time.Duration { return e.opDur }

// OnDelete registers a hook called after a resource is deleted (its
// subtree included), for cross-resource bookkeeping.
func (e *Engine) OnDelete(f func(ctx context.Context, r *Resource)) {
	e.hooksMu.Lock()
	defer e.hooksMu.Unlock()
	e.onDelete = append(e.onDelete, f)
}

// Wake asks the background loop to look for due work now (after the
// clock moved).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// ParsePath parses an ARM request's escaped path
// (resourceid.ParsePath), refusing what does not parse with 400
// InvalidRequestUri.
func ParsePath(escaped string) (resourceid.Path, error) {
	p, err := resourceid.ParsePath(escaped)
	var perr *resourceid.Error
	if errors.As(err, &perr) {
		return resourceid.Path{}, arm.BadRequest(arm.CodeInvalidRequestURI, "The request URI '%s' is not valid: %s.", escaped, perr.Reason).Wrap(err)
	}
	return p, err
}

// Serve answers one ARM request, parsing req.Path. Errors are *arm.Error
// for anything the client did; other errors are internal.
func (e *Engine) Serve(ctx context.Context, req *Request) (*Response, error) {
	p, err := ParsePath(req.Path)
	if err != nil {
		return nil, err
	}
	return e.ServePath(ctx, req, p)
}

// ServePath answers one ARM request whose path parsed to p, so that a
// caller that authorized p serves exactly p.
func (e *Engine) ServePath(ctx context.Context, req *Request, p resourceid.Path) (*Response, error) {
	ctx = withBaseURL(ctx, req.BaseURL)
	// Before the core: a scope type's collection under a subscription is
	// not the subscription-wide list of a top-level type.
	if resp, handled, err := e.serveScope(ctx, req, p); handled {
		return resp, err
	}
	if resp, handled, err := e.serveCore(ctx, req, p); handled {
		return resp, err
	}
	e.hooksMu.RLock()
	routes := e.routes
	e.hooksMu.RUnlock()
	for _, r := range routes {
		if resp, handled, err := r.ServeRoute(ctx, req, p); handled {
			return resp, err
		}
	}
	if resp, handled, err := e.serveVirtual(ctx, req, p); handled {
		return resp, err
	}
	if p.Tail == "" {
		if p.ID.IsRoot() {
			return nil, arm.NotFound("InvalidRequestUri", "No HTTP resource was found that matches the request URI '%s'.", req.Path)
		}
		t, err := e.resolveType(req, p.ID.ResourceType())
		if err != nil {
			return nil, err
		}
		if err := e.checkScope(ctx, req, t, p.ID.Parent()); err != nil {
			return nil, err
		}
		switch req.Method {
		case http.MethodGet:
			return e.getRendered(ctx, req, t, p.ID)
		case http.MethodHead:
			resp, err := e.get(ctx, req, t, p.ID)
			if err != nil {
				return nil, err
			}
			return &Response{Status: http.StatusNoContent, Header: resp.Header}, nil
		case http.MethodPut:
			return e.put(ctx, req, t, p.ID)
		case http.MethodPatch:
			return e.patch(ctx, req, t, p.ID)
		case http.MethodDelete:
			return e.delete(ctx, req, t, p.ID)
		}
		return nil, methodNotAllowed(req.Method, t.Name)
	}
	switch req.Method {
	case http.MethodGet:
		return e.listChildren(ctx, req, p.ID, p.Tail)
	case http.MethodPost:
		return e.action(ctx, req, p.ID, p.Tail)
	}
	return nil, methodNotAllowed(req.Method, p.ID.ChildType(p.Tail))
}

// invalidNamespace is ARM's error for a namespace no provider registered:
// 404 when the request is for the provider itself (GET .../providers/{ns}),
// 400 where the namespace is part of another request (a resource type, an
// operation, the operations list).
func invalidNamespace(status int, ns string) *arm.Error {
	return arm.Errorf(status, arm.CodeInvalidResourceNamespace, "The resource namespace '%s' is invalid.", ns)
}

func methodNotAllowed(method, typ string) *arm.Error {
	return arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s' for type '%s'.", method, typ)
}

// resolveType finds the registered type of a request and checks its
// api-version.
func (e *Engine) resolveType(req *Request, fullType string) (*Type, error) {
	t, ok := e.reg.Lookup(fullType)
	if !ok {
		ns := namespaceOf(fullType)
		if _, known := e.reg.Namespace(ns); !known {
			return nil, invalidNamespace(http.StatusBadRequest, ns)
		}
		return nil, arm.BadRequest(arm.CodeInvalidResourceType,
			"The resource type '%s' could not be found in the namespace '%s' for api version '%s'.",
			strings.TrimPrefix(fullType, ns+"/"), ns, req.APIVersion)
	}
	if err := e.checkAPIVersion(req.APIVersion, t); err != nil {
		return nil, err
	}
	return t, nil
}

// decodeObject decodes a JSON object body, keeping numbers exact.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: '%s'.", jsonErrorText(err))
	}
	if dec.More() {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: 'Additional text found in JSON after the end of the content.'.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: 'the content must be a JSON object'.")
	}
	return obj, nil
}

func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return syn.Error() + " at offset " + itoa(syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of JSON input"
	}
	return err.Error()
}

type baseURLKey struct{}

// withBaseURL marks ctx as serving a request made at base
// (Request.BaseURL), for BaseURLFrom.
func withBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

// BaseURLFrom returns the Request.BaseURL of the request the engine is
// serving with ctx, "" outside one (an export, the admin API's describe).
// A Renderer may name it in a body: the rendered-body cache keeps bodies
// per base URL, so a client that addressed armlet at one host never gets
// a body rendered for another.
func BaseURLFrom(ctx context.Context) string {
	base, _ := ctx.Value(baseURLKey{}).(string)
	return base
}
