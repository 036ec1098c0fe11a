package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/foldcase"
	"github.com/armlet/armlet/internal/kv"
)

// Key layout. The engine keeps its state in six spaces of the key space
// (kv/keyspace.go), each reached through a View, so the keys below are
// relative to their space's prefix:
//
//	SpaceResources      {parent id}\0{type segment}\0{name}      resource record (all lower case)
//	SpaceTypeIndex      {sub}\0{full type}\0{rg}\0{name}         index: top-level resources by type
//	SpaceGroupIndex     {sub}\0{rg}\0{full type}\0{name}         index: top-level resources by group
//	SpaceOperations     {operation id}                           long-running operation
//	SpaceDue            {due, 20 digits}\0{operation id}         operations by completion time
//	SpaceRegistrations  {sub}\0{namespace}                       provider registration state
//
// The direct children of X of one type share the prefix {X}\0{type}\0,
// and X's whole subtree is {X}\0 plus {X}/, so listing children never
// walks grandchildren, and cascading deletes are two prefix scans. An
// index entry's value is the record's full key (with its space's prefix),
// as it always was on disk.
const sep = "\x00"

// tables are the engine's views of its spaces: the only way it reaches
// the store. A record and its index entries, or a resource and its
// operation, are written in one kv.Batch over several of them.
type tables struct {
	records, byType, byGroup, operations, due, registrations kv.View
}

// newTables returns the views of st; with a nil st (an engine that only
// parses, in tests) they are zero, and any use of them panics.
func newTables(st kv.Store) tables {
	if st == nil {
		return tables{}
	}
	return tables{
		records:       kv.SpaceResources.Of(st),
		byType:        kv.SpaceTypeIndex.Of(st),
		byGroup:       kv.SpaceGroupIndex.Of(st),
		operations:    kv.SpaceOperations.Of(st),
		due:           kv.SpaceDue.Of(st),
		registrations: kv.SpaceRegistrations.Of(st),
	}
}

// resourceKey is the key of id's record in SpaceResources.
func resourceKey(id resourceid.ID) []byte {
	last := id.Last()
	parent := id.Parent().String()
	b := make([]byte, 0, len(parent)+2*len(sep)+len(last.Type)+len(last.Name))
	b = foldcase.AppendLower(b, parent)
	b = append(b, sep...)
	b = foldcase.AppendLower(b, last.Type)
	b = append(b, sep...)
	return foldcase.AppendLower(b, last.Name)
}

// recordRef is the value of id's index entries: its record's full key.
func recordRef(id resourceid.ID) []byte {
	return append([]byte(kv.SpaceResources.Prefix()), resourceKey(id)...)
}

// refKey is the record key an index entry's value (recordRef) names.
func refKey(ref []byte) ([]byte, error) {
	key, ok := bytes.CutPrefix(ref, []byte(kv.SpaceResources.Prefix()))
	if !ok {
		return nil, fmt.Errorf("engine: index entry names %q, not a resource record", ref)
	}
	return key, nil
}

func childrenPrefix(parent resourceid.ID, typeSeg string) []byte {
	return []byte(parent.Key() + sep + strings.ToLower(typeSeg) + sep)
}

// subtreePrefixes are the prefixes of every descendant of id.
func subtreePrefixes(id resourceid.ID) [][]byte {
	k := id.Key()
	if id.IsRoot() {
		return [][]byte{nil} // the whole space
	}
	return [][]byte{[]byte(k + sep), []byte(k + "/")}
}

// indexKeys are id's keys in SpaceTypeIndex and SpaceGroupIndex; ok is
// false for resources that are not top-level (they have none).
func indexKeys(id resourceid.ID) (byType, byGroup []byte, ok bool) {
	if !id.IsTopLevel() {
		return nil, nil, false
	}
	sub := strings.ToLower(id.SubscriptionID())
	rg := strings.ToLower(id.ResourceGroupName())
	typ := strings.ToLower(id.ResourceType())
	name := strings.ToLower(id.Name())
	return []byte(sub + sep + typ + sep + rg + sep + name), []byte(sub + sep + rg + sep + typ + sep + name), true
}

func typeIndexPrefix(sub, fullType string) []byte {
	return []byte(strings.ToLower(sub) + sep + strings.ToLower(fullType) + sep)
}

func groupIndexPrefix(sub, rg string) []byte {
	if rg == "" {
		return []byte(strings.ToLower(sub) + sep)
	}
	return []byte(strings.ToLower(sub) + sep + strings.ToLower(rg) + sep)
}

// maxTxnOps bounds the ops of one transaction, within etcd's default limit
// of 128, so every backend accepts the same batches.
const maxTxnOps = 100

// load reads the resource at id. It returns (nil, nil) when there is no
// record; a record whose asynchronous delete has completed is returned
// as is (callers decide with Gone).
func (e *Engine) load(ctx context.Context, id resourceid.ID) (*Resource, error) {
	key := resourceKey(id)
	ent, err := e.tables.records.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r, ok := e.decoded.get(string(key), ent.Revision); ok {
		return r, nil
	}
	r, err := decodeResource(ent.Value, ent.Revision)
	if err != nil {
		return nil, err
	}
	e.decoded.put(string(key), r)
	return r, nil
}

// put adds to b the writes that store r; cond guards the record key.
func (t tables) put(b *kv.Batch, r *Resource, cond kv.Cond) {
	b.Add(t.records, kv.Put(resourceKey(r.ID), encodeResource(r)).If(cond))
	if byType, byGroup, ok := indexKeys(r.ID); ok {
		ref := recordRef(r.ID)
		b.Add(t.byType, kv.Put(byType, ref))
		b.Add(t.byGroup, kv.Put(byGroup, ref))
	}
}

// unindex adds to b the deletes of id's index entries.
func (t tables) unindex(b *kv.Batch, id resourceid.ID) {
	if byType, byGroup, ok := indexKeys(id); ok {
		b.Add(t.byType, kv.Delete(byType))
		b.Add(t.byGroup, kv.Delete(byGroup))
	}
}

// putResource writes r in one transaction; cond guards the record key.
func (t tables) putResource(ctx context.Context, r *Resource, cond kv.Cond) (int64, error) {
	var b kv.Batch
	t.put(&b, r, cond)
	return b.Commit(ctx)
}

// deleteTree removes id and everything beneath it, in batches. Partial
// progress is invisible to clients, because readers treat a resource whose
// ancestor is gone as gone; the record of id itself is deleted last, so a
// retry after a crash finds the remaining descendants again. The record is
// deleted only if it is still at rev: a record written since (the resource
// updated or re-created meanwhile, on this replica or another) stays, and
// the error wraps kv.ErrConflict. removed are the descendants it deleted
// whose type's strategy is a Remover, as they were.
func (e *Engine) deleteTree(ctx context.Context, id resourceid.ID, rev int64) (removed []*Resource, err error) {
	t := e.tables
	for _, prefix := range subtreePrefixes(id) {
		for {
			ents, err := t.records.Scan(ctx, prefix, nil, maxTxnOps/3)
			if err != nil {
				return removed, err
			}
			if len(ents) == 0 {
				break
			}
			var b kv.Batch
			var batch []*Resource
			for _, ent := range ents {
				b.Add(t.records, kv.Delete(ent.Key))
				if r, err := decodeResource(ent.Value, ent.Revision); err == nil {
					t.unindex(&b, r.ID)
					if e.remover(r) != nil {
						batch = append(batch, r)
					}
				}
			}
			if _, err := b.Commit(ctx); err != nil {
				return removed, fmt.Errorf("delete subtree of %s: %w", id, err)
			}
			removed = append(removed, batch...)
		}
	}
	var b kv.Batch
	b.Add(t.records, kv.Delete(resourceKey(id)).If(kv.AtRevision(rev)))
	t.unindex(&b, id)
	_, err = b.Commit(ctx)
	return removed, err // wraps kv.ErrConflict when the record moved on
}

// remover returns the Remover of r's type, or nil.
func (e *Engine) remover(r *Resource) Remover {
	t, ok := e.reg.Lookup(r.Type)
	if !ok {
		return nil
	}
	rm, _ := t.Strategy.(Remover)
	return rm
}
