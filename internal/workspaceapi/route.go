package workspaceapi

import (
	"context"
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
	ws     *engine.Resource
	wsKey  string // workspaceId, lower case: the store key of the workspace's records
	scope  string // the canonical S of the workspace
	params map[string]string
}

func (c *call) param(name string) string { return c.params[name] }

type handler func(ctx context.Context, s *Service, c *call) (*engine.Response, error)

// route is one path pattern below S of one service and version. Pattern
// segments in braces are parameters; the others match ignoring case.
type route struct {
	pattern []string
	methods map[string]handler
	// rawBody marks a route whose request body is content kept as bytes,
	// not JSON (see RawBody).
	rawBody bool
}

// services maps "service/version" (lower case) to its routes.
var services = map[string][]route{
	"history/v1.0": {
		r("experiments", http.MethodGet, listExperiments),
		r("experiments/{exp}", http.MethodGet, getExperiment, http.MethodPost, createExperiment, http.MethodPut, putExperiment),
		r("experiments/{exp}/runs", http.MethodGet, listRuns),
		r("experiments/{exp}/runs/{run}", http.MethodGet, getRun, http.MethodPatch, patchRun, http.MethodPut, patchRun),
		r("experiments/{exp}/runs/{run}/details", http.MethodGet, getRunDetails),
		r("experimentids/{expid}", http.MethodGet, getExperiment),
		r("experimentids/{expid}/runs", http.MethodGet, listRuns),
		r("experimentids/{expid}/runs/{run}", http.MethodGet, getRun, http.MethodPatch, patchRun),
		r("experimentids/{expid}/runs/{run}/details", http.MethodGet, getRunDetails),
		r("runs/{run}", http.MethodGet, getRun, http.MethodPatch, patchRun),
		r("runs/{run}/details", http.MethodGet, getRunDetails),
	},
	"datastore/v1.0": {
		r("datastores", http.MethodGet, listDatastores, http.MethodPost, createDatastore),
		r("datastores/{name}", http.MethodGet, getDatastore, http.MethodPut, putDatastore, http.MethodDelete, deleteDatastore),
		r("default", http.MethodGet, getDefaultDatastore, http.MethodPut, putDefaultDatastore),
		r("default/{name}", http.MethodPut, putDefaultDatastore),
	},
	"modelmanagement/v1.0": {
		r("models", http.MethodGet, listModels, http.MethodPost, registerModel),
		r("models/{id}", http.MethodGet, getModel, http.MethodDelete, deleteModel),
	},
	"metric/v2.0": {
		r("runs/{run}/batchsync", http.MethodPost, postMetrics),
		r("runs/{run}/batch", http.MethodPost, postMetrics),
		r("runs/{run}/full", http.MethodGet, fullMetrics, http.MethodPost, fullMetrics),
	},
	"artifact/v2.0": {
		r("artifacts/batch/metadata", http.MethodPost, batchGetArtifacts),
		r("artifacts/{origin}/{container}", http.MethodGet, listArtifacts),
		r("artifacts/{origin}/{container}/batch/metadata", http.MethodPost, batchCreateArtifacts),
		raw(r("artifacts/{origin}/{container}/content", http.MethodGet, downloadArtifact, http.MethodPost, uploadArtifact, http.MethodPut, uploadArtifact)),
		r("artifacts/{origin}/{container}/metadata", http.MethodGet, getArtifact, http.MethodDelete, deleteArtifact),
		r("artifacts/{origin}/{container}/contentinfo", http.MethodGet, artifactContentInfo),
	},
}

// r builds a route from a pattern and method, handler pairs.
func r(pattern string, mh ...any) route {
	rt := route{pattern: strings.Split(pattern, "/"), methods: map[string]handler{}}
	for i := 0; i < len(mh); i += 2 {
		rt.methods[mh[i].(string)] = mh[i+1].(func(context.Context, *Service, *call) (*engine.Response, error))
	}
	return rt
}

// raw marks rt's request bodies as content, not JSON.
func raw(rt route) route {
	rt.rawBody = true
	return rt
}

// RawBody reports whether the workspace endpoint keeps the body of a
// request to escapedPath as bytes instead of reading it as JSON: artifact
// content uploads, whose content may be any file (a JSON file with
// repeated member names included). The front door's JSON checks skip
// these bodies and only these; every other route reads its body as JSON
// whatever Content-Type the client sent.
func RawBody(escapedPath string) bool {
	segs, err := splitPath(escapedPath)
	if err != nil {
		return false
	}
	rt, _, _ := findRoute(segs)
	return rt != nil && rt.rawBody
}

// scopeLiterals are the fixed segments of S, with nil for its three names.
var scopeLiterals = []string{"subscriptions", "", "resourceGroups", "", "providers", "Microsoft.MachineLearningServices", "workspaces", ""}

// route finds the handler of req, checks the workspace and the network
// rule, and calls it.
func (s *Service) route(ctx context.Context, req *Request) (*engine.Response, error) {
	segs, err := splitPath(req.Path)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, noRoute(req)
	}
	if strings.EqualFold(segs[0], "discovery") {
		return s.discovery(ctx, req, segs[1:])
	}
	rt, params, scope := findRoute(segs)
	if rt == nil {
		return nil, noRoute(req)
	}
	sub, rg, name := scope[1], scope[3], scope[7]
	h, ok := rt.methods[req.Method]
	if !ok {
		return nil, methodNotAllowed(req.Method, rt)
	}
	wsID := resourceid.New(
		resourceid.Segment{Type: resourceid.TypeSubscriptions, Name: sub},
		resourceid.Segment{Type: resourceid.TypeResourceGroups, Name: rg},
		resourceid.Segment{Type: TypeWorkspaces, Name: name})
	ws, err := s.allow(ctx, req, wsID)
	if err != nil {
		return nil, err
	}
	c := &call{Request: req, ws: ws, params: params, scope: ws.ID.String()}
	c.wsKey = workspaceKey(ws)
	if c.wsKey == "" {
		return nil, workspaceNotReady(ws.ID)
	}
	return h(ctx, s, c)
}

// findRoute finds the route of the unescaped segments of a path below
// the discovery service: "service/version", the workspace's scope
// (returned as its eight segments) and a route's pattern. It returns a
// nil route when none matches.
func findRoute(segs []string) (*route, map[string]string, []string) {
	if len(segs) < 2 {
		return nil, nil, nil
	}
	routes, ok := services[strings.ToLower(segs[0]+"/"+segs[1])]
	if !ok {
		return nil, nil, nil
	}
	rest := segs[2:]
	if len(rest) < len(scopeLiterals) {
		return nil, nil, nil
	}
	for i, lit := range scopeLiterals {
		if lit != "" && !strings.EqualFold(rest[i], lit) {
			return nil, nil, nil
		}
	}
	scope := rest[:len(scopeLiterals)]
	if scope[1] == "" || scope[3] == "" || scope[7] == "" {
		return nil, nil, nil
	}
	rt, params := match(routes, rest[len(scopeLiterals):])
	return rt, params, scope
}

// splitPath splits an escaped path into unescaped segments. A trailing
// slash is ignored; an empty segment elsewhere matches no route.
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
			return nil, arm.BadRequest(arm.CodeInvalidRequestURI, "The request URI '%s' is not valid: %v.", escaped, err)
		}
		parts[i] = u
	}
	return parts, nil
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
