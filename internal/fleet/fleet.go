// Package fleet is how armlet replicas that share one store agree: which of
// them runs the time-driven work (finishing long-running deletes, flow
// retention), and how each hears of its peers' changes to state it keeps in
// memory (the clock offset, the RBAC and principal caches).
//
// A single armlet (bbolt or memory store) is a fleet of one: Solo leads
// always and Follow has nothing to follow.
package fleet

import (
	"context"

	"github.com/armlet/armlet/internal/kv"
)

// Leadership decides which replica runs the fleet's time-driven work.
type Leadership interface {
	// ID is this replica's name.
	ID() string
	// Lead runs work each time this replica becomes the leader, with a
	// context that ends when it stops leading or ctx ends (work must return
	// then), and returns when ctx ends.
	Lead(ctx context.Context, work func(context.Context))
	// Leading reports whether this replica leads now.
	Leading() bool
	// Leader returns the current leader's ID, "" when there is none.
	Leader(ctx context.Context) (string, error)
}

// Solo is the leadership of a replica alone on its store: it always leads.
type Solo struct{ Name string }

var _ Leadership = Solo{}

// ID implements Leadership.
func (s Solo) ID() string { return s.Name }

// Lead implements Leadership: it runs work once, until ctx ends.
func (Solo) Lead(ctx context.Context, work func(context.Context)) {
	work(ctx)
	<-ctx.Done()
}

// Leading implements Leadership.
func (Solo) Leading() bool { return true }

// Leader implements Leadership.
func (s Solo) Leader(context.Context) (string, error) { return s.Name, nil }

// Follow calls fn with the entries of v under prefix (relative to v's
// space, as are the keys fn gets) and every later change to them made by
// any process, until ctx ends, when the store is shared with other
// processes (kv.View.Shared); otherwise it returns at once, since the only
// writer is this process, which updates its memory as it writes.
func Follow(ctx context.Context, v kv.View, prefix []byte, fn func(kv.Entry)) {
	if v.Shared() {
		_ = v.Watch(ctx, prefix, fn) // returns ctx's error
	}
}
