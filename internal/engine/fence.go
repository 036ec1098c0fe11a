package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/kv"
)

// On a shared store a replica may use what it kept (rendered bodies,
// memos) only once it has heard of every write acknowledged before the
// read began: it reads the write marker's revision, linearizably, and
// waits to have heard of it. Two things keep that cheap:
//
//   - markerReads batches the marker reads of concurrent requests: a
//     caller joins the next read that has not started yet (never one
//     already in flight, which may have been answered before the caller's
//     write was acknowledged), so one store read serves every request
//     that arrived while the previous one was in flight;
//   - a ReadFence, made once per request by the front door, keeps the
//     revision the request's first use read for its later uses (a GET
//     checks the public-ARM memo, then its kept body).

// markerReadTimeout bounds one batched marker read: it is shared by
// callers with contexts of their own, so it runs on none of them.
const markerReadTimeout = 5 * time.Second

// markerReads batches reads of the write marker.
type markerReads struct {
	read func(ctx context.Context) (int64, error)

	mu       sync.Mutex
	inFlight bool
	next     *markerRead // the read callers join; starts once the one in flight ends
}

// markerRead is one read of the marker, shared by the callers that joined
// it before it started.
type markerRead struct {
	done     chan struct{}
	callers  int // how many joined it (under markerReads.mu)
	revision int64
	err      error
}

// revision returns the marker's revision as read by a read that started
// after the call began.
func (m *markerReads) revision(ctx context.Context) (int64, error) {
	m.mu.Lock()
	r := m.next
	if r == nil {
		r = &markerRead{done: make(chan struct{})}
		m.next = r
	}
	r.callers++
	if !m.inFlight {
		m.startLocked()
	}
	m.mu.Unlock()
	select {
	case <-r.done:
		return r.revision, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// startLocked starts the read callers have joined; m.mu is held.
func (m *markerReads) startLocked() {
	r := m.next
	m.next, m.inFlight = nil, true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), markerReadTimeout)
		r.revision, r.err = m.read(ctx)
		cancel()
		close(r.done)
		m.mu.Lock()
		m.inFlight = false
		if m.next != nil {
			m.startLocked()
		}
		m.mu.Unlock()
	}()
}

// readMarker reads the marker's revision from the shared store; a marker
// not written yet (no engine write so far) is revision 0.
func readMarker(st kv.Store, key []byte) func(ctx context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		ent, err := st.Get(ctx, key)
		if errors.Is(err, kv.ErrNotFound) {
			return 0, nil
		}
		return ent.Revision, err
	}
}

// ReadFence keeps, for one request, the write marker's revision its first
// read of kept values took, so that its later reads take none. The zero
// value is ready; a fence must not outlive its request (a later request
// needs a read of its own).
type ReadFence struct {
	once     sync.Once
	revision int64
	err      error
}

type fenceKey struct{}

// WithReadFence returns ctx carrying f: the engine's reads of kept values
// under ctx share one marker read.
func WithReadFence(ctx context.Context, f *ReadFence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// markerRevision is the revision kept values must have heard of for a
// read under ctx: the request's fence's, or a read of its own.
func (c *countingStore) markerRevision(ctx context.Context) (int64, error) {
	f, _ := ctx.Value(fenceKey{}).(*ReadFence)
	if f == nil {
		return c.reads.revision(ctx)
	}
	f.once.Do(func() { f.revision, f.err = c.reads.revision(ctx) })
	return f.revision, f.err
}

// SharedStore reports whether the engine's store is shared with other
// replicas (etcd), where reads of kept values take a marker read and a
// request is worth a ReadFence.
func (e *Engine) SharedStore() bool { return e.counted != nil && e.counted.marker != nil }
