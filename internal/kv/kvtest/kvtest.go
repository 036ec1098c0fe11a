// Package kvtest is the conformance suite for kv.Store backends. Every
// backend's tests call Run (and its benchmarks RunBenchmarks) so that all
// backends are held to the same semantics, the ones documented in package kv.
//
// Besides what kv.Store documents, the suite requires one more thing of a
// backend: a Txn whose context is already cancelled returns an error wrapping
// the context's error and writes nothing.
package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/armlet/armlet/internal/kv"
)

// Options adapt the suite to a backend.
type Options struct {
	// SharedRevisions says the store's revision counter is shared with
	// others (etcd's is cluster-wide), so a new store's first revision may be
	// above 1 and revisions may skip values between two Txns of the store.
	// The suite then checks only that revisions strictly increase from Txn
	// to Txn, are equal for every key one Txn wrote, and that Get and Scan
	// return what Txn returned. Without it (bbolt, memkv) the suite also
	// checks that revisions start at 1 and grow by exactly one per
	// successful Txn.
	SharedRevisions bool
}

// Run runs the conformance suite as subtests of t with the default Options.
// open must return a new, empty store for the calling (sub)test; Run closes
// it when the subtest ends (so open need not, though closing twice must be
// harmless).
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	RunOptions(t, open, Options{})
}

// RunOptions is Run for a backend that needs Options.
func RunOptions(t *testing.T, open func(t *testing.T) kv.Store, o Options) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kv.Store, o Options)
	}{
		{"GetMissing", testGetMissing},
		{"RoundTrip", testRoundTrip},
		{"Revisions", testRevisions},
		{"Conditions", testConditions},
		{"ConflictIsAtomic", testConflictIsAtomic},
		{"Invalid", testInvalid},
		{"DeleteMissing", testDeleteMissing},
		{"ScanOrder", testScanOrder},
		{"ScanPrefix", testScanPrefix},
		{"ScanAfterLimit", testScanAfterLimit},
		{"ScanPaging", testScanPaging},
		{"ScanKeys", testScanKeys},
		{"Copies", testCopies},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentCAS", testConcurrentCAS},
		{"ConcurrentDisjoint", testConcurrentDisjoint},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s, o)
		})
	}
}

// ---- helpers ----

func mustTxn(t testing.TB, s kv.Store, ops ...kv.Op) int64 {
	t.Helper()
	rev, err := s.Txn(context.Background(), ops...)
	if err != nil {
		t.Fatalf("Txn(%s): %v", describeOps(ops), err)
	}
	if rev <= 0 {
		t.Fatalf("Txn(%s) returned revision %d, want > 0", describeOps(ops), rev)
	}
	return rev
}

func mustGet(t testing.TB, s kv.Store, key string) kv.Entry {
	t.Helper()
	e, err := s.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(e.Key) != key {
		t.Fatalf("Get(%q) returned key %q", key, e.Key)
	}
	return e
}

// wantEntry checks that key holds value at revision rev.
func wantEntry(t testing.TB, s kv.Store, key, value string, rev int64) {
	t.Helper()
	e := mustGet(t, s, key)
	if string(e.Value) != value || e.Revision != rev {
		t.Errorf("Get(%q) = %q@%d, want %q@%d", key, e.Value, e.Revision, value, rev)
	}
}

func wantNotFound(t testing.TB, s kv.Store, key string) {
	t.Helper()
	e, err := s.Get(context.Background(), []byte(key))
	if !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get(%q) = %q@%d, %v; want error wrapping ErrNotFound", key, e.Value, e.Revision, err)
	}
}

// wantConflict checks that err is a *kv.ConflictError on key with revision rev.
func wantConflict(t testing.TB, err error, key string, rev int64) {
	t.Helper()
	if !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("error = %v, want one wrapping ErrConflict", err)
	}
	var ce *kv.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *kv.ConflictError", err, err)
	}
	if string(ce.Key) != key || ce.Revision != rev {
		t.Errorf("ConflictError{Key: %q, Revision: %d}, want {Key: %q, Revision: %d}", ce.Key, ce.Revision, key, rev)
	}
}

func scanKeys(t testing.TB, s kv.Store, prefix, after string, limit int) []string {
	t.Helper()
	var a []byte
	if after != "" {
		a = []byte(after)
	}
	es, err := s.Scan(context.Background(), []byte(prefix), a, limit)
	if err != nil {
		t.Fatalf("Scan(%q, %q, %d): %v", prefix, after, limit, err)
	}
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = string(e.Key)
	}
	return keys
}

func describeOps(ops []kv.Op) string {
	var b bytes.Buffer
	for i, op := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		if op.Delete {
			fmt.Fprintf(&b, "Delete(%q)", op.Key)
		} else {
			fmt.Fprintf(&b, "Put(%q)", op.Key)
		}
		if op.Cond != kv.Any {
			fmt.Fprintf(&b, ".If(%d)", op.Cond)
		}
	}
	return b.String()
}

// ---- tests ----

func testGetMissing(t *testing.T, s kv.Store, o Options) {
	wantNotFound(t, s, "missing")
	mustTxn(t, s, kv.Put([]byte("present"), []byte("v")))
	wantNotFound(t, s, "missing")
	wantNotFound(t, s, "presen")      // a prefix of an existing key
	wantNotFound(t, s, "present\x00") // an extension of one
}

func testRoundTrip(t *testing.T, s kv.Store, o Options) {
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	tests := []struct {
		name       string
		key, value string
	}{
		{"simple", "k", "v"},
		{"empty value", "empty", ""},
		{"binary", "\x00\x01\xff", "\xff\x00\x00\xfe"},
		{"long key", string(bytes.Repeat([]byte("k"), 1000)), "v"},
		{"1MiB value", "big", string(big)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rev := mustTxn(t, s, kv.Put([]byte(tc.key), []byte(tc.value)))
			wantEntry(t, s, tc.key, tc.value, rev)
			// Overwrite and read again.
			rev2 := mustTxn(t, s, kv.Put([]byte(tc.key), []byte(tc.value+"2")))
			wantEntry(t, s, tc.key, tc.value+"2", rev2)
		})
	}
}

func testRevisions(t *testing.T, s kv.Store, o Options) {
	r1 := mustTxn(t, s, kv.Put([]byte("a"), []byte("1")))
	if r1 != 1 && !o.SharedRevisions {
		t.Errorf("first revision = %d, want 1", r1)
	}
	// next checks the revision of a Txn after one at prev.
	next := func(what string, rev, prev int64) {
		t.Helper()
		switch {
		case rev <= prev:
			t.Errorf("%s: revision %d <= previous %d", what, rev, prev)
		case rev != prev+1 && !o.SharedRevisions:
			t.Errorf("%s: revision %d, want %d (one more than the previous Txn's)", what, rev, prev+1)
		}
	}
	// All ops of one Txn share the returned revision.
	r2 := mustTxn(t, s,
		kv.Put([]byte("b"), []byte("2")),
		kv.Put([]byte("c"), []byte("3")),
		kv.Put([]byte("a"), []byte("1b")),
	)
	next("second Txn", r2, r1)
	for _, k := range []string{"a", "b", "c"} {
		if e := mustGet(t, s, k); e.Revision != r2 {
			t.Errorf("%s: revision %d, want %d (revision of its Txn)", k, e.Revision, r2)
		}
	}
	// A delete is a write and takes a revision; untouched keys keep theirs.
	r3 := mustTxn(t, s, kv.Delete([]byte("b")))
	next("delete", r3, r2)
	r4 := mustTxn(t, s, kv.Put([]byte("c"), []byte("3b")))
	next("put after delete", r4, r3)
	wantEntry(t, s, "a", "1b", r2)
	wantNotFound(t, s, "b")
	wantEntry(t, s, "c", "3b", r4)

	// Revisions keep increasing over many writes, and Entry.Revision is the
	// revision of the last write to the key.
	last := r4
	for i := range 20 {
		key := []byte("k" + strconv.Itoa(i%3))
		rev := mustTxn(t, s, kv.Put(key, []byte(strconv.Itoa(i))))
		next(fmt.Sprintf("write %d", i), rev, last)
		last = rev
		if e := mustGet(t, s, string(key)); e.Revision != rev {
			t.Fatalf("write %d: Entry.Revision %d, want %d", i, e.Revision, rev)
		}
	}
}

func testConditions(t *testing.T, s kv.Store, o Options) {
	// Each case gets its own key in one of three states:
	//   absent:  never written
	//   present: written twice (prev = first write, cur = second)
	//   deleted: written at prev, then deleted (cur = 0)
	type condKind int
	const (
		condAny condKind = iota
		condAbsent
		condPresent
		atCurrent  // AtRevision(cur); only for present keys
		atPrevious // AtRevision(prev): a stale revision
		atFuture   // AtRevision(a revision not reached yet)
	)
	kindName := []string{"Any", "Absent", "Present", "AtCurrent", "AtPrevious", "AtFuture"}
	tests := []struct {
		state string
		cond  condKind
		holds bool
	}{
		{"present", condAny, true},
		{"present", condAbsent, false},
		{"present", condPresent, true},
		{"present", atCurrent, true},
		{"present", atPrevious, false},
		{"present", atFuture, false},
		{"absent", condAny, true},
		{"absent", condAbsent, true},
		{"absent", condPresent, false},
		{"absent", atPrevious, false},
		{"absent", atFuture, false},
		{"deleted", condAny, true},
		{"deleted", condAbsent, true},
		{"deleted", condPresent, false},
		{"deleted", atPrevious, false},
		{"deleted", atFuture, false},
	}
	ctx := context.Background()
	for _, tc := range tests {
		for _, del := range []bool{false, true} {
			opName := "Put"
			if del {
				opName = "Delete"
			}
			name := fmt.Sprintf("%s/%s/%s", opName, tc.state, kindName[tc.cond])
			t.Run(name, func(t *testing.T) {
				key := "cond/" + name
				var prev, cur int64
				switch tc.state {
				case "absent":
					// An existing revision, just not this key's.
					prev = mustTxn(t, s, kv.Put([]byte(key+"/other"), []byte("x")))
				case "present":
					prev = mustTxn(t, s, kv.Put([]byte(key), []byte("old")))
					cur = mustTxn(t, s, kv.Put([]byte(key), []byte("cur")))
				case "deleted":
					prev = mustTxn(t, s, kv.Put([]byte(key), []byte("old")))
					mustTxn(t, s, kv.Delete([]byte(key)))
				}
				// A revision no write has reached yet.
				future := mustTxn(t, s, kv.Put([]byte(key+"/clock"), nil)) + 1000
				var cond kv.Cond
				switch tc.cond {
				case condAny:
					cond = kv.Any
				case condAbsent:
					cond = kv.Absent
				case condPresent:
					cond = kv.Present
				case atCurrent:
					cond = kv.AtRevision(cur)
				case atPrevious:
					cond = kv.AtRevision(prev)
				case atFuture:
					cond = kv.AtRevision(future)
				}
				op := kv.Put([]byte(key), []byte("new"))
				if del {
					op = kv.Delete([]byte(key))
				}
				rev, err := s.Txn(ctx, op.If(cond))
				if tc.holds {
					if err != nil {
						t.Fatalf("Txn: %v, want success", err)
					}
					if rev <= cur || rev <= prev {
						t.Errorf("revision %d not after earlier writes (%d, %d)", rev, prev, cur)
					}
					if del {
						wantNotFound(t, s, key)
					} else {
						wantEntry(t, s, key, "new", rev)
					}
					return
				}
				if err == nil {
					t.Fatalf("Txn succeeded at revision %d, want a conflict", rev)
				}
				wantConflict(t, err, key, cur)
				if tc.state == "present" {
					wantEntry(t, s, key, "cur", cur)
				} else {
					wantNotFound(t, s, key)
				}
			})
		}
	}
}

func testConflictIsAtomic(t *testing.T, s kv.Store, o Options) {
	ctx := context.Background()
	base := mustTxn(t, s,
		kv.Put([]byte("a"), []byte("a0")),
		kv.Put([]byte("b"), []byte("b0")),
		kv.Put([]byte("c"), []byte("c0")),
	)
	// Every op below would change the store; the op at index fail gets an
	// impossible condition.
	ops := func() []kv.Op {
		return []kv.Op{
			kv.Put([]byte("a"), []byte("a1")).If(kv.AtRevision(base)),
			kv.Delete([]byte("b")).If(kv.Present),
			kv.Put([]byte("new"), []byte("n")).If(kv.Absent),
			kv.Put([]byte("c"), []byte("c1")),
			kv.Delete([]byte("gone")),
		}
	}
	impossible := []kv.Cond{kv.AtRevision(base + 1000), kv.Absent, kv.Present, kv.Absent, kv.Present}
	wantRev := []int64{base, base, 0, base, 0}
	checkUntouched := func(t *testing.T) {
		t.Helper()
		wantEntry(t, s, "a", "a0", base)
		wantEntry(t, s, "b", "b0", base)
		wantEntry(t, s, "c", "c0", base)
		wantNotFound(t, s, "new")
		wantNotFound(t, s, "gone")
	}
	for fail := range ops() {
		t.Run(fmt.Sprintf("fail_op_%d", fail), func(t *testing.T) {
			o := ops()
			o[fail] = o[fail].If(impossible[fail])
			_, err := s.Txn(ctx, o...)
			wantConflict(t, err, string(o[fail].Key), wantRev[fail])
			checkUntouched(t)
		})
	}
	t.Run("first_failing_key_named", func(t *testing.T) {
		o := ops()
		o[1] = o[1].If(impossible[1])
		o[3] = o[3].If(impossible[3])
		_, err := s.Txn(ctx, o...)
		wantConflict(t, err, "b", base)
		checkUntouched(t)
	})
	t.Run("then_succeeds", func(t *testing.T) {
		rev := mustTxn(t, s, ops()...)
		if rev <= base {
			t.Errorf("revision %d <= %d", rev, base)
		}
		wantEntry(t, s, "a", "a1", rev)
		wantNotFound(t, s, "b")
		wantEntry(t, s, "c", "c1", rev)
		wantEntry(t, s, "new", "n", rev)
	})
}

func testInvalid(t *testing.T, s kv.Store, o Options) {
	tests := []struct {
		name string
		ops  []kv.Op
	}{
		{"no ops", nil},
		{"empty ops", []kv.Op{}},
		{"nil key", []kv.Op{kv.Put([]byte("x1"), []byte("v")), kv.Put(nil, []byte("v"))}},
		{"empty key", []kv.Op{kv.Put([]byte("x2"), []byte("v")), kv.Delete([]byte{})}},
		{"duplicate put", []kv.Op{kv.Put([]byte("x3"), []byte("v")), kv.Put([]byte("x3"), []byte("w"))}},
		{"duplicate put and delete", []kv.Op{kv.Put([]byte("x4"), []byte("v")), kv.Put([]byte("y4"), nil), kv.Delete([]byte("x4"))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rev, err := s.Txn(context.Background(), tc.ops...)
			if !errors.Is(err, kv.ErrInvalid) {
				t.Fatalf("Txn(%s) = %d, %v; want error wrapping ErrInvalid", describeOps(tc.ops), rev, err)
			}
			for _, op := range tc.ops {
				if len(op.Key) > 0 {
					wantNotFound(t, s, string(op.Key))
				}
			}
		})
	}
	// Nothing was written, so the next revision is still the first. With
	// shared revisions there is no "first": the Txns above must not have
	// written, which the wantNotFound checks cover.
	rev := mustTxn(t, s, kv.Put([]byte("ok"), nil))
	if rev != 1 && !o.SharedRevisions {
		t.Errorf("revision after invalid Txns = %d, want 1", rev)
	}
	wantEntry(t, s, "ok", "", rev)
}

func testDeleteMissing(t *testing.T, s kv.Store, o Options) {
	r1 := mustTxn(t, s, kv.Put([]byte("other"), []byte("v")))
	r2 := mustTxn(t, s, kv.Delete([]byte("missing")))
	if r2 <= r1 || (r2 != r1+1 && !o.SharedRevisions) {
		t.Errorf("revision of a delete of a missing key %d after %d, want a new revision", r2, r1)
	}
	wantNotFound(t, s, "missing")
	wantEntry(t, s, "other", "v", r1)
	// Together with a put, in one Txn.
	r3 := mustTxn(t, s, kv.Delete([]byte("missing2")), kv.Put([]byte("p"), []byte("q")))
	wantEntry(t, s, "p", "q", r3)
}

// scanKeySet holds keys chosen to probe bytewise ordering and prefix bounds.
var scanKeySet = []string{
	"\x00", "B", "a", "a\x00", "aa", "ab", "ab\x00", "abc", "ab\xff", "ac",
	"a\xff", "a\xff\x00", "a\xff\xff", "b", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff",
}

func putScanKeySet(t *testing.T, s kv.Store) map[string]int64 {
	t.Helper()
	shuffled := slices.Clone(scanKeySet)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	revs := make(map[string]int64)
	for _, k := range shuffled {
		revs[k] = mustTxn(t, s, kv.Put([]byte(k), []byte("v:"+k)))
	}
	return revs
}

func testScanOrder(t *testing.T, s kv.Store, o Options) {
	revs := putScanKeySet(t, s)
	es, err := s.Scan(context.Background(), nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// scanKeySet is written in bytewise order; check that too.
	if !slices.IsSortedFunc(scanKeySet, func(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) }) {
		t.Fatal("scanKeySet is not sorted")
	}
	if len(es) != len(scanKeySet) {
		t.Fatalf("Scan returned %d entries, want %d", len(es), len(scanKeySet))
	}
	for i, e := range es {
		k := scanKeySet[i]
		if string(e.Key) != k || string(e.Value) != "v:"+k || e.Revision != revs[k] {
			t.Errorf("entry %d = %q=%q@%d, want %q=%q@%d", i, e.Key, e.Value, e.Revision, k, "v:"+k, revs[k])
		}
	}
}

func testScanPrefix(t *testing.T, s kv.Store, o Options) {
	putScanKeySet(t, s)
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", scanKeySet},
		{"a", []string{"a", "a\x00", "aa", "ab", "ab\x00", "abc", "ab\xff", "ac", "a\xff", "a\xff\x00", "a\xff\xff"}},
		{"ab", []string{"ab", "ab\x00", "abc", "ab\xff"}},
		{"ab\x00", []string{"ab\x00"}},
		{"a\xff", []string{"a\xff", "a\xff\x00", "a\xff\xff"}},
		{"a\xff\xff", []string{"a\xff\xff"}},
		{"\xff", []string{"\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff"}},
		{"\xff\xff", []string{"\xff\xff", "\xff\xff\xff"}},
		{"\xff\xff\xff\xff", nil},
		{"\x00", []string{"\x00"}},
		{"A", nil},
		{"abd", nil},
		{"zz", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.prefix), func(t *testing.T) {
			got := scanKeys(t, s, tc.prefix, "", 0)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Scan(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		})
	}
}

func testScanAfterLimit(t *testing.T, s kv.Store, o Options) {
	putScanKeySet(t, s)
	all := []string{"a", "a\x00", "aa", "ab", "ab\x00", "abc", "ab\xff", "ac", "a\xff", "a\xff\x00", "a\xff\xff"}
	tests := []struct {
		name   string
		after  string
		limit  int
		wantAt int // want all[wantAt:], cut to limit
	}{
		{"no after", "", 0, 0},
		{"after below prefix", "0", 0, 0},
		{"after is prefix key", "a", 0, 1},
		{"after existing key", "ab", 0, 4},
		{"after missing key", "ab\x01", 0, 5},
		{"after key with 0xff", "ab\xff", 0, 7},
		{"after last key", "a\xff\xff", 0, len(all)},
		{"after beyond prefix", "b", 0, len(all)},
		{"limit 1", "", 1, 0},
		{"limit 3 after", "aa", 3, 3},
		{"limit exact", "", len(all), 0},
		{"limit larger", "ac", 100, 8},
		{"limit negative", "", -1, 0},
		{"limit cut by end", "a\xff", 5, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := all[tc.wantAt:]
			if tc.limit > 0 && len(want) > tc.limit {
				want = want[:tc.limit]
			}
			got := scanKeys(t, s, "a", tc.after, tc.limit)
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("Scan(%q, after %q, limit %d) = %q, want %q", "a", tc.after, tc.limit, got, want)
			}
		})
	}
}

// testScanKeys checks kv.ScanKeys (the store's KeyScanner, if it has one)
// against Scan: the same keys and revisions, no values.
func testScanKeys(t *testing.T, s kv.Store, o Options) {
	putScanKeySet(t, s)
	ctx := context.Background()
	if _, err := s.Txn(ctx, kv.Put([]byte("ab"), []byte("rewritten"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after string
		limit int
	}{{"", 0}, {"aa", 3}, {"ab\xff", 0}, {"", 1}} {
		full, err := s.Scan(ctx, []byte("a"), []byte(tc.after), tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kv.ScanKeys(ctx, s, []byte("a"), []byte(tc.after), tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != len(full) {
			t.Fatalf("ScanKeys(after %q, limit %d): %d entries, Scan %d", tc.after, tc.limit, len(keys), len(full))
		}
		for i := range full {
			if !bytes.Equal(keys[i].Key, full[i].Key) || keys[i].Revision != full[i].Revision || keys[i].Value != nil {
				t.Errorf("ScanKeys entry %d = %q rev %d value %q, Scan's %q rev %d", i, keys[i].Key, keys[i].Revision, keys[i].Value, full[i].Key, full[i].Revision)
			}
		}
	}
}

func testScanPaging(t *testing.T, s kv.Store, o Options) {
	const n = 1000
	// Neighbours just outside the prefix, on both sides.
	mustTxn(t, s,
		kv.Put([]byte("page"), nil),
		kv.Put([]byte("page."), nil),
		kv.Put([]byte("page0"), nil),
		kv.Put([]byte("pagf"), nil),
	)
	for start := 0; start < n; start += 100 {
		var ops []kv.Op
		for i := start; i < start+100; i++ {
			ops = append(ops, kv.Put(fmt.Appendf(nil, "page/%04d", i), []byte(strconv.Itoa(i))))
		}
		mustTxn(t, s, ops...)
	}
	var after []byte
	next, pages := 0, 0
	for {
		es, err := s.Scan(context.Background(), []byte("page/"), after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		pages++
		if len(es) > 7 {
			t.Fatalf("page %d has %d entries, limit 7", pages, len(es))
		}
		for _, e := range es {
			if want := fmt.Sprintf("page/%04d", next); string(e.Key) != want || string(e.Value) != strconv.Itoa(next) {
				t.Fatalf("page %d: got %q=%q, want %q=%q", pages, e.Key, e.Value, want, strconv.Itoa(next))
			}
			next++
		}
		after = es[len(es)-1].Key
	}
	if next != n {
		t.Errorf("paging returned %d keys, want %d", next, n)
	}
	if want := (n + 6) / 7; pages != want {
		t.Errorf("%d pages, want %d", pages, want)
	}
}

func testCopies(t *testing.T, s kv.Store, o Options) {
	ctx := context.Background()
	key := []byte("key")
	val := []byte("value")
	rev := mustTxn(t, s, kv.Put(key, val))
	// The caller's slices may be reused once Txn returned.
	key[0] = 'X'
	val[0] = 'X'
	wantEntry(t, s, "key", "value", rev)
	wantNotFound(t, s, "Xey")

	e := mustGet(t, s, "key")
	e.Value[0] = 'Y'
	e.Key[0] = 'Y'
	wantEntry(t, s, "key", "value", rev)

	es, err := s.Scan(ctx, nil, nil, 0)
	if err != nil || len(es) != 1 {
		t.Fatalf("Scan = %d entries, %v; want 1", len(es), err)
	}
	es[0].Value[0] = 'Z'
	es[0].Key[0] = 'Z'
	wantEntry(t, s, "key", "value", rev)
	if got := scanKeys(t, s, "", "", 0); !slices.Equal(got, []string{"key"}) {
		t.Errorf("keys after mutating Scan result = %q", got)
	}

	// Two reads do not share memory either.
	e1, e2 := mustGet(t, s, "key"), mustGet(t, s, "key")
	e1.Value[1] = 'W'
	if string(e2.Value) != "value" {
		t.Errorf("second Get shares memory with first: %q", e2.Value)
	}
}

func testCancelledContext(t *testing.T, s kv.Store, o Options) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("v")))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Txn with cancelled context: %v, want context.Canceled", err)
	}
	wantNotFound(t, s, "k")
}

func testConcurrentCAS(t *testing.T, s kv.Store, o Options) {
	const workers, increments = 16, 50
	ctx := context.Background()
	key := []byte("counter")
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range increments {
				for attempt := 0; ; attempt++ {
					if attempt > 10000 {
						t.Error("CAS starved after 10000 attempts")
						return
					}
					var n int
					cond := kv.Absent
					e, err := s.Get(ctx, key)
					switch {
					case err == nil:
						n, err = strconv.Atoi(string(e.Value))
						if err != nil {
							t.Errorf("counter holds %q", e.Value)
							return
						}
						cond = kv.AtRevision(e.Revision)
					case !errors.Is(err, kv.ErrNotFound):
						t.Errorf("Get: %v", err)
						return
					}
					_, err = s.Txn(ctx, kv.Put(key, []byte(strconv.Itoa(n+1))).If(cond))
					if err == nil {
						break
					}
					if !errors.Is(err, kv.ErrConflict) {
						t.Errorf("Txn: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if e := mustGet(t, s, string(key)); string(e.Value) != strconv.Itoa(workers*increments) {
		t.Errorf("counter = %s, want %d", e.Value, workers*increments)
	}
}

func testConcurrentDisjoint(t *testing.T, s kv.Store, o Options) {
	const workers, writes = 8, 50
	ctx := context.Background()
	revs := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range writes {
				key := fmt.Appendf(nil, "w%02d/%03d", w, i)
				rev, err := s.Txn(ctx, kv.Put(key, key).If(kv.Absent))
				if err != nil {
					t.Errorf("Txn(%s): %v", key, err)
					return
				}
				revs[w] = append(revs[w], rev)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Every Txn got its own revision, increasing within each writer.
	seen := make(map[int64]bool)
	for w := range workers {
		if !slices.IsSorted(revs[w]) {
			t.Errorf("writer %d saw revisions out of order: %v", w, revs[w])
		}
		for _, r := range revs[w] {
			if seen[r] {
				t.Errorf("revision %d returned to two Txns", r)
			}
			seen[r] = true
		}
	}
	es, err := s.Scan(ctx, []byte("w"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != workers*writes {
		t.Fatalf("Scan found %d keys, want %d", len(es), workers*writes)
	}
	for _, e := range es {
		if !bytes.Equal(e.Key, e.Value) || !seen[e.Revision] {
			t.Errorf("entry %q=%q@%d", e.Key, e.Value, e.Revision)
		}
	}
}

func testClosed(t *testing.T, s kv.Store, o Options) {
	ctx := context.Background()
	mustTxn(t, s, kv.Put([]byte("k"), []byte("v")))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Get(ctx, []byte("k")); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Scan(ctx, nil, nil, 0); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Scan after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("w"))); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Txn after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil && !errors.Is(err, kv.ErrClosed) {
		t.Errorf("second Close: %v, want nil or ErrClosed", err)
	}
}
