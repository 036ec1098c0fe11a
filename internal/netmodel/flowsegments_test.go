package netmodel

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// queueThenRun records obs before the writer runs (so they form one batch),
// runs it until everything is stored, and returns the store and a stop.
func queueThenRun(t *testing.T, store kv.Store, maxRecords int, maxAge time.Duration, clk *fakeClock, obs []Observation) (*FlowStore, func()) {
	t.Helper()
	ctx := context.Background()
	fs, err := OpenFlows(ctx, FlowOptions{Store: kv.SpaceNetModel.Of(store), Now: clk.Now, MaxRecords: maxRecords, MaxAge: maxAge, QueueSize: 4 * flowBatch})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		fs.Record(o)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { fs.Run(runCtx); close(done) }()
	if err := fs.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return fs, func() { cancel(); <-done }
}

// segmentKeys returns the flow keys stored and the records of each.
func segmentKeys(t *testing.T, store kv.Store) (keys [][]byte, sizes []int) {
	t.Helper()
	ents, err := kv.SpaceNetModel.Of(store).Scan(context.Background(), flowPrefix, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		recs, err := segmentRecords(e.Value)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.Key)
		sizes = append(sizes, len(recs))
	}
	return keys, sizes
}

func TestFlowSegments(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("a batch is cut where its records span more than segmentSpan", func(t *testing.T) {
		store := memkv.New()
		clk := &fakeClock{now: base}
		var batch []Observation
		for i := range 30 { // 100 ms apart: 3 s in all
			batch = append(batch, obs(clk, fmt.Sprintf("%s/jobs/j%d", ws, i)))
			clk.Add(100 * time.Millisecond)
		}
		// Queued out of order: the writer sorts them by time.
		batch[3], batch[20] = batch[20], batch[3]
		fs, stop := queueThenRun(t, store, 0, 0, clk, batch)
		defer stop()
		keys, sizes := segmentKeys(t, store)
		if len(keys) != 3 || sizes[0] != 11 || sizes[1] != 11 || sizes[2] != 8 {
			t.Fatalf("segments of %v records, want 11, 11, 8 (a second each, both ends included)", sizes)
		}
		if got := keyTime(keys[1]); !got.Equal(base.Add(1100 * time.Millisecond)) {
			t.Errorf("second segment keyed at %v, want its first record's time", got)
		}
		if keySeq(keys[0]) != 1 || keySeq(keys[1]) != 12 || keySeq(keys[2]) != 23 {
			t.Errorf("segments keyed at sequences %d, %d, %d, want 1, 12, 23", keySeq(keys[0]), keySeq(keys[1]), keySeq(keys[2]))
		}
		all, err := fs.List(ctx, FlowFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range all {
			if want := fmt.Sprintf("/jobs/j%d", i); !strings.HasSuffix(f.ResourceID, want) {
				t.Fatalf("record %d is %s, want %s: oldest first", i, f.ResourceID, want)
			}
		}
	})

	t.Run("large records are cut into segments and transactions under etcd's limits", func(t *testing.T) {
		txns := &flowTxns{Store: memkv.New()}
		clk := &fakeClock{now: base}
		var batch []Observation
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range 60 {
			o := obs(clk, fmt.Sprintf("%s/jobs/j%d", ws, i))
			// As many query values as a record keeps, each as long as it
			// keeps and random: some 50 KB a record, compressing to half.
			q := make(url.Values)
			for j := range maxParams {
				v := make([]byte, maxValueLen/2)
				for k := range v {
					v[k] = byte(rnd.Uint32())
				}
				q.Set(fmt.Sprintf("v%d", j), hex.EncodeToString(v))
			}
			o.RawQuery = q.Encode()
			batch = append(batch, o)
		}
		_, stop := queueThenRun(t, txns, 0, 0, clk, batch)
		defer stop()
		_, sizes := segmentKeys(t, txns)
		if len(sizes) < 2 {
			t.Fatalf("60 records of 60 KB in %d segment(s), want them cut at %d bytes", len(sizes), segmentBytes)
		}
		if w := txns.written(); len(w) < 2 || sum(w) != 60 {
			t.Errorf("transactions of %v records, want 60 in several", w)
		}
		for _, n := range txns.segmentBytes() {
			if n > txnBytes {
				t.Errorf("a transaction of %d bytes of segments, over %d", n, txnBytes)
			}
		}
	})

	t.Run("pruning rewrites a segment it keeps part of", func(t *testing.T) {
		store := memkv.New()
		clk := &fakeClock{now: base}
		var batch []Observation
		for i := range 250 {
			clk.Add(time.Millisecond)
			batch = append(batch, obs(clk, fmt.Sprintf("%s/jobs/j%d", ws, i)))
		}
		fs, stop := queueThenRun(t, store, 100, time.Hour, clk, batch)
		defer stop()
		keys, sizes := segmentKeys(t, store)
		if len(keys) != 1 || sizes[0] != 100 || keySeq(keys[0]) != 151 || !keyTime(keys[0]).Equal(base.Add(151*time.Millisecond)) {
			t.Fatalf("after pruning to 100: segments %v of %v records, want one of 100 from sequence 151", keys, sizes)
		}
		// By age: an hour after j189, the 39 records before it are over the hour.
		clk.Add(time.Hour - 60*time.Millisecond)
		fs.Record(obs(clk, ws+"/jobs/late"))
		if err := fs.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		all, err := fs.List(ctx, FlowFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 62 || !strings.HasSuffix(all[0].ResourceID, "/j189") || fs.count != 62 {
			t.Fatalf("after aging: %d records (count %d) from %s, want 62 from j189", len(all), fs.count, all[0].ResourceID)
		}
	})

	t.Run("records of overlapping segments are listed oldest first", func(t *testing.T) {
		store := memkv.New()
		clk := &fakeClock{now: base}
		// Two replicas' batches over the same half second, interleaved.
		var a, b []Observation
		for i := range 50 {
			clk.Add(5 * time.Millisecond)
			a = append(a, obs(clk, fmt.Sprintf("%s/jobs/j%03d", ws, 2*i)))
			clk.Add(5 * time.Millisecond)
			b = append(b, obs(clk, fmt.Sprintf("%s/jobs/j%03d", ws, 2*i+1)))
		}
		_, stopA := queueThenRun(t, store, 0, 0, clk, a)
		stopA()
		fs, stop := queueThenRun(t, store, 0, 0, clk, b)
		defer stop()
		if _, sizes := segmentKeys(t, store); len(sizes) != 2 {
			t.Fatalf("segments %v, want two", sizes)
		}
		for _, tc := range []struct {
			name   string
			filter FlowFilter
			first  int
			n      int
		}{
			{"all", FlowFilter{}, 0, 100},
			{"limit", FlowFilter{Limit: 7}, 0, 7},
			// Record k is at 5k+5 ms.
			{"since, in the segments' span", FlowFilter{Since: base.Add(255 * time.Millisecond)}, 50, 50},
			{"until", FlowFilter{Until: base.Add(105 * time.Millisecond)}, 0, 20},
			{"since and limit", FlowFilter{Since: base.Add(400 * time.Millisecond), Limit: 3}, 79, 3},
		} {
			got, err := fs.List(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n {
				t.Errorf("%s: %d records, want %d", tc.name, len(got), tc.n)
				continue
			}
			for i, f := range got {
				if want := fmt.Sprintf("/jobs/j%03d", tc.first+i); !strings.HasSuffix(f.ResourceID, want) {
					t.Errorf("%s: record %d is %s, want %s", tc.name, i, f.ResourceID, want)
					break
				}
			}
		}
	})

	t.Run("a record stored before segments is read and pruned as one", func(t *testing.T) {
		store := memkv.New()
		clk := &fakeClock{now: base}
		old := FlowOf(obs(clk, ws+"/jobs/legacy"))
		raw, err := json.Marshal(old) // as armlet stored a record before segments
		if err != nil {
			t.Fatal(err)
		}
		view := kv.SpaceNetModel.Of(store)
		if _, err := view.Txn(ctx, kv.Put(flowKey(old.Time, 1), raw), kv.Put(flowMetaKey, mustMarshal(flowMeta{Count: 1, Seq: 1}))); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		fs, stop := queueThenRun(t, store, 0, time.Hour, clk, []Observation{obs(clk, ws+"/jobs/new")})
		defer stop()
		all, err := fs.List(ctx, FlowFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || !strings.HasSuffix(all[0].ResourceID, "/legacy") || !strings.HasSuffix(all[1].ResourceID, "/new") {
			t.Fatalf("listed %+v, want the legacy record then the new one", all)
		}
		clk.Add(time.Hour - 30*time.Second)
		fs.Record(obs(clk, ws+"/jobs/newer"))
		if err := fs.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if all, err = fs.List(ctx, FlowFilter{}); err != nil || len(all) != 2 || !strings.HasSuffix(all[0].ResourceID, "/new") || fs.count != 2 {
			t.Fatalf("after the legacy record aged: %d records (count %d), err %v", len(all), fs.count, err)
		}
	})

	t.Run("a corrupt segment is skipped by readers and deleted by pruning", func(t *testing.T) {
		store := memkv.New()
		clk := &fakeClock{now: base}
		view := kv.SpaceNetModel.Of(store)
		if _, err := view.Txn(ctx, kv.Put(flowKey(base, 1), []byte{segmentFlate, 0xff, 0x00}), kv.Put(flowMetaKey, mustMarshal(flowMeta{Count: 1, Seq: 1}))); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
		fs, stop := queueThenRun(t, store, 1, time.Hour, clk, []Observation{obs(clk, ws+"/jobs/good")})
		defer stop()
		all, err := fs.List(ctx, FlowFilter{})
		if err != nil || len(all) != 1 || !strings.HasSuffix(all[0].ResourceID, "/good") {
			t.Fatalf("listed %+v (err %v), want the good record only", all, err)
		}
		if keys, _ := segmentKeys(t, store); len(keys) != 1 {
			t.Errorf("%d segments left, want the corrupt one deleted", len(keys))
		}
	})
}

func sum(ns []int) (s int) {
	for _, n := range ns {
		s += n
	}
	return s
}

// FuzzSegmentRecords: records split by '\n' come back from a segment
// exactly as encoded, through a reader reused across values as the
// writer's is; and any stored value, however corrupt, gives records or an
// error, never a panic or a hang.
func FuzzSegmentRecords(f *testing.F) {
	f.Add([]byte(`{"time":"2025-01-01T00:00:00Z"}`), []byte{segmentFlate, 0x01, 0x00})
	f.Add([]byte("{\"a\":1}\n{\"b\":2}"), []byte{segmentFlate})
	f.Add([]byte(""), []byte{7, 1, 2})
	var seg segmenter
	f.Fuzz(func(t *testing.T, joined, stored []byte) {
		var recs []flowRecord
		for r := range bytes.SplitSeq(joined, []byte{'\n'}) {
			recs = append(recs, flowRecord{json: r})
		}
		got, err := seg.reader.records(seg.encode(recs))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(recs) {
			t.Fatalf("%d records back, %d encoded", len(got), len(recs))
		}
		for i := range got {
			if !bytes.Equal(got[i], recs[i].json) {
				t.Fatalf("record %d: %q back, %q encoded", i, got[i], recs[i].json)
			}
		}
		_, _ = seg.reader.records(stored)
		_, _ = segmentRecords(stored)
	})
}
