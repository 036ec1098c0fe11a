package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// Key layout. Every key starts with a one-letter table name and a NUL.
//
//	r\0{parent id}\0{type segment}\0{name}      resource record (all lower case)
//	t\0{sub}\0{full type}\0{rg}\0{name}         index: top-level resources by type
//	g\0{sub}\0{rg}\0{full type}\0{name}         index: top-level resources by group
//	o\0{operation id}                           long-running operation
//	d\0{due, 20 digits}\0{operation id}         operations by completion time
//	p\0{sub}\0{namespace}                       provider registration state
//	m\0{name}                                   engine metadata (clock offset)
//
// The direct children of X of one type share the prefix r\0{X}\0{type}\0,
// and X's whole subtree is r\0{X}\0 plus r\0{X}/, so listing children never
// walks grandchildren, and cascading deletes are two prefix scans.
const sep = "\x00"

func resourceKey(id resourceid.ID) []byte {
	last := id.Last()
	return []byte("r" + sep + id.Parent().Key() + sep + strings.ToLower(last.Type) + sep + strings.ToLower(last.Name))
}

func childrenPrefix(parent resourceid.ID, typeSeg string) []byte {
	return []byte("r" + sep + parent.Key() + sep + strings.ToLower(typeSeg) + sep)
}

// subtreePrefixes are the prefixes of every descendant of id.
func subtreePrefixes(id resourceid.ID) [][]byte {
	k := id.Key()
	if id.IsRoot() {
		return [][]byte{[]byte("r" + sep)}
	}
	return [][]byte{[]byte("r" + sep + k + sep), []byte("r" + sep + k + "/")}
}

func indexKeys(id resourceid.ID) [][]byte {
	if !id.IsTopLevel() {
		return nil
	}
	sub := strings.ToLower(id.SubscriptionID())
	rg := strings.ToLower(id.ResourceGroupName())
	typ := strings.ToLower(id.ResourceType())
	name := strings.ToLower(id.Name())
	return [][]byte{
		[]byte("t" + sep + sub + sep + typ + sep + rg + sep + name),
		[]byte("g" + sep + sub + sep + rg + sep + typ + sep + name),
	}
}

func typeIndexPrefix(sub, fullType string) []byte {
	return []byte("t" + sep + strings.ToLower(sub) + sep + strings.ToLower(fullType) + sep)
}

func groupIndexPrefix(sub, rg string) []byte {
	if rg == "" {
		return []byte("g" + sep + strings.ToLower(sub) + sep)
	}
	return []byte("g" + sep + strings.ToLower(sub) + sep + strings.ToLower(rg) + sep)
}

// maxTxnOps bounds the ops of one transaction, within etcd's default limit
// of 128, so every backend accepts the same batches.
const maxTxnOps = 100

// load reads the resource at id. It returns (nil, nil) when there is no
// record; a record whose asynchronous delete has completed is returned
// as is (callers decide with Gone).
func (e *Engine) load(ctx context.Context, id resourceid.ID) (*Resource, error) {
	key := resourceKey(id)
	ent, err := e.store.Get(ctx, key)
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

// putOps are the writes that store r; cond guards the record key.
func putOps(r *Resource, cond kv.Cond) []kv.Op {
	ops := []kv.Op{kv.Put(resourceKey(r.ID), encodeResource(r)).If(cond)}
	for _, k := range indexKeys(r.ID) {
		ops = append(ops, kv.Put(k, resourceKey(r.ID)))
	}
	return ops
}

// deleteTree removes id and everything beneath it, in batches. Partial
// progress is invisible to clients, because readers treat a resource whose
// ancestor is gone as gone; the record of id itself is deleted last, so a
// retry after a crash finds the remaining descendants again. The record is
// deleted only if it is still at rev: a record written since (the resource
// updated or re-created meanwhile, on this replica or another) stays, and
// the error wraps kv.ErrConflict.
func (e *Engine) deleteTree(ctx context.Context, id resourceid.ID, rev int64) error {
	for _, prefix := range subtreePrefixes(id) {
		for {
			ents, err := e.store.Scan(ctx, prefix, nil, maxTxnOps/3)
			if err != nil {
				return err
			}
			if len(ents) == 0 {
				break
			}
			var ops []kv.Op
			for _, ent := range ents {
				ops = append(ops, kv.Delete(ent.Key))
				r, err := decodeResource(ent.Value, ent.Revision)
				if err == nil {
					for _, k := range indexKeys(r.ID) {
						ops = append(ops, kv.Delete(k))
					}
				}
			}
			if _, err := e.store.Txn(ctx, ops...); err != nil {
				return fmt.Errorf("delete subtree of %s: %w", id, err)
			}
		}
	}
	ops := []kv.Op{kv.Delete(resourceKey(id)).If(kv.AtRevision(rev))}
	for _, k := range indexKeys(id) {
		ops = append(ops, kv.Delete(k))
	}
	_, err := e.store.Txn(ctx, ops...)
	return err // wraps kv.ErrConflict when the record moved on
}
