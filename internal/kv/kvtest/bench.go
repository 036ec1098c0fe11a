package kvtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/armlet/armlet/internal/kv"
)

// RunBenchmarks runs the common benchmarks as sub-benchmarks of b. open must
// return a new, empty store; RunBenchmarks closes it when the sub-benchmark
// ends. The sub-benchmarks are:
//
//   - Get: one key out of 1,000.
//   - Scan100of10k: a Scan with limit 100 starting at varying points of a
//     prefix holding 10,000 keys.
//   - TxnSequential: one single-key put per Txn, one caller at a time; for a
//     durable backend this is one fsync per op.
//   - TxnParallel: the same from 16×GOMAXPROCS goroutines; a backend with
//     group commit shares one fsync among concurrent Txns and is much faster
//     per op here than in TxnSequential.
func RunBenchmarks(b *testing.B, open func(b *testing.B) kv.Store) {
	value := make([]byte, 100)
	openStore := func(b *testing.B) kv.Store {
		s := open(b)
		b.Cleanup(func() { _ = s.Close() })
		return s
	}
	fill := func(b *testing.B, s kv.Store, n int) {
		for start := 0; start < n; start += 1000 {
			ops := make([]kv.Op, 0, 1000)
			for i := start; i < min(n, start+1000); i++ {
				ops = append(ops, kv.Put(benchKey(i), value))
			}
			if _, err := s.Txn(context.Background(), ops...); err != nil {
				b.Fatal(err)
			}
		}
	}

	b.Run("Get", func(b *testing.B) {
		s := openStore(b)
		const n = 1000
		fill(b, s, n)
		ctx := context.Background()
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = benchKey(i)
		}
		i := 0
		for b.Loop() {
			if _, err := s.Get(ctx, keys[i%n]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})

	b.Run("Scan100of10k", func(b *testing.B) {
		s := openStore(b)
		const n, page = 10000, 100
		fill(b, s, n)
		ctx := context.Background()
		prefix := []byte("bench/")
		i := 0
		for b.Loop() {
			// Start after a varying key so the page is always full.
			after := benchKey((i * 37) % (n - page))
			es, err := s.Scan(ctx, prefix, after, page)
			if err != nil {
				b.Fatal(err)
			}
			if len(es) != page {
				b.Fatalf("Scan returned %d entries, want %d", len(es), page)
			}
			i++
		}
	})

	b.Run("TxnSequential", func(b *testing.B) {
		s := openStore(b)
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if _, err := s.Txn(ctx, kv.Put(benchKey(i), value)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})

	b.Run("TxnParallel", func(b *testing.B) {
		s := openStore(b)
		ctx := context.Background()
		var next atomic.Int64
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Txn(ctx, kv.Put(benchKey(int(next.Add(1))), value)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func benchKey(i int) []byte { return fmt.Appendf(nil, "bench/%08d", i) }
