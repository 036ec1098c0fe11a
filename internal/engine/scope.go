package engine

import (
	"context"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// ScopeChecker is implemented by the strategies of types whose resources
// live under a scope the engine does not store, such as a management group
// (/providers/Microsoft.Management/managementGroups/{id}): checkAncestors
// skips ancestors of unregistered types, so only the strategy knows
// whether such a scope exists for the caller.
//
// The engine calls CheckScope for every client request to an item of the
// type (any method, and POST actions on it) and to a collection of the
// type, once the type is resolved and the api-version checked, before the
// resource or the collection is read: scope is the item's parent, or the
// ID the collection is listed under. A non-nil error refuses the request. Seed imports and
// virtual types are not checked.
type ScopeChecker interface {
	CheckScope(ctx context.Context, req *Request, scope resourceid.ID) error
}

// checkScope asks t's strategy, when it is a ScopeChecker, whether scope
// is valid for req.
func (e *Engine) checkScope(ctx context.Context, req *Request, t *Type, scope resourceid.ID) error {
	if sc, ok := t.Strategy.(ScopeChecker); ok {
		return sc.CheckScope(ctx, req, scope)
	}
	return nil
}
