package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// Export, restore and reset: the engine's side of `armlet export`,
// `armlet import` and `armlet reset`. An export holds each stored resource
// as a GET shows it at its type's newest api-version (so an export is a
// seed file), plus the State a GET does not show; Restore imports such a
// resource as a seed's and then gives it that state back, so the resource
// reads as it did.

// State is what an export carries of a resource besides its GET body:
// armlet's own stored state of it (Internal without the transient parts),
// which the strategies made and read. It holds secrets (datastore secrets,
// keys) and its shape is armlet's, not Azure's.
type State struct {
	// CreatedAPIVersion is the api-version the resource was created at
	// (rule L2 of a workspace depends on it).
	CreatedAPIVersion string `json:"createdApiVersion,omitempty"`
	// Data is the strategy's private state (Internal.Data).
	Data map[string]json.RawMessage `json:"data,omitempty"`
}

// Exported is one stored resource as an export holds it.
type Exported struct {
	ID resourceid.ID
	// Type is the resource's type, as registered (TypeSubscriptions for
	// a subscription).
	Type string
	// APIVersion is the type's newest, the one Body is rendered at (empty
	// for a subscription, whose Body is its GET body).
	APIVersion string
	// Body is the GET body at APIVersion, without its etag (a revision of
	// this store, meaningless in another).
	Body  map[string]any
	State State
}

// Export returns every live stored resource, subscriptions included,
// rendered now, parents before children (by depth, then by ID). Resources
// whose delete has started are left out: they are gone or about to be.
// Virtual types (subnets, outbound rules) are not stored on their own:
// they are part of their parent's body.
func (e *Engine) Export(ctx context.Context) ([]Exported, error) {
	now := e.clock.Now()
	all, err := e.allRecords(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b *Resource) int {
		if d := a.ID.Len() - b.ID.Len(); d != 0 {
			return d
		}
		return strings.Compare(a.ID.Key(), b.ID.Key())
	})
	var out []Exported
	left := map[string]bool{} // keys of the resources left out
	for _, r := range all {
		if strings.EqualFold(r.Type, TypeSubscriptions) {
			plain, err := plainJSON(subscriptionBody(r))
			if err != nil {
				return nil, err
			}
			out = append(out, Exported{ID: r.ID, Type: TypeSubscriptions, Body: plain})
			continue
		}
		t, ok := e.reg.Lookup(r.Type)
		if !ok || !r.Internal.DeleteAt.IsZero() || leftOut(left, r.ID) {
			// Being deleted, beneath one that is, or of a type no longer
			// served (nothing could read it back).
			left[r.ID.Key()] = true
			continue
		}
		body, err := t.render(ctx, r, t.APIVersions[0], now)
		if err != nil {
			return nil, err
		}
		delete(body, "etag")
		if ex, ok := t.Strategy.(Exporter); ok {
			ex.ExportBody(r, body)
		}
		plain, err := plainJSON(body)
		if err != nil {
			return nil, err
		}
		out = append(out, Exported{
			ID: r.ID, Type: t.Name, APIVersion: t.APIVersions[0], Body: plain,
			State: State{CreatedAPIVersion: r.Internal.CreatedAPIVersion, Data: maps.Clone(r.Internal.Data)},
		})
	}
	return out, nil
}

// allRecords reads every stored resource, in key order.
func (e *Engine) allRecords(ctx context.Context) ([]*Resource, error) {
	var all []*Resource
	err := e.scanAll(ctx, e.tables.records, nil, func(ent kv.Entry) error {
		r, err := decodeResource(ent.Value, ent.Revision)
		if err != nil {
			return err
		}
		all = append(all, r)
		return nil
	})
	return all, err
}

// leftOut reports whether an ancestor of id is in left.
func leftOut(left map[string]bool, id resourceid.ID) bool {
	for p := id.Parent(); !p.IsRoot(); p = p.Parent() {
		if left[p.Key()] {
			return true
		}
	}
	return false
}

// plainJSON turns a rendered body (typed values: SystemData, raw JSON of
// the envelope members) into generic JSON, the form an import reads.
func plainJSON(body map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out map[string]any
	return out, dec.Decode(&out)
}

// RestoreOptions says how Restore writes one resource.
type RestoreOptions struct {
	// State is what an export carried beyond the body; nil for a
	// resource of a hand-written seed file, which gets the state Import
	// gives it.
	State *State
	// Replace writes the resource even if one exists at its ID, over the
	// revision found, instead of leaving that one alone. An import sets it
	// for resources that did not exist when it began but that an earlier
	// resource of the same file made (a private endpoint makes its
	// connection on the workspace), so the file's state wins.
	Replace bool
}

// Restore stores a resource of a seed or export file as Import does,
// with, when opts.State is set, the exported state: it is laid in before
// the strategy's Import (or Validate) runs, so that what a strategy keeps
// when present (a workspace's keys, its identities' ids) it keeps, and
// again over what the strategy made, so that what it makes afresh on
// every create (a compute instance's state, a job's progress) is the
// exported one; then the strategy's Restorer brings its outside records
// in line. The body's systemData, when it has one, is kept. Unlike Import,
// Restore tells the write observers (Azure Policy's compliance and its
// caches) about the stored resource. imported reports whether it wrote
// the resource.
func (e *Engine) Restore(ctx context.Context, id resourceid.ID, body map[string]any, apiVersion string, caller Caller, opts RestoreOptions) (imported bool, err error) {
	r, imported, err := e.importResource(ctx, id, body, apiVersion, caller, nil, opts)
	if err != nil || !imported {
		return imported, err
	}
	e.written(ctx, &Request{Method: methodImport, Path: id.String(), APIVersion: apiVersion, Caller: caller, Now: e.clock.Now()}, r)
	return true, nil
}

// restoreState lays st over r, which the strategy's Import (or Validate)
// made, and lets a Restorer bring its outside records in line.
func (e *Engine) restoreState(ctx context.Context, req *Request, t *Type, r *Resource, st *State) error {
	made := r.Clone()
	if st.CreatedAPIVersion != "" {
		r.Internal.CreatedAPIVersion = st.CreatedAPIVersion
	}
	for k, v := range st.Data {
		if r.Internal.Data == nil {
			r.Internal.Data = map[string]json.RawMessage{}
		}
		r.Internal.Data[k] = v
	}
	if rs, ok := t.Strategy.(Restorer); ok {
		return rs.Restore(ctx, req, r, made)
	}
	return nil
}

// bodySystemData reads the systemData member of an imported body; ok is
// false when it has none or one that does not read as systemData.
func bodySystemData(body map[string]any) (sd SystemData, ok bool) {
	v, has := body["systemData"]
	if !has || v == nil {
		return sd, false
	}
	raw, err := json.Marshal(v)
	if err != nil || json.Unmarshal(raw, &sd) != nil || sd.CreatedAt.IsZero() {
		return SystemData{}, false
	}
	return sd, true
}

// Reset deletes every stored resource (subscriptions, resource groups,
// tenant-level resources: everything under the root), every operation
// record and every provider registration, then runs the delete hooks for
// each deleted resource, so the providers drop what they keep beside them
// (IP claims, policy states, a workspace's data-plane records) and the
// caches follow. It returns the resources it deleted.
//
// Requests served while Reset runs may see some resources gone and
// others not, and what they write after it has passed stays.
func (e *Engine) Reset(ctx context.Context) ([]*Resource, error) {
	deleted, err := e.allRecords(ctx)
	if err != nil {
		return nil, err
	}
	t := e.tables
	for _, v := range []kv.View{t.records, t.byType, t.byGroup, t.operations, t.due, t.registrations} {
		if err := dropAll(ctx, v); err != nil {
			return nil, err
		}
	}
	e.hooksMu.RLock()
	hooks := e.onDelete
	e.hooksMu.RUnlock()
	// Children first, as a cascading delete would leave them.
	slices.SortStableFunc(deleted, func(a, b *Resource) int { return b.ID.Len() - a.ID.Len() })
	for _, r := range deleted {
		for _, h := range hooks {
			h(ctx, r)
		}
	}
	e.Wake()
	return deleted, nil
}

// Remove deletes the resource at id and its subtree at once, as a
// completed delete does, with the delete hooks; no strategy is asked
// (undoing an import that failed half-way). A resource that is not there
// is no error.
func (e *Engine) Remove(ctx context.Context, id resourceid.ID) error {
	return kv.Retry(ctx, func() error {
		r, err := e.load(ctx, id)
		if err != nil || r == nil {
			return err
		}
		done, err := e.removeTree(ctx, r, false)
		if err == nil && !done {
			return kv.ErrConflict // written meanwhile: look again
		}
		return err
	})
}

// dropAll deletes every key of v, in transactions of at most maxTxnOps.
func dropAll(ctx context.Context, v kv.View) error {
	for {
		ents, err := v.Scan(ctx, nil, nil, maxTxnOps)
		if err != nil || len(ents) == 0 {
			return err
		}
		ops := make([]kv.Op, len(ents))
		for i, ent := range ents {
			ops[i] = kv.Delete(ent.Key)
		}
		if _, err := v.Txn(ctx, ops...); err != nil {
			return err
		}
	}
}
