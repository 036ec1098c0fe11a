package engine_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// lateWatchStore is one store shared by several engines (as etcd is by
// replicas) whose watches deliver changes only when the test releases
// them: a replica that has not heard of a peer's write yet.
type lateWatchStore struct {
	kv.Store
	mu       sync.Mutex
	held     []kv.Entry
	watchers []func(kv.Entry)
	prefixes [][]byte
}

func (s *lateWatchStore) Txn(ctx context.Context, ops ...kv.Op) (int64, error) {
	rev, err := s.Store.Txn(ctx, ops...)
	if err == nil {
		s.mu.Lock()
		for _, op := range ops {
			s.held = append(s.held, kv.Entry{Key: op.Key, Value: op.Value, Revision: rev})
		}
		s.mu.Unlock()
	}
	return rev, err
}

func (s *lateWatchStore) Watch(ctx context.Context, prefix []byte, fn func(kv.Entry)) error {
	ents, err := s.Store.Scan(ctx, prefix, nil, 0)
	if err != nil {
		return err
	}
	for _, e := range ents {
		fn(e)
	}
	s.mu.Lock()
	s.watchers = append(s.watchers, fn)
	s.prefixes = append(s.prefixes, prefix)
	s.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

// release delivers every held change to the watches.
func (s *lateWatchStore) release() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	watchers, prefixes := s.watchers, s.prefixes
	s.mu.Unlock()
	for _, e := range held {
		for i, fn := range watchers {
			if bytes.HasPrefix(e.Key, prefixes[i]) {
				fn(e)
			}
		}
	}
}

// sharedReplicas starts two engines on st that serve t, following each
// other's writes until ctx ends, with a resource group made through the
// first.
func sharedReplicas(ctx context.Context, tb *testing.T, st *lateWatchStore, t *engine.Type) (a, b *harness) {
	clk := clock.NewOffset(0)
	replica := func() *harness {
		reg := engine.NewRegistry()
		reg.Register(t)
		e := engine.New(engine.Options{Store: st, Clock: clk, Registry: reg})
		go e.FollowWrites(ctx)
		return &harness{t: tb, e: e, clk: clk, st: st}
	}
	a, b = replica(), replica()
	if err := a.e.EnsureSubscription(ctx, sub, "tenant", "test"); err != nil {
		tb.Fatal(err)
	}
	a.mustRG()
	return a, b
}

// TestSharedStoreReadsEveryAcknowledgedWrite: on a shared store a replica
// serves a kept body only once it has heard of every write acknowledged
// before the GET; one that has not (its watch lags) reads the store, so a
// GET after a peer's acknowledged write shows it all the same.
func TestSharedStoreReadsEveryAcknowledgedWrite(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &lateWatchStore{Store: memkv.New()}
	a, b := sharedReplicas(ctx, t, st, &engine.Type{Name: "Test.Cache/plain", APIVersions: []string{"2024-01-01"}, Strategy: widgetStrategy{}})
	p := cacheBase + "plain/p1"
	a.call(http.MethodPut, p, "2024-01-01", `{"tags":{"v":"1"}}`, nil)
	st.release()
	time.Sleep(10 * time.Millisecond) // the watches' goroutines have started
	st.release()
	for range 2 { // b keeps v=1
		if _, _, body := b.call(http.MethodGet, p, "2024-01-01", "", nil); body["tags"].(map[string]any)["v"] != "1" {
			t.Fatalf("b's GET = %v, want v=1", body["tags"])
		}
	}
	a.call(http.MethodPatch, p, "2024-01-01", `{"tags":{"v":"2"}}`, nil)
	// b has not heard of the PATCH: it must not answer from what it kept.
	if _, _, body := b.call(http.MethodGet, p, "2024-01-01", "", nil); body["tags"].(map[string]any)["v"] != "2" {
		t.Errorf("b's GET after a's acknowledged PATCH, not yet heard of, shows v=%v, want 2", body["tags"].(map[string]any)["v"])
	}
	st.release()
	if _, _, body := b.call(http.MethodGet, p, "2024-01-01", "", nil); body["tags"].(map[string]any)["v"] != "2" {
		t.Errorf("b's GET once it heard of the PATCH shows %v", body["tags"])
	}
}

// subtreeStamp stamps its bodies (stampStrategy) and says they read only
// their resource's subtree.
type subtreeStamp struct{ stableStampStrategy }

func (subtreeStamp) RendersFromSubtree(*engine.Resource) bool { return true }

// TestSharedStorePeersEndOnlyWhatTheyWrote: a replica that hears of a
// peer's transaction ends only the kept bodies that read the records it
// wrote (the marker names them); its own transactions, heard of again,
// end nothing; a marker that names no records (one that wrote too many,
// or an older armlet's) ends every kept body.
func TestSharedStorePeersEndOnlyWhatTheyWrote(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &lateWatchStore{Store: memkv.New()}
	var renders atomic.Int64
	a, b := sharedReplicas(ctx, t, st, &engine.Type{Name: "Test.Cache/stable", APIVersions: []string{"2024-01-01"},
		Strategy: subtreeStamp{stableStampStrategy{stampStrategy{renders: &renders, stableUntil: time.Now().Add(time.Hour)}}}})
	p1, p2 := cacheBase+"stable/p1", cacheBase+"stable/p2"
	a.call(http.MethodPut, p1, "2024-01-01", `{}`, nil)
	a.call(http.MethodPut, p2, "2024-01-01", `{}`, nil)
	time.Sleep(10 * time.Millisecond) // the watches' goroutines have started
	st.release()
	stamp := func(path string) any {
		t.Helper()
		st, _, body := b.call(http.MethodGet, path, "2024-01-01", "", nil)
		if st != http.StatusOK {
			t.Fatalf("b's GET %s = %d %v", path, st, body)
		}
		return body["properties"].(map[string]any)["renders"]
	}
	kept1, kept2 := stamp(p1), stamp(p2)
	if stamp(p1) != kept1 || stamp(p2) != kept2 {
		t.Fatal("b does not keep its bodies")
	}
	write := func(ops ...kv.Op) {
		t.Helper()
		if _, err := st.Txn(ctx, ops...); err != nil {
			t.Fatal(err)
		}
	}
	markerKey := []byte(kv.SpaceWrites.Prefix() + "written")
	steps := []struct {
		name               string
		do                 func()
		p1 /* ended */, p2 bool
	}{
		{"a peer writes p1", func() { a.call(http.MethodPatch, p1, "2024-01-01", `{"tags":{"v":"2"}}`, nil) }, true, false},
		{"b's own write, heard of", func() { b.call(http.MethodPut, cacheBase+"stable/p3", "2024-01-01", `{}`, nil) }, false, false},
		{"a marker naming no records", func() { write(kv.Put(markerKey, []byte(`{"by":"peer","all":true}`))) }, true, true},
		{"an older armlet's marker", func() { write(kv.Put(markerKey, nil)) }, true, true},
		{"a peer's write elsewhere", func() { write(kv.Put(markerKey, []byte(`{"by":"peer","records":["elsewhere"]}`))) }, false, false},
	}
	for _, s := range steps {
		s.do()
		st.release()
		now1, now2 := stamp(p1), stamp(p2)
		if (now1 != kept1) != s.p1 || (now2 != kept2) != s.p2 {
			t.Errorf("%s: p1 rendered again %v (want %v), p2 %v (want %v)", s.name, now1 != kept1, s.p1, now2 != kept2, s.p2)
		}
		kept1, kept2 = now1, now2
	}
}
