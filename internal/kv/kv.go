// Package kv defines the small key-value store armlet keeps all state in.
//
// The interface is shaped so that an embedded store (bbolt, the default), an
// in-memory store and a distributed store (etcd, for several replicas) can
// all implement it with the same semantics, proven by the conformance suite
// in kv/kvtest:
//
//   - Keys are byte strings compared bytewise; values are opaque bytes.
//   - Every successful write gets a revision from one store-wide counter that
//     only grows (like etcd's mod revision). An entry's Revision is the
//     revision of the write that last set it. Revisions start at 1 in a
//     store of its own (bbolt, memkv) and grow by one per Txn; etcd's
//     counter is cluster-wide, so there they start wherever the cluster is
//     and may skip values (see kvtest.Options.SharedRevisions).
//   - Writes are conditional per key (see Op.Cond) and a Txn applies all of
//     its ops or none.
//   - A write returns only once it is durable for that backend (fsync'd for
//     bbolt, committed by quorum for etcd).
//
// # Key space
//
// Every key armlet stores lies in one Space declared in keyspace.go, with
// its owner and layout; packages reach their space through a View, keys
// relative to the space's prefix (see View).
//
// # Caveats
//
// Values returned by Get and Scan belong to the caller and may be modified.
// Values passed to Txn must not be modified until Txn returns.
package kv

import (
	"context"
	"errors"
	"fmt"
)

// Store is a transactional, ordered key-value store.
type Store interface {
	// Get returns the entry at key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key []byte) (Entry, error)

	// Scan returns up to limit entries whose keys start with prefix and sort
	// strictly after `after` (nil or empty means from the start of the
	// prefix), in ascending key order. limit <= 0 means no limit.
	// To resume a scan, pass the last key returned as `after`.
	Scan(ctx context.Context, prefix, after []byte, limit int) ([]Entry, error)

	// Txn applies ops atomically: either every condition holds and every op
	// is applied, or nothing changes and the error wraps ErrConflict (a
	// *ConflictError naming the first failing key). All ops of one Txn share
	// one new revision, which is returned. Two ops on the same key in one
	// Txn are an error (ErrInvalid).
	Txn(ctx context.Context, ops ...Op) (revision int64, err error)

	// Close releases the store. Calls after Close fail.
	Close() error
}

// Watcher is implemented by stores that other processes write too (etcd,
// shared by armlet replicas). Replicas use it to hear of changes made by
// their peers, for state they hold in memory.
type Watcher interface {
	// Watch calls fn with every entry under prefix as it stands now, then
	// with every later change of a key under prefix, in revision order, until
	// ctx ends; it returns ctx's error. A deleted key comes with a nil Value.
	// When the store cannot deliver every change (etcd compacted the history
	// while the watch was down), Watch starts over from the current entries,
	// so fn always ends up with the latest state. fn runs on Watch's
	// goroutine and must not block for long.
	Watch(ctx context.Context, prefix []byte, fn func(Entry)) error
}

// KeyScanner is implemented by stores that can scan keys and revisions
// without reading values out: a reader that may need none of the values
// (a list page whose bodies are all kept rendered) reads them only when it
// does.
type KeyScanner interface {
	// ScanKeys is Scan with every Value nil.
	ScanKeys(ctx context.Context, prefix, after []byte, limit int) ([]Entry, error)
}

// ScanKeys is s's ScanKeys, or its Scan with the values dropped.
func ScanKeys(ctx context.Context, s Store, prefix, after []byte, limit int) ([]Entry, error) {
	if ks, ok := s.(KeyScanner); ok {
		return ks.ScanKeys(ctx, prefix, after, limit)
	}
	ents, err := s.Scan(ctx, prefix, after, limit)
	for i := range ents {
		ents[i].Value = nil
	}
	return ents, err
}

// Shared reports whether s is written by other processes too (see Watcher).
func Shared(s Store) bool {
	_, ok := s.(Watcher)
	return ok
}

// Entry is one key with its value and the revision that last wrote it.
type Entry struct {
	Key      []byte
	Value    []byte
	Revision int64
}

// Cond is the precondition of one op on its key.
type Cond int64

const (
	// Any applies the op whatever the key's state.
	Any Cond = -1
	// Absent requires that the key does not exist.
	Absent Cond = 0
	// Present requires that the key exists, at any revision.
	Present Cond = -2
)

// AtRevision requires that the key exists and was last written at rev.
func AtRevision(rev int64) Cond { return Cond(rev) }

// Op is one write of a Txn: a put (Delete false) or a delete.
//
// Deleting a key that does not exist is not an error when Cond is Any.
type Op struct {
	Key    []byte
	Value  []byte
	Delete bool
	Cond   Cond
}

// Put is an unconditional put.
func Put(key, value []byte) Op { return Op{Key: key, Value: value, Cond: Any} }

// Delete is an unconditional delete.
func Delete(key []byte) Op { return Op{Key: key, Delete: true, Cond: Any} }

// If returns op with the given condition.
func (op Op) If(c Cond) Op { op.Cond = c; return op }

// Errors returned by every Store. Test with errors.Is.
var (
	// ErrNotFound: Get of a key that does not exist.
	ErrNotFound = errors.New("kv: key not found")
	// ErrConflict: a Txn condition did not hold. The error is a *ConflictError.
	ErrConflict = errors.New("kv: condition failed")
	// ErrInvalid: a malformed request (empty key, duplicate key in one Txn).
	ErrInvalid = errors.New("kv: invalid request")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("kv: store closed")
	// ErrReadOnly: the store cannot accept writes (read-only file system,
	// full disk). Reads keep working.
	ErrReadOnly = errors.New("kv: store not writable")
)

// ConflictError says which key failed its condition and what it held.
type ConflictError struct {
	Key []byte
	// Revision is the key's current revision, 0 if it does not exist.
	Revision int64
	// Space is the space Key is relative to, when the conflict comes
	// through a View or a Batch; 0 when Key is the whole key, as a Store
	// reports it.
	Space Space
}

func (e *ConflictError) Error() string {
	if e.Space != 0 {
		return fmt.Sprintf("kv: condition failed on key %q of %v (current revision %d)", e.Key, e.Space, e.Revision)
	}
	return fmt.Sprintf("kv: condition failed on key %q (current revision %d)", e.Key, e.Revision)
}

// Is makes errors.Is(err, ErrConflict) true for a *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Check reports whether cond holds for a key whose current revision is
// current (0 when absent). Backends share it so the rules are written once.
func (c Cond) Check(current int64) bool {
	switch {
	case c == Any:
		return true
	case c == Absent:
		return current == 0
	case c == Present:
		return current != 0
	default:
		return current == int64(c)
	}
}

// ValidateOps checks the parts of a Txn every backend must refuse the same
// way: no ops, an empty key, a key twice.
func ValidateOps(ops []Op) error {
	if len(ops) == 0 {
		return fmt.Errorf("%w: empty transaction", ErrInvalid)
	}
	seen := make(map[string]struct{}, len(ops))
	for _, op := range ops {
		if len(op.Key) == 0 {
			return fmt.Errorf("%w: empty key", ErrInvalid)
		}
		if _, dup := seen[string(op.Key)]; dup {
			return fmt.Errorf("%w: key %q twice in one transaction", ErrInvalid, op.Key)
		}
		seen[string(op.Key)] = struct{}{}
	}
	return nil
}

// PrefixEnd returns the smallest key greater than every key with the given
// prefix, or nil if there is none (prefix all 0xff). Useful for range reads.
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
