package armhttp

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// Authorizer decides, with Azure RBAC, whether caller may perform action
// (a data action when data) at scope; it records the decision on ctx
// (netmodel.RecordDecision) and returns the refusal to send, if any
// (*authorization.RBAC).
type Authorizer interface {
	Check(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID, data bool) error
	// Written is told of every successful ARM write, so that cached
	// assignments follow the store.
	Written(method, escapedPath string)
}

// authorizeARM checks an ARM request against RBAC: the action is
// netmodel.ARMOperation's, the scope the resource the request addresses.
// Requests whose path does not parse are left to the engine's 400.
func (s *server) authorizeARM(ctx context.Context, caller engine.Caller, method, escapedPath string) error {
	if s.Authorize == nil {
		return nil
	}
	p, err := resourceid.ParsePath(escapedPath)
	if err != nil || rbacExempt(method, p) {
		return nil
	}
	action, scope := netmodel.ARMOperation(method, escapedPath)
	return s.Authorize.Check(ctx, caller, action, scope, false)
}

// authorizeWorkspace checks a workspace endpoint request against RBAC:
// the action is netmodel.WorkspaceOperation's, the scope the resource it
// names below the workspace.
//
// Choice: requests whose path names no workspace (discovery) need no
// permission, like provider metadata on ARM.
func (s *server) authorizeWorkspace(ctx context.Context, caller engine.Caller, method, escapedPath string) error {
	if s.Authorize == nil {
		return nil
	}
	action, scope := netmodel.WorkspaceOperation(method, escapedPath)
	if scope.IsRoot() {
		return nil
	}
	return s.Authorize.Check(ctx, caller, action, scope, true)
}

// rbacExempt reports whether a request needs no permission: reads of
// provider and tenant metadata and of operation statuses.
//
// Choice: GET /subscriptions lists every subscription to any
// authenticated caller (Azure lists those where the caller has some role
// assignment); GET /tenants, /providers, /providers/{ns},
// /providers/{ns}/operations and /subscriptions/{s}/providers[/{ns}] are
// open to any authenticated caller; so are the operationStatuses and
// operationResults of long-running operations, whose ids are unguessable
// (Azure checks {ns}/locations/operationStatuses/read, which Reader
// holds, and armlet does not keep which caller started an operation).
// Everything else, /subscriptions/{s} included, needs a permission.
func rbacExempt(method string, p resourceid.Path) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	segs := p.ID.Segments()
	tail := strings.ToLower(p.Tail)
	switch {
	case p.ID.IsRoot():
		return tail == "" || tail == "subscriptions" || tail == "tenants" || tail == "providers" || strings.HasSuffix(tail, "/operations")
	case len(segs) == 1 && strings.EqualFold(segs[0].Type, resourceid.TypeProviders):
		return true
	case len(segs) == 1 && strings.EqualFold(segs[0].Type, resourceid.TypeSubscriptions) && tail == "providers":
		return true
	case len(segs) == 2 && strings.EqualFold(segs[0].Type, resourceid.TypeSubscriptions) &&
		strings.EqualFold(segs[1].Type, resourceid.TypeProviders) && p.Tail == "":
		return true
	}
	for _, sg := range segs {
		if strings.EqualFold(sg.Type, "operationStatuses") || strings.EqualFold(sg.Type, "operationResults") {
			return true
		}
	}
	return false
}
