package engine

import (
	"context"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// ScopeActioner is implemented by the strategies of types whose POST
// actions are answered without a stored resource: the item in the path
// names a view over its scope rather than a resource (Azure Policy's
// /subscriptions/{s}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults).
// The engine resolves the type, checks the api-version and the scope
// (ScopeChecker) and that the stored ancestors exist, then hands the
// request over; id is the item ("…/policyStates/latest") and name the
// action ("queryResults").
type ScopeActioner interface {
	ScopeAction(ctx context.Context, req *Request, id resourceid.ID, name string) (*Response, error)
}

// scopeAction serves a POST to a ScopeActioner's item.
func (e *Engine) scopeAction(ctx context.Context, req *Request, sa ScopeActioner, id resourceid.ID, name string) (*Response, error) {
	if _, err := e.checkAncestors(ctx, req, id, false); err != nil {
		return nil, err
	}
	return sa.ScopeAction(ctx, req, id, name)
}
