package armhttp

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/workspaceapi"
)

// Authorizer decides, with Azure RBAC, whether caller may perform action
// (a data action when data) at scope; it records the decision on ctx
// (netmodel.RecordDecision) and returns the refusal to send, if any
// (*authorization.RBAC).
type Authorizer interface {
	Check(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID, data bool) error
	// Written is told of every successful ARM write, with its parsed
	// path, so that cached assignments follow the store.
	Written(method string, p resourceid.Path)
}

// authorizeARM checks an ARM request whose path parsed to p against RBAC:
// the action is action.Of's, the scope the resource the request
// addresses. It names the operation in the flow record whether or
// not a permission is needed.
func (s *server) authorizeARM(ctx context.Context, caller engine.Caller, method string, p resourceid.Path) error {
	act, scope := action.Of(method, p)
	flowInfoFrom(ctx).target(act, scope)
	if s.Authorize == nil || rbacExempt(method, p) {
		return nil
	}
	return s.Authorize.Check(ctx, caller, act, scope, false)
}

// authorizeWorkspace checks a resolved workspace endpoint request against
// RBAC: t.Action as a data action at t.Workspace. Only a target that
// addresses no workspace (regional discovery, workspaceapi.Target.Open)
// needs no permission; every other target is checked, so a request is
// either resolved and checked or refused before it is served.
func (s *server) authorizeWorkspace(ctx context.Context, caller engine.Caller, t *workspaceapi.Target) error {
	flowInfoFrom(ctx).target(t.Action, t.Resource)
	if s.Authorize == nil || t.Open() {
		return nil
	}
	return s.Authorize.Check(ctx, caller, t.Action, t.Workspace, true)
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
// Everything else, /subscriptions/{s} included, needs a permission: an
// operationStatuses segment anywhere else is not exempt.
func rbacExempt(method string, p resourceid.Path) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	id := p.ID
	tail := strings.ToLower(p.Tail)
	switch {
	case p.ID.IsRoot():
		return tail == "" || tail == "subscriptions" || tail == "tenants" || tail == "providers" || strings.HasSuffix(tail, "/operations")
	case id.Len() == 1 && strings.EqualFold(id.Segment(0).Type, resourceid.TypeProviders):
		return true
	case id.Len() == 1 && strings.EqualFold(id.Segment(0).Type, resourceid.TypeSubscriptions) && tail == "providers":
		return true
	case id.Len() == 2 && strings.EqualFold(id.Segment(0).Type, resourceid.TypeSubscriptions) &&
		strings.EqualFold(id.Segment(1).Type, resourceid.TypeProviders) && p.Tail == "":
		return true
	}
	return engine.IsOperationStatus(p)
}
