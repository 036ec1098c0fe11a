package workspaceapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// TypeWorkspaces is the ARM type of the workspaces this service serves.
const TypeWorkspaces = "Microsoft.MachineLearningServices/workspaces"

// call is one routed request: the request, the workspace it addresses
// (loaded and allowed) and the path parameters.
type call struct {
	*Request
	ws            *engine.Resource
	wsKey         string // workspaceId, lower case: the store key of the workspace's records
	scope         string // the canonical S of the workspace
	params        map[string]string
	revealSecrets bool // Target.RevealSecrets: authorized for the secrets
}

func (c *call) param(name string) string { return c.params[name] }

type handler func(ctx context.Context, s *Service, c *call) (*engine.Response, error)

// op is what one method of a route does: its handler and the permission
// it needs, an action below Microsoft.MachineLearningServices/workspaces/
// ("experiments/runs/write").
type op struct {
	h      handler
	action string
	// secretAction, when set, is the permission needed instead of action
	// when the request asks for secrets (includeSecret=true).
	secretAction string
	// noRecords: the handler reads none of the workspace's records, so it
	// serves a workspace without a workspaceId too (discovery).
	noRecords bool
	// rawBody: the request body is content kept as bytes (an artifact
	// upload, which may be any file), not JSON.
	rawBody bool
}

// route is one path pattern below S of one service and version. Pattern
// segments in braces are parameters; the others match ignoring case.
type route struct {
	pattern []string
	methods map[string]op
}

// services maps "service/version" (lower case) to its routes.
//
// Choice: Azure publishes no action strings for the v1 data plane; the
// actions follow the ARM pattern of the objects served, with Azure's own
// names where Azure has them (datastores/listSecrets/action,
// metrics/resource/write of the AzureML Metrics Writer role).
var services = map[string][]route{
	"history/v1.0": {
		r("experiments", get(listExperiments, "experiments/read")),
		r("experiments/{exp}", get(getExperiment, "experiments/read"), post(createExperiment, "experiments/write"), put(putExperiment, "experiments/write")),
		r("experiments/{exp}/runs", get(listRuns, "experiments/runs/read")),
		r("experiments/{exp}/runs/{run}", get(getRun, "experiments/runs/read"), patch(patchRun, "experiments/runs/write"), put(patchRun, "experiments/runs/write")),
		r("experiments/{exp}/runs/{run}/details", get(getRunDetails, "experiments/runs/read")),
		r("experimentids/{expid}", get(getExperiment, "experiments/read")),
		r("experimentids/{expid}/runs", get(listRuns, "experiments/runs/read")),
		r("experimentids/{expid}/runs/{run}", get(getRun, "experiments/runs/read"), patch(patchRun, "experiments/runs/write")),
		r("experimentids/{expid}/runs/{run}/details", get(getRunDetails, "experiments/runs/read")),
		r("runs/{run}", get(getRun, "experiments/runs/read"), patch(patchRun, "experiments/runs/write")),
		r("runs/{run}/details", get(getRunDetails, "experiments/runs/read")),
	},
	"datastore/v1.0": {
		r("datastores", secret(get(listDatastores, "datastores/read")), post(createDatastore, "datastores/write")),
		r("datastores/{name}", secret(get(getDatastore, "datastores/read")), put(putDatastore, "datastores/write"), del(deleteDatastore, "datastores/delete")),
		r("default", secret(get(getDefaultDatastore, "datastores/read")), put(putDefaultDatastore, "datastores/write")),
		r("default/{name}", put(putDefaultDatastore, "datastores/write")),
	},
	"modelmanagement/v1.0": {
		r("models", get(listModels, "models/read"), post(registerModel, "models/write")),
		r("models/{id}", get(getModel, "models/read"), del(deleteModel, "models/delete")),
	},
	"metric/v2.0": {
		r("runs/{run}/batchsync", post(postMetrics, "metrics/resource/write")),
		r("runs/{run}/batch", post(postMetrics, "metrics/resource/write")),
		r("runs/{run}/full", get(fullMetrics, "experiments/runs/read"), post(fullMetrics, "experiments/runs/read")),
	},
	"artifact/v2.0": {
		r("artifacts/batch/metadata", post(batchGetArtifacts, "artifacts/read")),
		r("artifacts/{origin}/{container}", get(listArtifacts, "artifacts/read")),
		r("artifacts/{origin}/{container}/batch/metadata", post(batchCreateArtifacts, "artifacts/write")),
		r("artifacts/{origin}/{container}/content", get(downloadArtifact, "artifacts/read"), raw(post(uploadArtifact, "artifacts/write")), raw(put(uploadArtifact, "artifacts/write"))),
		r("artifacts/{origin}/{container}/metadata", get(getArtifact, "artifacts/read"), del(deleteArtifact, "artifacts/delete")),
		r("artifacts/{origin}/{container}/contentinfo", get(artifactContentInfo, "artifacts/read")),
	},
}

// methodOp is one method of a route.
type methodOp struct {
	method string
	op
}

func get(h handler, action string) methodOp {
	return methodOp{http.MethodGet, op{h: h, action: action}}
}
func post(h handler, action string) methodOp {
	return methodOp{http.MethodPost, op{h: h, action: action}}
}
func put(h handler, action string) methodOp {
	return methodOp{http.MethodPut, op{h: h, action: action}}
}
func patch(h handler, action string) methodOp {
	return methodOp{http.MethodPatch, op{h: h, action: action}}
}
func del(h handler, action string) methodOp {
	return methodOp{http.MethodDelete, op{h: h, action: action}}
}

// secret marks a read that shows datastore secrets with includeSecret=true,
// which then needs the permission the v2 route (datastores/{name}/listSecrets)
// needs.
func secret(m methodOp) methodOp {
	m.secretAction = "datastores/listSecrets/action"
	return m
}

// raw marks a method whose body is content kept as bytes, not JSON.
func raw(m methodOp) methodOp {
	m.rawBody = true
	return m
}

// r builds a route from a pattern and its methods.
func r(pattern string, ms ...methodOp) route {
	rt := route{pattern: strings.Split(pattern, "/"), methods: map[string]op{}}
	for _, m := range ms {
		rt.methods[m.method] = m.op
	}
	return rt
}

// scopeLiterals are the fixed segments of S, with "" for its three names.
var scopeLiterals = []string{"subscriptions", "", "resourceGroups", "", "providers", "Microsoft.MachineLearningServices", "workspaces", ""}

// Target is a data-plane request resolved once, before it is authorized:
// the workspace it addresses, what it names there and the permission it
// needs. Serve acts on exactly this target; nothing re-reads the path.
type Target struct {
	req *Request
	// Workspace is the workspace addressed; the root for the regional
	// /discovery, the only target that addresses none.
	Workspace resourceid.ID
	// Resource is what the request names at or below Workspace (for flow
	// records): S/experiments/{exp}/runs/{run} for a run.
	Resource resourceid.ID
	// Action is the permission the request needs at Workspace, e.g.
	// Microsoft.MachineLearningServices/workspaces/experiments/runs/write.
	Action string
	// RevealSecrets reports that the request asks for datastore secrets
	// (includeSecret=true); Action is then the listSecrets action.
	RevealSecrets bool

	op     op
	params map[string]string
}

// Request is the request t was resolved from.
func (t *Target) Request() *Request { return t.req }

// RawBody reports whether the request body is content kept as bytes
// (artifact uploads) rather than JSON, so that the front door's JSON
// checks skip it; every other route reads its body as JSON.
func (t *Target) RawBody() bool { return t.op.rawBody }

// Open reports whether the target needs no permission: only the regional
// /discovery, which names no workspace.
func (t *Target) Open() bool { return t.Workspace.IsRoot() }

// Resolve parses req once into its Target, or refuses it: 400
// InvalidRequestUri for a path that is not a valid path (a bad escape, an
// escaped '/', an empty, '.' or '..' segment, a control character), 404
// for a path no route serves, 405 for a method the route does not serve.
// Only /discovery/workspaces/{id} reads the store (to find the workspace
// with that id).
func (s *Service) Resolve(ctx context.Context, req *Request) (*Target, error) {
	segs, err := splitPath(req.Path)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, noRoute(req)
	}
	if strings.EqualFold(segs[0], "discovery") {
		return s.resolveDiscovery(ctx, req, segs[1:])
	}
	if len(segs) < 2 {
		return nil, noRoute(req)
	}
	routes, ok := services[strings.ToLower(segs[0]+"/"+segs[1])]
	if !ok {
		return nil, noRoute(req)
	}
	rest := segs[2:]
	if len(rest) < len(scopeLiterals) {
		return nil, noRoute(req)
	}
	for i, lit := range scopeLiterals {
		if lit != "" && !strings.EqualFold(rest[i], lit) {
			return nil, noRoute(req)
		}
	}
	wsID := resourceid.New(
		resourceid.Segment{Type: resourceid.TypeSubscriptions, Name: rest[1]},
		resourceid.Segment{Type: resourceid.TypeResourceGroups, Name: rest[3]},
		resourceid.Segment{Type: TypeWorkspaces, Name: rest[7]})
	rest = rest[len(scopeLiterals):]

	rt, params := match(routes, rest)
	if rt == nil {
		return nil, noRoute(req)
	}
	o, ok := rt.methods[req.Method]
	if !ok {
		return nil, methodNotAllowed(req.Method, rt)
	}
	t := &Target{req: req, Workspace: wsID, Resource: resourceOf(wsID, rt.pattern, params), op: o, params: params,
		Action: TypeWorkspaces + "/" + o.action}
	if o.secretAction != "" && asksForSecrets(req) {
		t.RevealSecrets, t.Action = true, TypeWorkspaces+"/"+o.secretAction
	}
	return t, nil
}

// asksForSecrets reports whether any includeSecret query parameter, in
// any casing, is true: a request that asks twice, once true, asks.
func asksForSecrets(req *Request) bool {
	for k, vs := range req.Query {
		if equalFold(k, "includeSecret") && slices.ContainsFunc(vs, func(v string) bool { return equalFold(v, "true") }) {
			return true
		}
	}
	return false
}

// resourceOf is what a route names below the workspace: the leading
// pairs of a literal followed by a parameter (experiments/{exp}/runs/{run}
// is S/experiments/{exp}/runs/{run}).
func resourceOf(ws resourceid.ID, pattern []string, params map[string]string) resourceid.ID {
	id := ws
	for i := 0; i+1 < len(pattern); i += 2 {
		lit, p := pattern[i], pattern[i+1]
		if strings.HasPrefix(lit, "{") || !strings.HasPrefix(p, "{") {
			break
		}
		id = id.Child(lit, params[strings.Trim(p, "{}")])
	}
	return id
}

// Serve answers a resolved request: unless t is Open, it checks the
// workspace and the network rule (allow), then calls the route's handler.
// The caller must have authorized t.Action at t.Workspace unless t.Open.
func (s *Service) Serve(ctx context.Context, t *Target) (*engine.Response, error) {
	c := &call{Request: t.req, params: t.params, revealSecrets: t.RevealSecrets}
	if !t.Open() {
		ws, err := s.allow(ctx, t.req, t.Workspace)
		if err != nil {
			return nil, err
		}
		c.ws, c.scope, c.wsKey = ws, ws.ID.String(), workspaceKey(ws)
		if c.wsKey == "" && !t.op.noRecords {
			return nil, workspaceNotReady(ws.ID)
		}
	}
	return t.op.h(ctx, s, c)
}

// splitPath splits an escaped path into unescaped segments, as
// resourceid.ParsePath does: a trailing slash is ignored; a bad escape, an
// escaped '/', an empty, '.' or '..' segment or a control character is 400
// InvalidRequestUri, so no spelling of a path can name something other
// than what its segments say.
func splitPath(escaped string) ([]string, error) {
	p := strings.TrimPrefix(escaped, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil, nil
	}
	parts := strings.Split(p, "/")
	for i, part := range parts {
		u, err := url.PathUnescape(part)
		if err != nil {
			return nil, invalidURI(escaped, "a malformed percent escape in segment %d", i+1)
		}
		switch {
		case u == "" || u == "." || u == "..":
			return nil, invalidURI(escaped, "an empty or relative segment at position %d", i+1)
		case strings.Contains(u, "/"):
			return nil, invalidURI(escaped, "an escaped '/' in segment %d", i+1)
		case strings.IndexFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			return nil, invalidURI(escaped, "a control character in segment %d", i+1)
		}
		parts[i] = u
	}
	return parts, nil
}

func invalidURI(escaped, format string, args ...any) *arm.Error {
	return arm.BadRequest(arm.CodeInvalidRequestURI, "The request URI '%s' is not valid: it has %s.", escaped, fmt.Sprintf(format, args...))
}

// match finds the route whose pattern matches segs.
func match(routes []route, segs []string) (*route, map[string]string) {
	for i := range routes {
		rt := &routes[i]
		if len(rt.pattern) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, p := range rt.pattern {
			if strings.HasPrefix(p, "{") {
				if segs[j] == "" {
					ok = false
					break
				}
				params[strings.Trim(p, "{}")] = segs[j]
				continue
			}
			if !strings.EqualFold(p, segs[j]) {
				ok = false
				break
			}
		}
		if ok {
			return rt, params
		}
	}
	return nil, nil
}

func noRoute(req *Request) *arm.Error {
	return arm.NotFound(arm.CodeInvalidRequestURI, "No HTTP resource was found that matches the request URI '%s'.", req.Path)
}

func methodNotAllowed(method string, rt *route) *arm.Error {
	allowed := make([]string, 0, len(rt.methods))
	for m := range rt.methods {
		allowed = append(allowed, m)
	}
	slices.Sort(allowed)
	e := arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s'.", method)
	e.Header = http.Header{"Allow": {strings.Join(allowed, ", ")}}
	return e
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
