package etcdkv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/etcdkv"
	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
	"github.com/armlet/armlet/internal/kv/kvtest"
)

// opener returns stores opened with base, each under its own prefix within
// base's, so that every (sub)test starts empty.
func opener(base etcdkv.Options) func(t testing.TB) kv.Store {
	var n atomic.Int64
	return func(t testing.TB) kv.Store {
		t.Helper()
		o := base
		o.Prefix += fmt.Sprintf("test%d/", n.Add(1))
		s, err := etcdkv.Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) {
	open := opener(etcdtest.Start(t).Options())
	kvtest.RunOptions(t, func(t *testing.T) kv.Store { return open(t) }, kvtest.Options{SharedRevisions: true})
}

func BenchmarkStore(b *testing.B) {
	open := opener(etcdtest.Start(b).Options())
	kvtest.RunBenchmarks(b, func(b *testing.B) kv.Store { return open(b) })
}

// TestPrefixIsolation checks that two stores on one cluster under different
// prefixes, one a prefix of the other's, see only their own keys, and that
// the keys are really stored under the prefix.
func TestPrefixIsolation(t *testing.T) {
	c := etcdtest.Start(t)
	ctx := context.Background()
	open := func(prefix string) kv.Store {
		o := c.Options()
		o.Prefix += prefix
		s, err := etcdkv.Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open("armlet/"), open("armlet-b/")
	if _, err := a.Txn(ctx, kv.Put([]byte("k"), []byte("a"))); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Txn(ctx, kv.Put([]byte("k"), []byte("b"))); err != nil {
		t.Fatal(err)
	}
	// A delete-only Txn writes the prefix key itself; it must stay hidden.
	if _, err := b.Txn(ctx, kv.Delete([]byte("gone"))); err != nil {
		t.Fatal(err)
	}
	es, err := b.Scan(ctx, nil, nil, 0)
	if err != nil || len(es) != 1 || string(es[0].Key) != "k" || string(es[0].Value) != "b" {
		t.Errorf("b.Scan = %v, %v; want only k=b", es, err)
	}
	es, err = a.Scan(ctx, nil, nil, 0)
	if err != nil || len(es) != 1 || string(es[0].Key) != "k" || string(es[0].Value) != "a" {
		t.Errorf("a.Scan = %v, %v; want only k=a", es, err)
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	raw := c.Prefix + "armlet/k"
	resp, err := cli.Get(ctx, raw)
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "a" {
		t.Errorf("raw etcd %s = %v, %v", raw, resp, err)
	}
}

func TestUnreachable(t *testing.T) {
	_, err := etcdkv.Open(context.Background(), etcdkv.Options{
		Endpoints:   []string{"127.0.0.1:1"},
		DialTimeout: 300 * time.Millisecond,
	})
	if err == nil {
		t.Fatal("Open of an unreachable endpoint succeeded")
	}
	// etcd's client says only that the deadline passed; Open finds why.
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "127.0.0.1:1: dial tcp") {
		t.Errorf("error %q is not a deadline naming the endpoint's dial error", err)
	}
}
