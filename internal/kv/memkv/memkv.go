// Package memkv is an in-memory kv.Store: a B-tree of entries under one
// read-write mutex. It keeps nothing on disk, so a write is "durable" as soon
// as Txn returns and everything is lost on Close or when the process exits.
// It is meant for tests and for running armlet without persistence.
package memkv

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/google/btree"

	"github.com/armlet/armlet/internal/kv"
)

// item is one stored entry. The store owns key and value: they are copied on
// the way in and on the way out.
type item struct {
	key   []byte
	value []byte
	rev   int64
}

func less(a, b item) bool { return bytes.Compare(a.key, b.key) < 0 }

// Store is an in-memory kv.Store. The zero value is not usable; call New.
// A Store is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	tree   *btree.BTreeG[item]
	rev    int64 // revision of the last successful Txn; 0 before the first
	closed bool
}

var _ kv.Store = (*Store)(nil)

// New returns an empty in-memory store whose first Txn gets revision 1.
func New() *Store {
	return &Store{tree: btree.NewG(32, less)}
}

// Get returns a copy of the entry at key. It returns an error wrapping
// kv.ErrNotFound if the key does not exist, kv.ErrClosed after Close, or
// ctx.Err() if ctx is already done.
func (s *Store) Get(ctx context.Context, key []byte) (kv.Entry, error) {
	if err := ctx.Err(); err != nil {
		return kv.Entry{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return kv.Entry{}, kv.ErrClosed
	}
	it, ok := s.tree.Get(item{key: key})
	if !ok {
		return kv.Entry{}, fmt.Errorf("memkv: get %q: %w", key, kv.ErrNotFound)
	}
	return it.entry(), nil
}

// Scan returns copies of up to limit entries whose keys start with prefix
// and sort strictly after `after`, in ascending bytewise key order (see
// kv.Store). limit <= 0 means no limit. It returns kv.ErrClosed after Close
// or ctx.Err() if ctx is already done.
func (s *Store) Scan(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, kv.ErrClosed
	}
	var out []kv.Entry
	s.tree.AscendGreaterOrEqual(item{key: scanStart(prefix, after)}, func(it item) bool {
		if !bytes.HasPrefix(it.key, prefix) {
			return false
		}
		out = append(out, it.entry())
		return limit <= 0 || len(out) < limit
	})
	return out, nil
}

// Txn applies ops atomically under one new revision, which it returns (see
// kv.Store). It returns an error wrapping kv.ErrInvalid for malformed ops
// (kv.ValidateOps), a *kv.ConflictError (errors.Is kv.ErrConflict) naming
// the first op whose condition fails, kv.ErrClosed after Close, or ctx.Err()
// if ctx is already done. On any error nothing is changed.
func (s *Store) Txn(ctx context.Context, ops ...kv.Op) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := kv.ValidateOps(ops); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, kv.ErrClosed
	}
	for _, op := range ops {
		var cur int64
		if it, ok := s.tree.Get(item{key: op.Key}); ok {
			cur = it.rev
		}
		if !op.Cond.Check(cur) {
			return 0, &kv.ConflictError{Key: bytes.Clone(op.Key), Revision: cur}
		}
	}
	s.rev++
	for _, op := range ops {
		if op.Delete {
			s.tree.Delete(item{key: op.Key})
			continue
		}
		s.tree.ReplaceOrInsert(item{
			key:   bytes.Clone(op.Key),
			value: append([]byte{}, op.Value...), // non-nil even when empty
			rev:   s.rev,
		})
	}
	return s.rev, nil
}

// Close drops all data. Later calls to Get, Scan and Txn return kv.ErrClosed.
// Closing twice is not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.tree = nil
	return nil
}

func (it item) entry() kv.Entry {
	return kv.Entry{
		Key:      bytes.Clone(it.key),
		Value:    append([]byte{}, it.value...),
		Revision: it.rev,
	}
}

// scanStart is the smallest key a Scan(prefix, after) may return.
func scanStart(prefix, after []byte) []byte {
	if len(after) > 0 && bytes.Compare(after, prefix) >= 0 {
		// The smallest key strictly after `after` is after + 0x00.
		return append(bytes.Clone(after), 0)
	}
	return prefix
}
