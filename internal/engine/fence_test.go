package engine

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestMarkerReadsNeverAnswerFromAnEarlierRead: a caller that arrives while
// a read is in flight gets the next read's revision, never the one in
// flight's (which may have been answered before the caller's write), and
// callers that arrive together share one read.
func TestMarkerReadsNeverAnswerFromAnEarlierRead(t *testing.T) {
	var store atomic.Int64 // the marker's revision in the "store"
	var reads atomic.Int64
	release := make(chan struct{})
	started := make(chan struct{}, 16)
	m := &markerReads{read: func(context.Context) (int64, error) {
		reads.Add(1)
		rev := store.Load() // the read is answered as it starts
		started <- struct{}{}
		<-release
		return rev, nil
	}}
	store.Store(1)
	first := make(chan int64)
	go func() {
		rev, _ := m.revision(t.Context())
		first <- rev
	}()
	<-started // read 1 is in flight and has seen revision 1
	store.Store(2)
	// Callers arriving now must not be answered by read 1.
	var wg sync.WaitGroup
	later := make([]int64, 8)
	for i := range later {
		wg.Go(func() { later[i], _ = m.revision(t.Context()) })
	}
	for joined := false; !joined; {
		m.mu.Lock()
		joined = m.next != nil && m.next.callers == len(later)
		m.mu.Unlock()
		runtime.Gosched()
	}
	release <- struct{}{} // read 1 ends
	if got := <-first; got != 1 {
		t.Errorf("the first caller got revision %d, want 1", got)
	}
	<-started // read 2, joined by the later callers, started after they did
	release <- struct{}{}
	wg.Wait()
	for i, rev := range later {
		if rev != 2 {
			t.Errorf("caller %d, which arrived after revision 2 was written, got %d", i, rev)
		}
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d store reads for 9 callers in two batches, want 2", n)
	}
}

// TestMarkerReadsCallerContext: a caller whose context ends stops waiting;
// the read it joined still serves the others.
func TestMarkerReadsCallerContext(t *testing.T) {
	release := make(chan struct{})
	m := &markerReads{read: func(context.Context) (int64, error) { <-release; return 7, nil }}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.revision(ctx); err == nil {
		t.Error("a cancelled caller got no error")
	}
	done := make(chan int64)
	go func() { rev, _ := m.revision(t.Context()); done <- rev }()
	close(release)
	if rev := <-done; rev != 7 {
		t.Errorf("revision %d, want 7", rev)
	}
}

// TestReadFenceOneReadPerRequest: the reads of kept values under one
// request's fence take one marker read; another request takes its own.
func TestReadFenceOneReadPerRequest(t *testing.T) {
	var reads atomic.Int64
	c := &countingStore{marker: []byte("m")}
	c.reads.read = func(context.Context) (int64, error) { reads.Add(1); return 3, nil }
	ctx := WithReadFence(t.Context(), new(ReadFence))
	for range 3 {
		if rev, err := c.markerRevision(ctx); rev != 3 || err != nil {
			t.Fatalf("markerRevision = %d, %v", rev, err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("%d marker reads for one request's three uses, want 1", n)
	}
	if _, err := c.markerRevision(WithReadFence(t.Context(), new(ReadFence))); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 2 {
		t.Errorf("%d marker reads after a second request, want 2", n)
	}
}
