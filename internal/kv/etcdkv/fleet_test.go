package etcdkv_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/etcdkv"
	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
)

// TestWatch checks that Watch delivers the entries under its prefix as they
// stand, then every change another store (process) makes, deletes with a
// nil value, and nothing outside the prefix.
func TestWatch(t *testing.T) {
	c := etcdtest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := opener(c.Options())(t).(*etcdkv.Store)
	o := c.Options()
	o.Prefix = a.Prefix()
	b, err := etcdkv.Open(ctx, o) // a second process on the same keys
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Txn(ctx, kv.Put([]byte("w/1"), []byte("before"))); err != nil {
		t.Fatal(err)
	}
	events := make(chan kv.Entry, 16)
	done := make(chan error, 1)
	go func() { done <- a.Watch(ctx, []byte("w/"), func(e kv.Entry) { events <- e }) }()
	next := func() kv.Entry {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no watch event within 10s")
			return kv.Entry{}
		}
	}
	if e := next(); string(e.Key) != "w/1" || string(e.Value) != "before" {
		t.Fatalf("snapshot entry %q=%q", e.Key, e.Value)
	}
	rev, err := b.Txn(ctx, kv.Put([]byte("w/2"), []byte("")), kv.Put([]byte("x/outside"), []byte("no")))
	if err != nil {
		t.Fatal(err)
	}
	if e := next(); string(e.Key) != "w/2" || e.Value == nil || len(e.Value) != 0 || e.Revision != rev {
		t.Fatalf("put event %q=%v at %d, want w/2 empty at %d", e.Key, e.Value, e.Revision, rev)
	}
	if _, err := b.Txn(ctx, kv.Delete([]byte("w/1"))); err != nil {
		t.Fatal(err)
	}
	if e := next(); string(e.Key) != "w/1" || e.Value != nil {
		t.Fatalf("delete event %q=%q, want w/1 with no value", e.Key, e.Value)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Watch returned %v after its context ended", err)
	}
}

// TestElection checks that of two candidates exactly one leads, that the
// other takes over at once when the leader stops (its lease is revoked),
// and that Leader names the leader.
func TestElection(t *testing.T) {
	c := etcdtest.Start(t)
	s := opener(c.Options())(t).(*etcdkv.Store)
	ctx := context.Background()
	type candidate struct {
		el     *etcdkv.Election
		cancel context.CancelFunc
		led    chan struct{}
		done   chan struct{}
	}
	stand := func(id string) *candidate {
		cctx, cancel := context.WithCancel(ctx)
		cd := &candidate{el: s.Election(id, 5*time.Second, nil), cancel: cancel, led: make(chan struct{}), done: make(chan struct{})}
		var once sync.Once
		go func() {
			defer close(cd.done)
			cd.el.Lead(cctx, func(lctx context.Context) {
				once.Do(func() { close(cd.led) })
				<-lctx.Done()
			})
		}()
		return cd
	}
	first := stand("first")
	select {
	case <-first.led:
	case <-time.After(10 * time.Second):
		t.Fatal("the only candidate never led")
	}
	second := stand("second")
	defer func() { second.cancel(); <-second.done }()
	// Wait until the second candidate stands (its key is beside the
	// first's in etcd), so that its not leading means something.
	c.WaitKeys(t, etcdkv.ElectionPrefix(s.Prefix()), 2, 10*time.Second)
	if second.el.Leading() || !first.el.Leading() {
		t.Fatal("the second candidate leads while the first does")
	}
	if got, err := second.el.Leader(ctx); err != nil || got != "first" {
		t.Fatalf("Leader() = %q, %v; want first", got, err)
	}
	stopped := time.Now()
	first.cancel()
	<-first.done
	select {
	case <-second.led:
	case <-time.After(10 * time.Second):
		t.Fatal("the second candidate never took over")
	}
	t.Logf("takeover after a clean stop: %v", time.Since(stopped))
	// A clean stop revokes the lease: no waiting out its 5 s TTL.
	if d := time.Since(stopped); d > 4*time.Second {
		t.Errorf("takeover after a clean stop took %v", d)
	}
	if first.el.Leading() {
		t.Error("the stopped candidate still says it leads")
	}
	if got, err := first.el.Leader(ctx); err != nil || got != "second" {
		t.Fatalf("Leader() = %q, %v; want second", got, err)
	}
}
