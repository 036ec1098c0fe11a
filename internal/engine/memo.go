package engine

import (
	"context"
	"sync"
)

// memoMaxKeys bounds the values one Memo keeps between two writes.
const memoMaxKeys = 1024

// Memo keeps values computed from the engine's store, by key, until the
// next write made through an engine: a per-request check that reads the
// store (is public ARM disabled for this tenant?) then costs a map lookup
// while nothing changes. On a shared store (etcd) a value is used only
// once the replica has heard of every write before the call
// (Engine.FollowWrites), which costs one read of the store.
type Memo[V any] struct {
	e      *Engine
	mu     sync.Mutex
	writes int64
	values map[string]V
}

// NewMemo returns an empty Memo over e's store.
func NewMemo[V any](e *Engine) *Memo[V] { return &Memo[V]{e: e} }

// Get returns the value kept for key, or computes it. compute must read
// only the engine's store (and what never changes). ctx bounds the read a
// shared store takes (Engine.keptWrites).
func (m *Memo[V]) Get(ctx context.Context, key string, compute func() (V, error)) (V, error) {
	// The count is read before computing: a write that lands during the
	// computation moves it, and the value is not kept.
	writes, ok := m.e.keptWrites(ctx)
	if !ok {
		return compute()
	}
	m.mu.Lock()
	if m.writes != writes {
		m.writes, m.values = writes, nil
	}
	v, ok := m.values[key]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.writes == writes && len(m.values) < memoMaxKeys {
		if m.values == nil {
			m.values = map[string]V{}
		}
		m.values[key] = v
	}
	return v, nil
}
