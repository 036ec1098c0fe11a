package netmodel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/etcdkv"
	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
)

// TestFlowRetentionAcrossReplicasOnEtcd runs two replicas' flow writers on
// one etcd prefix, as two armlets sharing it do: their batches interleave
// in time, each commit races the other's on the meta record, and only the
// leader prunes. The store must end with exactly MaxRecords records, the
// meta record counting them, and retention must have dropped the oldest
// first to within segmentSpan (README, --flow-retention-records).
func TestFlowRetentionAcrossReplicasOnEtcd(t *testing.T) {
	ctx := context.Background()
	cluster := etcdtest.Start(t)
	open := func() kv.Store {
		s, err := etcdkv.Open(ctx, cluster.Options())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storeA, storeB := open(), open()
	clk := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	const maxRecords = 500
	start := func(store kv.Store, leading bool) *FlowStore {
		fs, err := OpenFlows(ctx, FlowOptions{Store: kv.SpaceNetModel.Of(store), Now: clk.Now, MaxRecords: maxRecords,
			MaxAge: 24 * time.Hour, Leading: func() bool { return leading }})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { fs.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return fs
	}
	leader, follower := start(storeA, true), start(storeB, false)

	recorded := map[string]time.Time{} // path -> time
	record := func(fs *FlowStore, name string) {
		o := obs(clk, fmt.Sprintf("%s/jobs/%s", ws, name))
		recorded[o.Path] = o.Time
		fs.Record(o)
		clk.Add(7 * time.Millisecond)
	}
	for round := range 8 {
		// Both replicas serve requests at once: their records interleave
		// in time, and each batch spans about 1.4 s (two segments).
		for i := range 100 {
			record(leader, fmt.Sprintf("a%d-%d", round, i))
			record(follower, fmt.Sprintf("b%d-%d", round, i))
		}
		// The follower commits first, so the leader's commit loses the
		// meta record to it and must count the follower's records.
		for _, fs := range []*FlowStore{follower, leader} {
			if err := fs.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	all, err := leader.List(ctx, FlowFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != maxRecords {
		t.Fatalf("%d records kept of %d, want exactly %d", len(all), len(recorded), maxRecords)
	}
	viaFollower, err := follower.List(ctx, FlowFilter{})
	if err != nil || len(viaFollower) != maxRecords {
		t.Fatalf("the follower lists %d records (%v), want the same %d", len(viaFollower), err, maxRecords)
	}
	raw, err := kv.SpaceNetModel.Of(storeB).Get(ctx, flowMetaKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"count":%d,"seq":%d}`, maxRecords, len(recorded)); string(raw.Value) != want {
		t.Errorf("meta record %s, want %s", raw.Value, want)
	}

	kept := map[string]bool{}
	oldestKept := all[0].Time
	for i, f := range all {
		if kept[f.Path] {
			t.Fatalf("record %s listed twice", f.Path)
		}
		kept[f.Path] = true
		if i > 0 && f.Time.Before(all[i-1].Time) {
			t.Fatalf("records not in time order at %d: %v after %v", i, f.Time, all[i-1].Time)
		}
		if !f.Time.Equal(recorded[f.Path]) {
			t.Fatalf("record %s at %v, recorded at %v", f.Path, f.Time, recorded[f.Path])
		}
	}
	// Oldest first, to within a segment's span: no record dropped is
	// newer than segmentSpan past the oldest record kept.
	for path, at := range recorded {
		if !kept[path] && at.After(oldestKept.Add(segmentSpan)) {
			t.Errorf("dropped %s of %v, kept one of %v: retention dropped a record more than %v newer than one it kept",
				path, at, oldestKept, segmentSpan)
		}
	}
}
