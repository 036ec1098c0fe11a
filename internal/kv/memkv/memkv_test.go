package memkv_test

import (
	"testing"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/kvtest"
	"github.com/armlet/armlet/internal/kv/memkv"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(*testing.T) kv.Store { return memkv.New() })
}

func BenchmarkStore(b *testing.B) {
	kvtest.RunBenchmarks(b, func(*testing.B) kv.Store { return memkv.New() })
}
