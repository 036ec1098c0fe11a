package jsonenc

import "testing"

func BenchmarkAppendString(b *testing.B) {
	s := "/subscriptions/cb9d4776-8fbf-4384-92f0-991770570a35/resourceGroups/budget-rg/providers/Microsoft.MachineLearningServices/workspaces/budget-ws"
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
