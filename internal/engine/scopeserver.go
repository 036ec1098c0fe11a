package engine

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// ScopeServer is implemented by the strategies of extension types that
// live under any scope (the tenant root "/", a subscription, a resource
// group or a resource), such as role definitions and role assignments,
// and that answer some requests themselves: items the engine does not
// store (built-in role definitions) and collection lists that are not
// the direct children of one parent (role assignments at and above a
// scope, with $filter).
//
// For a request to an item of the type (any method) or a GET of its
// collection, the engine resolves the type, checks the api-version and
// checks that the scope's stored ancestors exist (the scope itself
// included: a role assignment under a missing resource group is a 404),
// then asks ServeScope. name is "" for the collection. When handled is
// false the engine serves the request as for any stored type.
type ScopeServer interface {
	ServeScope(ctx context.Context, req *Request, scope resourceid.ID, name string) (resp *Response, handled bool, err error)
}

// serveScope dispatches to ScopeServer strategies; handled is false for
// every other request.
func (e *Engine) serveScope(ctx context.Context, req *Request, p resourceid.Path) (*Response, bool, error) {
	var scope resourceid.ID
	var fullType, name string
	switch {
	case p.Tail == "" && !p.ID.IsRoot():
		scope, fullType, name = p.ID.Parent(), p.ID.ResourceType(), p.ID.Name()
	case p.Tail != "" && req.Method == http.MethodGet && strings.Contains(p.Tail, "/"):
		scope, fullType = p.ID, p.Tail
	default:
		return nil, false, nil
	}
	t, ok := e.reg.Lookup(fullType)
	if !ok {
		return nil, false, nil
	}
	ss, ok := t.Strategy.(ScopeServer)
	if !ok {
		return nil, false, nil
	}
	if err := e.checkAPIVersion(req.APIVersion, t); err != nil {
		return nil, true, err
	}
	if !scope.IsRoot() {
		// checkAncestors checks the ancestors of its argument: pass a
		// child of the scope so the scope itself is checked too.
		if _, err := e.checkAncestors(ctx, req, scope.Child(t.Name, "x"), req.Method != http.MethodGet && req.Method != http.MethodHead); err != nil {
			return nil, true, err
		}
	}
	resp, handled, err := ss.ServeScope(ctx, req, scope, name)
	return resp, handled, err
}
