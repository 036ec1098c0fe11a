package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// View is a Store narrowed to one Space: every key it is given is relative
// to the space's prefix, which the view puts before it, and every key it
// returns has the prefix taken off again. So its owner builds keys as if
// the space were a store of its own, cannot name a key outside it, and
// writes the same bytes it would have written with the prefix spelt out.
//
// The empty relative key is the prefix itself; a space may use it as its
// one key. Apart from keys, a View behaves exactly as its Store: the same
// revisions, conditions and errors, except that a *ConflictError names the
// relative key and the space (ConflictError.Space). Close is not offered:
// whoever opened the store closes it.
//
// The zero View has no store; using it panics. A View is a small value,
// safe for concurrent use as its Store is.
type View struct {
	store  Store
	space  Space
	prefix []byte // the space's prefix, never appended to in place
}

// Of returns the view of s on st. s must be declared (Space.Valid).
func (s Space) Of(st Store) View {
	if !s.Valid() || st == nil {
		panic(fmt.Sprintf("kv: view of %v on %v", s, st))
	}
	p := s.Prefix()
	return View{store: st, space: s, prefix: []byte(p)[:len(p):len(p)]}
}

// Space is the space v is narrowed to.
func (v View) Space() Space { return v.space }

// abs is key with the space's prefix before it, in a new slice.
func (v View) abs(key []byte) []byte {
	out := make([]byte, 0, len(v.prefix)+len(key))
	return append(append(out, v.prefix...), key...)
}

// rel takes the prefix off an entry the store returned for the space.
func (v View) rel(ent Entry) Entry {
	ent.Key = ent.Key[len(v.prefix):]
	return ent
}

// Get is Store.Get of the relative key.
func (v View) Get(ctx context.Context, key []byte) (Entry, error) {
	ent, err := v.store.Get(ctx, v.abs(key))
	if err != nil {
		return Entry{}, err
	}
	return v.rel(ent), nil
}

// Scan is Store.Scan of the space's entries under the relative prefix
// (nil or empty: the whole space), after the relative key after (nil or
// empty: from the start, the empty key included).
func (v View) Scan(ctx context.Context, prefix, after []byte, limit int) ([]Entry, error) {
	var absAfter []byte
	if len(after) > 0 {
		absAfter = v.abs(after)
	}
	ents, err := v.store.Scan(ctx, v.abs(prefix), absAfter, limit)
	for i := range ents {
		ents[i] = v.rel(ents[i])
	}
	return ents, err
}

// ScanKeys is ScanKeys (the function) of the store, relative as Scan.
func (v View) ScanKeys(ctx context.Context, prefix, after []byte, limit int) ([]Entry, error) {
	var absAfter []byte
	if len(after) > 0 {
		absAfter = v.abs(after)
	}
	ents, err := ScanKeys(ctx, v.store, v.abs(prefix), absAfter, limit)
	for i := range ents {
		ents[i] = v.rel(ents[i])
	}
	return ents, err
}

// Txn is Store.Txn of ops whose keys are relative. A conflict is a
// *ConflictError with the relative key and Space set.
func (v View) Txn(ctx context.Context, ops ...Op) (int64, error) {
	var b Batch
	b.Add(v, ops...)
	return b.Commit(ctx)
}

// Shared reports whether other processes write v's store too (see Watcher
// and Shared).
func (v View) Shared() bool { return Shared(v.store) }

// Watch is Watcher.Watch of the space's keys under the relative prefix,
// with relative keys. On a store that is not Shared it returns an error
// wrapping ErrInvalid at once: nobody else writes it, so there is nothing
// to hear of.
func (v View) Watch(ctx context.Context, prefix []byte, fn func(Entry)) error {
	w, ok := v.store.(Watcher)
	if !ok {
		return fmt.Errorf("%w: watching %v: the store is not shared", ErrInvalid, v.space)
	}
	return w.Watch(ctx, v.abs(prefix), func(ent Entry) { fn(v.rel(ent)) })
}

// Batch gathers the ops of one transaction over views of one store: the
// writes that must be atomic although their keys lie in different spaces
// of one owner (the engine writes a resource record and its index entries
// together). Each op's key is relative to the view it is added with.
// Within one space, View.Txn is the same thing and shorter.
//
// The zero Batch is empty and ready to use.
type Batch struct {
	store Store
	ops   []Op
	views []View // views[i] is the view ops[i] was added with
	err   error
}

// Add adds ops, with keys relative to v, to the transaction. Every view
// added to one Batch must be of the same Store (the same value, compared
// with ==); Commit fails otherwise.
func (b *Batch) Add(v View, ops ...Op) {
	if v.store == nil {
		panic("kv: Batch.Add of the zero View")
	}
	if b.store == nil {
		b.store = v.store
	} else if b.store != v.store && b.err == nil {
		b.err = fmt.Errorf("%w: one transaction over views of two stores (%v)", ErrInvalid, v.space)
	}
	for _, op := range ops {
		op.Key = v.abs(op.Key)
		b.ops = append(b.ops, op)
		b.views = append(b.views, v)
	}
}

// Len is the number of ops added.
func (b *Batch) Len() int { return len(b.ops) }

// Commit applies the ops added as one Store.Txn (see Store.Txn: an empty
// Batch is ErrInvalid). A conflict is a *ConflictError with the failing
// op's relative key and its Space.
func (b *Batch) Commit(ctx context.Context) (int64, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.store == nil {
		return 0, fmt.Errorf("%w: empty transaction", ErrInvalid)
	}
	rev, err := b.store.Txn(ctx, b.ops...)
	var ce *ConflictError
	if errors.As(err, &ce) && ce.Space == 0 {
		for i, op := range b.ops {
			if bytes.Equal(op.Key, ce.Key) {
				v := b.views[i]
				return rev, &ConflictError{Key: ce.Key[len(v.prefix):], Revision: ce.Revision, Space: v.space}
			}
		}
	}
	return rev, err
}
