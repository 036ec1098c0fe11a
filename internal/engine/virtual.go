package engine

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// serveVirtual dispatches requests to the items and collections of
// virtual types (VirtualStrategy). handled is false for every other
// request.
func (e *Engine) serveVirtual(ctx context.Context, req *Request, p resourceid.Path) (resp *Response, handled bool, err error) {
	var parentID resourceid.ID
	var fullType, name, action string
	switch {
	case p.ID.IsRoot() || p.ID.Len() < 2:
		return nil, false, nil
	case p.Tail == "":
		parentID, fullType, name = p.ID.Parent(), p.ID.ResourceType(), p.ID.Name()
	case req.Method == http.MethodGet && !strings.Contains(p.Tail, "/"):
		parentID, fullType = p.ID, p.ID.ChildType(p.Tail)
	case req.Method == http.MethodPost && !strings.Contains(p.Tail, "/"):
		// An action on an item: p.ID is the item, which no record holds.
		parentID, fullType, name, action = p.ID.Parent(), p.ID.ResourceType(), p.ID.Name(), p.Tail
	default:
		return nil, false, nil
	}
	t, ok := e.reg.Lookup(fullType)
	if !ok {
		return nil, false, nil
	}
	vs, ok := t.Strategy.(VirtualStrategy)
	if !ok {
		return nil, false, nil
	}
	if action != "" {
		resp, err = e.virtualAction(ctx, req, t, parentID, name, action)
		return resp, true, err
	}
	resp, err = e.virtual(ctx, req, t, vs, parentID, name)
	return resp, true, err
}

// virtualAction runs the engine's checks for a POST action on an item of
// a virtual type and hands it to the strategy (VirtualActioner).
func (e *Engine) virtualAction(ctx context.Context, req *Request, t *Type, parentID resourceid.ID, name, action string) (*Response, error) {
	if err := e.checkAPIVersion(req.APIVersion, t); err != nil {
		return nil, err
	}
	va, ok := t.Strategy.(VirtualActioner)
	if !ok {
		return nil, UnknownAction(t.Name, action)
	}
	parent, err := e.virtualParent(ctx, req, t, parentID, name)
	if err != nil {
		return nil, err
	}
	return va.VirtualAction(ctx, req, parent, name, action)
}

// virtual runs the engine's checks for a request to a virtual type and
// hands it to the strategy.
func (e *Engine) virtual(ctx context.Context, req *Request, t *Type, vs VirtualStrategy, parentID resourceid.ID, name string) (*Response, error) {
	if err := e.checkAPIVersion(req.APIVersion, t); err != nil {
		return nil, err
	}
	if req.Method == http.MethodPut {
		if err := checkName(t, name); err != nil {
			return nil, err
		}
	}
	parent, err := e.virtualParent(ctx, req, t, parentID, name)
	if err != nil {
		return nil, err
	}
	if req.Method != http.MethodHead {
		return vs.ServeVirtual(ctx, req, parent, name)
	}
	get := *req
	get.Method = http.MethodGet
	resp, err := vs.ServeVirtual(ctx, &get, parent, name)
	if err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent, Header: resp.Header}, nil
}

// virtualParent checks the ancestors of a virtual item (the 404s and
// gates a stored child would get) or collection, and returns the live
// parent.
func (e *Engine) virtualParent(ctx context.Context, req *Request, t *Type, parentID resourceid.ID, name string) (*Resource, error) {
	read := req.Method == http.MethodGet || req.Method == http.MethodHead
	if name == "" {
		parent, err := e.loadLive(ctx, req, parentID, false)
		if err != nil {
			return nil, err
		}
		return parent, e.gate(ctx, req, parent, t.Name)
	}
	item := parentID.Child(typeSegment(t.Name), name)
	parent, err := e.checkAncestors(ctx, req, item, !read)
	if err != nil {
		return nil, err
	}
	if parent == nil || !parent.ID.Equal(parentID) {
		// A virtual type below a parent the engine does not store.
		return nil, notFound(item)
	}
	return parent, nil
}

// virtualResult answers the final GET of a completed PUT operation on a
// virtual resource: what the strategy answers to a GET of the item.
func (e *Engine) virtualResult(ctx context.Context, req *Request, t *Type, vs VirtualStrategy, id resourceid.ID) (*Response, error) {
	get := *req
	get.Method, get.Path, get.Body = http.MethodGet, id.String(), nil
	return e.virtual(ctx, &get, t, vs, id.Parent(), id.Name())
}
