package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// methodImport marks the requests Import makes for seed files.
const methodImport = "IMPORT"

// maxWriteAttempts bounds the optimistic-concurrency retries of one write
// that did not ask for If-Match (last writer wins, but never a lost merge):
// kv.Retry's bound. The request loops keep their own loop: they also go
// round after finishing a completed delete, and a conflict under If-Match
// ends them with 412, not a retry.
const maxWriteAttempts = kv.MaxAttempts

// checkAncestors verifies that every stored ancestor of id exists and
// returns the nearest one (nil when id's parent is not a stored type, such
// as a management group). forWrite refuses writes beneath a resource group
// that is being deleted.
func (e *Engine) checkAncestors(ctx context.Context, req *Request, id resourceid.ID, forWrite bool) (*Resource, error) {
	var nearest *Resource
	err := e.walkAncestors(ctx, req, id, forWrite, func(r *Resource, _ string) { nearest = r })
	return nearest, err
}

// walkAncestors is checkAncestors, calling visit with each live stored
// ancestor of id, from the top, and the full type of the level below it
// on id's path, once its gate has let the request through.
func (e *Engine) walkAncestors(ctx context.Context, req *Request, id resourceid.ID, forWrite bool, visit func(r *Resource, childType string)) error {
	segs := id.Segments()
	for i := 1; i < len(segs); i++ {
		anc := resourceid.New(segs[:i]...)
		if !e.storedType(anc) {
			continue
		}
		r, err := e.load(ctx, anc)
		if err != nil {
			return err
		}
		missing := r == nil || r.Gone(req.Now)
		switch {
		case i == 1 && missing:
			return arm.NotFound(arm.CodeSubscriptionNotFound, "The subscription '%s' could not be found.", anc.Name()).Wrap(ErrNotFound)
		case i == 2 && anc.ResourceGroupName() != "" && missing:
			return arm.NotFound(arm.CodeResourceGroupNotFound, "Resource group '%s' could not be found.", anc.Name()).Wrap(ErrNotFound)
		case i == 2 && anc.ResourceGroupName() != "" && forWrite && r.Deleting(req.Now):
			return arm.Conflict(arm.CodeResourceGroupBeingDel,
				"The resource group '%s' is in deprovisioning state and cannot perform this operation.", r.ID.Name())
		case missing:
			return arm.NotFound(arm.CodeParentResourceNotFound,
				"Can not perform requested operation on nested resource. Parent resource '%s' not found.", anc.Name()).Wrap(ErrNotFound)
		}
		childType := resourceid.New(segs[:i+1]...).ResourceType()
		if err := e.gate(ctx, req, r, childType); err != nil {
			return err
		}
		visit(r, childType)
	}
	return nil
}

// gate asks the strategy of anc, a live ancestor, whether requests to its
// children of childType may proceed.
func (e *Engine) gate(ctx context.Context, req *Request, anc *Resource, childType string) error {
	if req.Method == methodImport {
		return nil
	}
	t, ok := e.reg.Lookup(anc.Type)
	if !ok {
		return nil
	}
	if g, ok := t.Strategy.(ChildGate); ok {
		return g.GateChild(ctx, req, anc, childType)
	}
	return nil
}

// storedType reports whether resources at id are kept by the engine
// (subscriptions, resource groups and registered types).
func (e *Engine) storedType(id resourceid.ID) bool {
	if id.Len() == 1 && strings.EqualFold(id.Last().Type, resourceid.TypeSubscriptions) {
		return true
	}
	_, ok := e.reg.Lookup(id.ResourceType())
	return ok
}

// canonicalID gives id the casing of its stored parent and of its type.
func canonicalID(id resourceid.ID, parent *Resource, t *Type) resourceid.ID {
	if parent != nil {
		id = id.WithCasing(parent.ID)
	}
	last := id.Last()
	if last.Namespaced() {
		last.Type = t.Name
	} else {
		last.Type = typeSegment(t.Name)
	}
	return id.WithLast(last)
}

// ErrNotFound is wrapped by every error the engine returns because a
// resource or one of its ancestors does not exist (404
// ResourceNotFound, ParentResourceNotFound, ResourceGroupNotFound,
// SubscriptionNotFound), so that callers test errors.Is(err, ErrNotFound)
// rather than a status or a code.
var ErrNotFound = errors.New("engine: not found")

// notFound is ARM's 404 for id, wrapping ErrNotFound.
func notFound(id resourceid.ID) *arm.Error {
	if id.Len() == 2 && id.ResourceGroupName() != "" {
		return arm.NotFound(arm.CodeResourceGroupNotFound, "Resource group '%s' could not be found.", id.Name()).Wrap(ErrNotFound)
	}
	var b strings.Builder
	b.WriteString(id.Namespace())
	started := false
	for _, s := range id.Segments() {
		if s.Namespaced() {
			started = true
			b.Reset()
			b.WriteString(s.Type)
			b.WriteString("/" + s.Name)
			continue
		}
		if started {
			b.WriteString("/" + s.Type + "/" + s.Name)
		}
	}
	if !started {
		b.WriteString("/" + id.Last().Type + "/" + id.Name())
	}
	if rg := id.ResourceGroupName(); rg != "" {
		return arm.NotFound(arm.CodeResourceNotFound,
			"The Resource '%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", b.String(), rg).Wrap(ErrNotFound)
	}
	return arm.NotFound(arm.CodeResourceNotFound,
		"The Resource '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", b.String()).Wrap(ErrNotFound)
}

// Get returns the live resource at id, or an *arm.Error 404. Providers use
// it to follow references between resources.
func (e *Engine) Get(ctx context.Context, id resourceid.ID) (*Resource, error) {
	r, err := e.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if r == nil || r.Gone(e.clock.Now()) {
		return nil, notFound(id)
	}
	return r, nil
}

// loadLive checks id's ancestors and returns the live resource at id, or
// the 404 a client should see.
func (e *Engine) loadLive(ctx context.Context, req *Request, id resourceid.ID, forWrite bool) (*Resource, error) {
	if _, err := e.checkAncestors(ctx, req, id, forWrite); err != nil {
		return nil, err
	}
	return e.loadPresent(ctx, req, id)
}

// loadPresent returns the live resource at id, or the 404 a client should
// see, once its ancestors are checked.
func (e *Engine) loadPresent(ctx context.Context, req *Request, id resourceid.ID) (*Resource, error) {
	r, err := e.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if r == nil || r.Gone(req.Now) {
		return nil, notFound(id)
	}
	return r, nil
}

func (e *Engine) get(ctx context.Context, req *Request, t *Type, id resourceid.ID) (*Response, error) {
	r, err := e.loadLive(ctx, req, id, false)
	if err != nil {
		return nil, err
	}
	return e.resourceResponse(ctx, http.StatusOK, t, r, req)
}

func (e *Engine) resourceResponse(ctx context.Context, status int, t *Type, r *Resource, req *Request) (*Response, error) {
	body, err := t.render(ctx, r, req.APIVersion, req.Now)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("ETag", r.ETag())
	return &Response{Status: status, Header: h, Body: body}, nil
}

// checkPreconditions applies If-Match and If-None-Match (ARM RPC,
// "ETags for Resources"). cur is nil when the resource does not exist.
func checkPreconditions(h http.Header, cur *Resource) error {
	if im := h.Get("If-Match"); im != "" {
		if cur == nil || !etagMatches(im, cur.ETag()) {
			return arm.PreconditionFailed(im)
		}
	}
	if inm := h.Get("If-None-Match"); inm != "" && cur != nil {
		if strings.TrimSpace(inm) == "*" || etagMatches(inm, cur.ETag()) {
			return arm.PreconditionFailed(inm)
		}
	}
	return nil
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" {
			return true
		}
		part = strings.TrimPrefix(part, "W/")
		if strings.Trim(part, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

func (e *Engine) put(ctx context.Context, req *Request, t *Type, id resourceid.ID) (*Response, error) {
	if err := checkName(t, id.Name()); err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(req.Body))) == 0 {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: 'the request body is required'.")
	}
	body, err := decodeObject(req.Body)
	if err != nil {
		return nil, err
	}
	if err := e.checkRegistered(ctx, req, id, t); err != nil {
		return nil, err
	}
	for range maxWriteAttempts {
		parent, implicit, err := e.putAncestors(ctx, req, t, id)
		if err != nil {
			return nil, err
		}
		old, err := e.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if old != nil && old.Gone(req.Now) {
			// A completed delete the background loop has not made physical
			// yet: finish it now so the new resource starts clean.
			if _, err := e.finishDelete(ctx, old); err != nil {
				return nil, err
			}
			continue
		}
		if old != nil && old.Deleting(req.Now) {
			return nil, arm.Conflict(arm.CodeConflict, "The resource '%s' is being deleted and cannot be updated until the deletion completes.", old.ID)
		}
		if err := checkPreconditions(req.Header, old); err != nil {
			return nil, err
		}
		cid := canonicalID(id, parent, t)
		if implicit != nil {
			cid = canonicalID(id.WithCasing(canonicalID(id.Parent(), parent, implicit)), nil, t)
		}
		if old != nil {
			cid = old.ID
		}
		desired, err := e.fromBody(t, cid, body, old)
		if err != nil {
			return nil, err
		}
		style := t.Put
		if old != nil && t.SyncUpdate {
			style = Sync
		}
		if style == AsyncOperation && req.LocationPut {
			style = Location
		}
		resp, retry, err := e.write(ctx, req, t, desired, old, style, implicit)
		if retry {
			continue
		}
		return resp, err
	}
	return nil, arm.Conflict(arm.CodeConflict, "The resource '%s' is being changed by too many concurrent requests; retry.", id)
}

func (e *Engine) patch(ctx context.Context, req *Request, t *Type, id resourceid.ID) (*Response, error) {
	patch, err := decodeObject(req.Body)
	if err != nil {
		return nil, err
	}
	for range maxWriteAttempts {
		if _, err := e.checkAncestors(ctx, req, id, true); err != nil {
			return nil, err
		}
		old, err := e.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if old == nil || old.Gone(req.Now) {
			if im := req.Header.Get("If-Match"); im != "" {
				return nil, arm.PreconditionFailed(im)
			}
			return nil, notFound(id)
		}
		if err := checkPreconditions(req.Header, old); err != nil {
			return nil, err
		}
		merged, err := mergeForPatch(old, t, patch)
		if err != nil {
			return nil, err
		}
		desired, err := e.fromBody(t, old.ID, merged, old)
		if err != nil {
			return nil, err
		}
		resp, retry, err := e.write(ctx, req, t, desired, old, Sync, nil)
		if retry {
			continue
		}
		return resp, err
	}
	return nil, arm.Conflict(arm.CodeConflict, "The resource '%s' is being changed by too many concurrent requests; retry.", id)
}

// putAncestors is checkAncestors for a PUT of t at id. When t creates its
// parent implicitly (Type.ImplicitParent) and the parent is missing, it
// returns the nearest stored ancestor above the parent and the parent's
// type, for write to create it.
func (e *Engine) putAncestors(ctx context.Context, req *Request, t *Type, id resourceid.ID) (*Resource, *Type, error) {
	pid := id.Parent()
	pt, ok := e.reg.Lookup(pid.ResourceType())
	if t.ImplicitParent == nil || !ok || pid.Len() < 3 {
		parent, err := e.checkAncestors(ctx, req, id, true)
		return parent, nil, err
	}
	grand, err := e.checkAncestors(ctx, req, pid, true)
	if err != nil {
		return nil, nil, err
	}
	parent, err := e.load(ctx, pid)
	if err != nil {
		return nil, nil, err
	}
	if parent != nil && parent.Gone(req.Now) {
		done, err := e.finishDelete(ctx, parent)
		if err != nil {
			return nil, nil, err
		}
		if !done {
			return nil, nil, arm.Conflict(arm.CodeConflict, "The resource '%s' is being changed by concurrent requests; retry.", pid)
		}
		parent = nil
	}
	if parent == nil {
		return grand, pt, nil
	}
	if err := e.gate(ctx, req, parent, id.ResourceType()); err != nil {
		return nil, nil, err
	}
	return parent, nil, nil
}

// implicitParent builds, validates and returns the parent of type pt that a
// PUT of child creates (Type.ImplicitParent); the parent's name must pass
// pt's name rule.
func (e *Engine) implicitParent(ctx context.Context, req *Request, t, pt *Type, child *Resource) (*Resource, error) {
	if err := checkName(pt, child.ID.Parent().Name()); err != nil {
		return nil, err
	}
	body := t.ImplicitParent(child)
	if body == nil {
		body = map[string]any{}
	}
	p, err := e.fromBody(pt, child.ID.Parent(), body, nil)
	if err != nil {
		return nil, err
	}
	p.SystemData = child.SystemData
	p.Internal.CreatedAPIVersion = req.APIVersion
	if err := pt.Strategy.Validate(ctx, req, p, nil); err != nil {
		return nil, err
	}
	delete(p.Properties, "provisioningState")
	return p, nil
}

// write runs the strategy and stores desired. retry is true when another
// writer changed the resource since it was read and the caller did not
// pin a version with If-Match. implicit, when set, is the type of
// desired's missing parent, which write creates in the same transaction.
func (e *Engine) write(ctx context.Context, req *Request, t *Type, desired, old *Resource, style LROStyle, implicit *Type) (resp *Response, retry bool, err error) {
	var oldCopy *Resource
	if old != nil {
		oldCopy = old.Clone()
		desired.SystemData = old.SystemData
		desired.Internal.CreatedAPIVersion = old.Internal.CreatedAPIVersion
		desired.Internal.Data = maps.Clone(old.Internal.Data)
	} else {
		desired.SystemData.CreatedBy, desired.SystemData.CreatedByType = callerIdentity(req.Caller)
		desired.SystemData.CreatedAt = req.Now
		desired.Internal.CreatedAPIVersion = req.APIVersion
	}
	desired.SystemData.LastModifiedBy, desired.SystemData.LastModifiedByType = callerIdentity(req.Caller)
	desired.SystemData.LastModifiedAt = req.Now
	if err := e.admit(ctx, req, desired, oldCopy); err != nil {
		return nil, false, err
	}
	if err := t.Strategy.Validate(ctx, req, desired, oldCopy); err != nil {
		return nil, false, err
	}
	delete(desired.Properties, "provisioningState")
	if style != Sync {
		state := "Creating"
		if old != nil {
			state = "Updating"
		}
		desired.Internal.Provisioning = &Transition{State: state, Until: req.Now.Add(e.opDur)}
	} else {
		desired.Internal.Provisioning = nil
	}
	cond := kv.Absent
	if old != nil {
		cond = kv.AtRevision(old.Revision)
	}
	companions, err := e.companions(ctx, req, t, desired, oldCopy)
	if err != nil {
		return nil, false, err
	}
	var b kv.Batch
	e.tables.put(&b, desired, cond)
	e.putCompanions(&b, companions)
	if implicit != nil {
		p, err := e.implicitParent(ctx, req, t, implicit, desired)
		if err != nil {
			return nil, false, err
		}
		e.tables.put(&b, p, kv.Absent)
	}
	var op *Operation
	if style != Sync {
		op = e.newOperation(req, desired, opPut, req.Now.Add(e.opDur))
		e.tables.addOperation(&b, op)
	}
	rev, err := b.Commit(ctx)
	if err != nil {
		var ce *kv.ConflictError
		isRecord := func(id resourceid.ID) bool {
			return ce.Space == kv.SpaceResources && string(ce.Key) == string(resourceKey(id))
		}
		if implicit != nil && errors.As(err, &ce) && isRecord(desired.ID.Parent()) {
			return nil, true, nil // the parent was created meanwhile
		}
		if errors.As(err, &ce) && isCompanion(ce, companions) {
			return nil, true, nil // made meanwhile: leave it out
		}
		if errors.As(err, &ce) && isRecord(desired.ID) {
			if im := req.Header.Get("If-Match"); im != "" {
				return nil, false, arm.PreconditionFailed(im)
			}
			if req.Header.Get("If-None-Match") != "" {
				return nil, false, arm.PreconditionFailed(req.Header.Get("If-None-Match"))
			}
			return nil, true, nil
		}
		return nil, false, err
	}
	desired.Revision = rev
	if err := e.companionsStored(ctx, req, companions, rev); err != nil {
		e.log.Warn("a companion's post-import failed", "resource", desired.ID.String(), "err", err)
	}
	e.written(ctx, req, desired)
	status := http.StatusOK
	if t.UpdatedStatus != 0 {
		status = t.UpdatedStatus
	}
	if old == nil {
		status = http.StatusCreated
		if t.CreatedStatus != 0 {
			status = t.CreatedStatus
		}
	}
	switch style {
	case Sync:
		resp, err := e.resourceResponse(ctx, status, t, desired, req)
		return resp, false, err
	case AsyncOperation:
		resp, err := e.resourceResponse(ctx, status, t, desired, req)
		if err != nil {
			return nil, false, err
		}
		op.setHeaders(resp.Header, req, false)
		return resp, false, nil
	default: // Location
		h := http.Header{}
		op.setHeaders(h, req, true)
		return &Response{Status: http.StatusAccepted, Header: h}, false, nil
	}
}

func callerIdentity(c Caller) (string, string) {
	if c.PrincipalType == "User" {
		return c.Name, "User"
	}
	if c.AppID != "" {
		return c.AppID, "Application"
	}
	return c.ObjectID, "Application"
}

func (e *Engine) delete(ctx context.Context, req *Request, t *Type, id resourceid.ID) (*Response, error) {
	for range maxWriteAttempts {
		if _, err := e.checkAncestors(ctx, req, id, false); err != nil {
			return nil, err
		}
		r, err := e.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if r == nil || r.Gone(req.Now) {
			if id.Len() == 2 && id.ResourceGroupName() != "" {
				// ResourceGroups_Delete lists 200 and 202 only: Azure
				// answers a missing group with 404 ResourceGroupNotFound.
				return nil, notFound(id)
			}
			return &Response{Status: http.StatusNoContent}, nil
		}
		if err := checkPreconditions(req.Header, r); err != nil {
			return nil, err
		}
		if dv, ok := t.Strategy.(DeleteValidator); ok {
			if err := dv.ValidateDelete(ctx, req, r); err != nil {
				return nil, err
			}
		}
		if t.Delete == Sync {
			done, err := e.finishDelete(ctx, r)
			if err != nil {
				return nil, err
			}
			if !done {
				continue // changed meanwhile: look again
			}
			if t.DeleteBody {
				body, err := t.render(ctx, r, req.APIVersion, req.Now)
				if err != nil {
					return nil, err
				}
				return JSON(http.StatusOK, body), nil
			}
			return &Response{Status: http.StatusOK}, nil
		}
		due := req.Now.Add(e.opDur)
		if r.Deleting(req.Now) {
			due = r.Internal.DeleteAt
		}
		r.Internal.DeleteAt = due
		op := e.newOperation(req, r, opDelete, due)
		var b kv.Batch
		e.tables.put(&b, r, kv.AtRevision(r.Revision))
		e.tables.addOperation(&b, op)
		if _, err := b.Commit(ctx); err != nil {
			if errors.Is(err, kv.ErrConflict) {
				continue
			}
			return nil, err
		}
		e.Wake()
		h := http.Header{}
		op.setHeaders(h, req, true)
		if t.Delete == AsyncOperation {
			op.setHeaders(h, req, false)
		}
		return &Response{Status: http.StatusAccepted, Header: h}, nil
	}
	return nil, arm.Conflict(arm.CodeConflict, "The resource '%s' is being changed by too many concurrent requests; retry.", id)
}

// finishDelete removes r and its subtree, tells the Removers of what went
// and runs the delete hooks. It reports false, having removed the subtree
// only, when r's record changed since r was loaded.
func (e *Engine) finishDelete(ctx context.Context, r *Resource) (bool, error) {
	return e.removeTree(ctx, r, true)
}

// removeTree is finishDelete; tell is false when nothing may be left
// behind (an import undone), so the Removers are not told.
func (e *Engine) removeTree(ctx context.Context, r *Resource, tell bool) (bool, error) {
	removed, err := e.deleteTree(ctx, r.ID, r.Revision)
	if tell {
		if err == nil && e.remover(r) != nil {
			removed = append(removed, r)
		}
		for _, gone := range removed {
			e.remover(gone).Removed(ctx, gone)
		}
	}
	if err != nil {
		if errors.Is(err, kv.ErrConflict) {
			return false, nil
		}
		return false, err
	}
	e.hooksMu.RLock()
	hooks := e.onDelete
	e.hooksMu.RUnlock()
	for _, h := range hooks {
		h(ctx, r)
	}
	return true, nil
}

func (e *Engine) action(ctx context.Context, req *Request, id resourceid.ID, name string) (*Response, error) {
	if id.IsRoot() {
		return nil, arm.NotFound("InvalidRequestUri", "No HTTP resource was found that matches the request URI '%s'.", req.Path)
	}
	t, err := e.resolveType(req, id.ResourceType())
	if err != nil {
		return nil, err
	}
	if err := e.checkScope(ctx, req, t, id.Parent()); err != nil {
		return nil, err
	}
	if sa, ok := t.Strategy.(ScopeActioner); ok {
		return e.scopeAction(ctx, req, sa, id, name)
	}
	r, err := e.loadLive(ctx, req, id, true)
	if err != nil {
		return nil, err
	}
	a, ok := t.Strategy.(Actioner)
	if !ok {
		return nil, UnknownAction(t.Name, name)
	}
	return a.Action(ctx, req, r, name)
}

// Save stores r, as changed by a strategy (an action such as a key
// regeneration), if its record is still at the revision r was loaded
// with. If another request wrote it since, Save fails with a 409 Conflict
// *arm.Error for which errors.Is(err, kv.ErrConflict) holds; a caller that
// can redo its change from a fresh read wants Update instead. Like Update,
// Save writes the record only: no validation, admission or write hooks.
func (e *Engine) Save(ctx context.Context, r *Resource) error {
	if err := e.save(ctx, r); err != nil {
		if errors.Is(err, kv.ErrConflict) {
			return arm.Conflict(arm.CodeConflict, "The resource '%s' was changed by another request; retry.", r.ID).Wrap(err)
		}
		return err
	}
	return nil
}

// save is Save with the store's error as it is.
func (e *Engine) save(ctx context.Context, r *Resource) error {
	rev, err := e.tables.putResource(ctx, r, kv.AtRevision(r.Revision))
	if err != nil {
		return err
	}
	r.Revision = rev
	return nil
}

// ErrNoChange, returned by the function given to Update, says that the
// resource needs no change: Update then writes nothing.
var ErrNoChange = errors.New("engine: no change")

// Update changes the live resource at id with f and stores it if its
// record is still at the revision read: the optimistic read-modify-write
// of a provider, with the retry inside (kv.Retry).
//
// f gets the resource as stored now, a copy of its own to change in
// place. f may be called several times, each time with a freshly loaded
// resource (when another request wrote it between the read and the
// write), so it must derive its change from what it is given, and
// anything it records outside (a flag, a result) must be set anew on
// every call. f returning ErrNoChange (or an error wrapping it) ends
// Update without a write; any other error ends it with that error, as f
// returned it, except that one wrapping kv.ErrConflict (from a write f
// made itself) is retried like Update's own. After kv.MaxAttempts
// conflicting attempts Update fails with a 409 Conflict *arm.Error for
// which errors.Is(err, kv.ErrConflict) holds.
// A resource that does not exist, or whose delete has completed, is the
// 404 Get gives, and f is not called.
//
// Like Save, Update writes the record only: it runs no validation,
// admission (Azure Policy) or write hooks, and leaves systemData and the
// provisioning state to f. It returns the resource as f left it: with its
// new revision when written, unwritten after ErrNoChange.
func (e *Engine) Update(ctx context.Context, id resourceid.ID, f func(*Resource) error) (*Resource, error) {
	var out *Resource
	err := kv.Retry(ctx, func() error {
		r, err := e.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := f(r); err != nil {
			if errors.Is(err, ErrNoChange) {
				out = r
				return nil
			}
			return err
		}
		if err := e.save(ctx, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if errors.Is(err, kv.ErrConflict) {
		return nil, arm.Conflict(arm.CodeConflict, "The resource '%s' is being changed by too many concurrent requests; retry.", id).Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Render returns the wire form of r at req's api-version and time.
func (e *Engine) Render(ctx context.Context, req *Request, r *Resource) (map[string]any, error) {
	t, ok := e.reg.Lookup(r.Type)
	if !ok {
		return nil, fmt.Errorf("engine: type %s not registered", r.Type)
	}
	return t.render(withBaseURL(ctx, req.BaseURL), r, req.APIVersion, req.Now)
}

// Import stores a pre-existing resource from a seed file: no long-running
// operation, the strategy's Importer (or Validate) decides its state. A
// resource that already exists is left as it is, so seeding is idempotent
// across restarts; imported reports whether it was written. The body's
// systemData, when it has one (with a createdAt), is kept: who made the
// resource and when; otherwise the caller made it now.
func (e *Engine) Import(ctx context.Context, id resourceid.ID, body map[string]any, apiVersion string, caller Caller) (imported bool, err error) {
	return e.ImportWith(ctx, id, body, apiVersion, caller, nil)
}

// ImportWith is Import for a provider that creates a record of one of its
// own types at run time (a record set a zone group writes), passing arg to
// the type's Importer as Request.ImportArg: what the strategy must know
// about the record that its body does not say. Only the body is validated
// as a seed's would be; arg is never stored by the engine.
func (e *Engine) ImportWith(ctx context.Context, id resourceid.ID, body map[string]any, apiVersion string, caller Caller, arg any) (imported bool, err error) {
	_, imported, err = e.importResource(ctx, id, body, apiVersion, caller, arg, RestoreOptions{})
	return imported, err
}

// importResource is Import, ImportWith and Restore: it returns the stored
// resource when it wrote one.
func (e *Engine) importResource(ctx context.Context, id resourceid.ID, body map[string]any, apiVersion string, caller Caller, arg any, opts RestoreOptions) (*Resource, bool, error) {
	req := &Request{Method: methodImport, Path: id.String(), APIVersion: apiVersion, Caller: caller, Now: e.clock.Now(), Header: http.Header{}, ImportArg: arg}
	t, err := e.resolveType(req, id.ResourceType())
	if err != nil {
		return nil, false, err
	}
	if err := checkName(t, id.Name()); err != nil {
		return nil, false, err
	}
	for range maxWriteAttempts {
		parent, err := e.checkAncestors(ctx, req, id, true)
		if err != nil {
			return nil, false, err
		}
		old, err := e.load(ctx, id)
		if err != nil || (old != nil && !opts.Replace) {
			return nil, false, err
		}
		r, err := e.prepareImport(ctx, req, t, canonicalID(id, parent, t), body, opts.State)
		if err != nil {
			return nil, false, err
		}
		companions, err := e.companions(ctx, req, t, r, old)
		if err != nil {
			return nil, false, err
		}
		cond := kv.Absent
		if old != nil {
			cond = kv.AtRevision(old.Revision)
		}
		var b kv.Batch
		e.tables.put(&b, r, cond)
		e.putCompanions(&b, companions)
		rev, err := b.Commit(ctx)
		if err != nil {
			var ce *kv.ConflictError
			if errors.As(err, &ce) && isCompanion(ce, companions) {
				continue // one was made meanwhile: leave it out
			}
			if errors.Is(err, kv.ErrConflict) {
				return nil, false, nil
			}
			return nil, false, err
		}
		r.Revision = rev
		if err := e.companionsStored(ctx, req, companions, rev); err != nil {
			return r, true, err
		}
		if pi, ok := t.Strategy.(PostImporter); ok {
			if err := pi.PostImport(ctx, req, r); err != nil {
				return r, true, err
			}
		}
		return r, true, nil
	}
	return nil, false, arm.Conflict(arm.CodeConflict, "The resource '%s' is being changed by too many concurrent requests; retry.", id)
}

// prepareImport builds the resource a seed's body describes at id (its
// canonical ID), made by t's Importer (or Validate) for req, with state,
// when set, the state an export carried.
func (e *Engine) prepareImport(ctx context.Context, req *Request, t *Type, id resourceid.ID, body map[string]any, state *State) (*Resource, error) {
	r, err := e.fromBody(t, id, body, nil)
	if err != nil {
		return nil, err
	}
	r.SystemData.CreatedBy, r.SystemData.CreatedByType = callerIdentity(req.Caller)
	r.SystemData.CreatedAt = req.Now
	r.SystemData.LastModifiedBy, r.SystemData.LastModifiedByType = r.SystemData.CreatedBy, r.SystemData.CreatedByType
	r.SystemData.LastModifiedAt = req.Now
	if sd, ok := bodySystemData(body); ok {
		r.SystemData = sd
	}
	r.Internal.CreatedAPIVersion = req.APIVersion
	if state != nil {
		// Before the strategy, too: what it keeps when present (a
		// workspace's keys and identities) it then keeps.
		r.Internal.Data = maps.Clone(state.Data)
	}
	if im, ok := t.Strategy.(Importer); ok {
		err = im.Import(ctx, req, r)
	} else {
		err = t.Strategy.Validate(ctx, req, r, nil)
	}
	if err != nil {
		return nil, err
	}
	delete(r.Properties, "provisioningState")
	if state != nil {
		if err := e.restoreState(ctx, req, t, r, state); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// List returns the live direct children of parent of the given type
// segment ("computes", or a namespaced type under a resource group), for
// strategies that compose children into a parent's view.
func (e *Engine) List(ctx context.Context, parent resourceid.ID, typeSeg string) ([]*Resource, error) {
	var out []*Resource
	now := e.clock.Now()
	err := e.scanAll(ctx, e.tables.records, childrenPrefix(parent, typeSeg), func(ent kv.Entry) error {
		r, err := decodeResource(ent.Value, ent.Revision)
		if err != nil {
			return err
		}
		if !r.Gone(now) {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Describe returns the admin view of the resource at id: its wire form,
// the engine's internal state and the strategy's derived state.
func (e *Engine) Describe(ctx context.Context, id resourceid.ID, apiVersion string) (map[string]any, error) {
	r, err := e.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	t, ok := e.reg.Lookup(r.Type)
	if !ok {
		return nil, fmt.Errorf("engine: type %s not registered", r.Type)
	}
	now := e.clock.Now()
	if apiVersion == "" {
		apiVersion = t.APIVersions[0]
	}
	resource, err := t.render(ctx, r, apiVersion, now)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"resource": resource,
		"internal": r.Internal,
		"etag":     r.ETag(),
		"now":      now,
	}
	if d, ok := t.Strategy.(Describer); ok {
		out["derived"] = d.Describe(r, now)
	}
	return out, nil
}
