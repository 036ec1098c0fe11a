package kv_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// seeded is a store with keys in several spaces and one outside all.
func seeded(t *testing.T) kv.Store {
	t.Helper()
	st := memkv.New()
	t.Cleanup(func() { st.Close() })
	var ops []kv.Op
	for _, k := range []string{
		"n\x00ip\x00s1\x0010.0.0.4", "n\x00ip\x00s1\x0010.0.0.5", "n\x00ip\x00s2\x0010.0.0.4",
		"nm\x00flowmeta", "nm\x00loopback-next", "policy", "policygeneration", "policystate/s/x", "zz-outside",
	} {
		ops = append(ops, kv.Put([]byte(k), []byte("v:"+k)))
	}
	if _, err := st.Txn(t.Context(), ops...); err != nil {
		t.Fatal(err)
	}
	return st
}

func keys(ents []kv.Entry) []string {
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = string(e.Key)
	}
	return out
}

func TestViewScan(t *testing.T) {
	st := seeded(t)
	tests := []struct {
		name          string
		space         kv.Space
		prefix, after string
		limit         int
		want          []string
	}{
		{"whole space", kv.SpaceNetwork, "", "", 0, []string{"ip\x00s1\x0010.0.0.4", "ip\x00s1\x0010.0.0.5", "ip\x00s2\x0010.0.0.4"}},
		{"below a prefix", kv.SpaceNetwork, "ip\x00s1\x00", "", 0, []string{"ip\x00s1\x0010.0.0.4", "ip\x00s1\x0010.0.0.5"}},
		{"after a key", kv.SpaceNetwork, "", "ip\x00s1\x0010.0.0.4", 0, []string{"ip\x00s1\x0010.0.0.5", "ip\x00s2\x0010.0.0.4"}},
		{"limited", kv.SpaceNetwork, "", "", 1, []string{"ip\x00s1\x0010.0.0.4"}},
		{"the empty key first", kv.SpacePolicy, "", "", 0, []string{"", "generation", "state/s/x"}},
		{"a neighbour's keys are not the space's", kv.SpaceNetModel, "", "", 0, []string{"flowmeta", "loopback-next"}},
		{"an empty space", kv.SpaceRBAC, "", "", 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ents, err := tt.space.Of(st).Scan(t.Context(), []byte(tt.prefix), []byte(tt.after), tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(ents); !slices.Equal(got, tt.want) {
				t.Errorf("keys %q, want %q", got, tt.want)
			}
			for _, e := range ents {
				if want := "v:" + tt.space.Prefix() + string(e.Key); string(e.Value) != want {
					t.Errorf("value of %q = %q, want %q", e.Key, e.Value, want)
				}
			}
		})
	}
}

// TestViewWritesTheSameBytes: a write through a view is the write of the
// prefixed key, read back alike through the store and the view.
func TestViewWritesTheSameBytes(t *testing.T) {
	ctx := t.Context()
	st := memkv.New()
	defer st.Close()
	v := kv.SpaceArmlet.Of(st)
	rev, err := v.Txn(ctx, kv.Put([]byte("clock-offset"), []byte("1h0m0s")).If(kv.Absent))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.Get(ctx, []byte("m\x00clock-offset"))
	if err != nil || string(raw.Value) != "1h0m0s" || raw.Revision != rev {
		t.Fatalf("store Get = %+v, %v; want the value at revision %d", raw, err, rev)
	}
	got, err := v.Get(ctx, []byte("clock-offset"))
	if err != nil || string(got.Key) != "clock-offset" || got.Revision != rev {
		t.Fatalf("view Get = %+v, %v; want the relative key at revision %d", got, err, rev)
	}
	if _, err := v.Get(ctx, []byte("bootstrap")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get of a missing key: %v, want ErrNotFound", err)
	}
	// The empty relative key is the prefix itself.
	if _, err := kv.SpaceRBAC.Of(st).Txn(ctx, kv.Put(nil, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, []byte("rbac\x00")); err != nil {
		t.Errorf("the empty key of a view: %v, want it stored at the prefix", err)
	}
}

func TestViewConflict(t *testing.T) {
	ctx := t.Context()
	st := seeded(t)
	v := kv.SpaceNetwork.Of(st)
	_, err := v.Txn(ctx, kv.Put([]byte("ip\x00s9\x00x"), nil), kv.Put([]byte("ip\x00s1\x0010.0.0.4"), nil).If(kv.Absent))
	var ce *kv.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("Txn = %v, want a *ConflictError", err)
	}
	if string(ce.Key) != "ip\x00s1\x0010.0.0.4" || ce.Space != kv.SpaceNetwork || ce.Revision == 0 {
		t.Errorf("conflict %+v, want the relative key of %v and its revision", ce, kv.SpaceNetwork)
	}
	if _, err := v.Get(ctx, []byte("ip\x00s9\x00x")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("a failed Txn applied an op: %v", err)
	}
}

// TestBatch: one transaction over two spaces, all or nothing, and a
// conflict names the space of the op that failed.
func TestBatch(t *testing.T) {
	ctx := t.Context()
	st := memkv.New()
	defer st.Close()
	rec, idx := kv.SpaceResources.Of(st), kv.SpaceTypeIndex.Of(st)

	var b kv.Batch
	b.Add(rec, kv.Put([]byte("a"), []byte("record")).If(kv.Absent))
	b.Add(idx, kv.Put([]byte("a"), []byte("r\x00a")))
	if b.Len() != 2 {
		t.Fatalf("Len = %d, want 2", b.Len())
	}
	rev, err := b.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"r\x00a", "t\x00a"} {
		if ent, err := st.Get(ctx, []byte(k)); err != nil || ent.Revision != rev {
			t.Errorf("%q: %+v, %v; want it at revision %d", k, ent, err, rev)
		}
	}

	var again kv.Batch
	again.Add(idx, kv.Put([]byte("b"), nil))
	again.Add(rec, kv.Put([]byte("a"), nil).If(kv.Absent))
	_, err = again.Commit(ctx)
	var ce *kv.ConflictError
	if !errors.As(err, &ce) || string(ce.Key) != "a" || ce.Space != kv.SpaceResources {
		t.Fatalf("Commit = %v, want a conflict on %v key \"a\"", err, kv.SpaceResources)
	}
	if _, err := idx.Get(ctx, []byte("b")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("a failed Batch applied an op: %v", err)
	}
}

func TestBatchRefuses(t *testing.T) {
	ctx := t.Context()
	st1, st2 := memkv.New(), memkv.New()
	defer st1.Close()
	defer st2.Close()
	tests := []struct {
		name  string
		build func(*kv.Batch)
	}{
		{"empty", func(*kv.Batch) {}},
		{"two stores", func(b *kv.Batch) {
			b.Add(kv.SpaceResources.Of(st1), kv.Put([]byte("a"), nil))
			b.Add(kv.SpaceTypeIndex.Of(st2), kv.Put([]byte("a"), nil))
		}},
		{"a key twice", func(b *kv.Batch) {
			v := kv.SpaceResources.Of(st1)
			b.Add(v, kv.Put([]byte("a"), nil))
			b.Add(v, kv.Delete([]byte("a")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b kv.Batch
			tt.build(&b)
			if _, err := b.Commit(ctx); !errors.Is(err, kv.ErrInvalid) {
				t.Errorf("Commit = %v, want ErrInvalid", err)
			}
		})
	}
	if ents, _ := st1.Scan(ctx, nil, nil, 0); len(ents) != 0 {
		t.Errorf("a refused Batch wrote %q", keys(ents))
	}
}

// watching is a memkv store that other processes are said to write: its
// Watch reports the entries under prefix as they stand, then returns.
type watching struct{ *memkv.Store }

func (w watching) Watch(ctx context.Context, prefix []byte, fn func(kv.Entry)) error {
	ents, err := w.Scan(ctx, prefix, nil, 0)
	for _, e := range ents {
		fn(e)
	}
	return err
}

func TestViewWatch(t *testing.T) {
	ctx := t.Context()
	st := seeded(t)
	if kv.SpaceNetwork.Of(st).Shared() {
		t.Error("a view of memkv is Shared")
	}
	if err := kv.SpaceNetwork.Of(st).Watch(ctx, nil, func(kv.Entry) {}); !errors.Is(err, kv.ErrInvalid) {
		t.Errorf("Watch on a store of one's own = %v, want ErrInvalid", err)
	}
	v := kv.SpaceNetwork.Of(watching{st.(*memkv.Store)})
	if !v.Shared() {
		t.Error("a view of a Watcher is not Shared")
	}
	var got []string
	if err := v.Watch(ctx, []byte("ip\x00s2"), func(e kv.Entry) { got = append(got, string(e.Key)) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ip\x00s2\x0010.0.0.4"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
}
