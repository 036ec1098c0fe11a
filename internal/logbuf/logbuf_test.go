package logbuf

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flushing timer's goroutine,
// counting the writes it gets.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) state() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		do       func(w *Writer, l *slog.Logger)
		want     []string // lines written right after do, in order
		writes   int      // at most this many writes to the output
	}{
		{"held back", time.Hour, func(w *Writer, l *slog.Logger) { l.Info("a"); l.Info("b") }, nil, 0},
		{"a warning flushes with the lines before it", time.Hour, func(w *Writer, l *slog.Logger) { l.Info("a"); l.Warn("b"); l.Info("c") }, []string{"msg=a", "msg=b"}, 1},
		{"an error too", time.Hour, func(w *Writer, l *slog.Logger) { l.Error("e") }, []string{"msg=e"}, 1},
		{"a full buffer is written", time.Hour, func(w *Writer, l *slog.Logger) {
			for i := range 2000 {
				l.Info("line", "i", i, "pad", strings.Repeat("x", 40))
			}
		}, []string{"i=0 ", "i=999 "}, 4}, // some 200 KB: three full buffers, not 2,000 writes
		{"Close writes the rest", time.Hour, func(w *Writer, l *slog.Logger) { l.Info("a"); _ = w.Close(); l.Info("after") }, []string{"msg=a", "msg=after"}, 2},
		{"the interval writes what waits, in one write", 20 * time.Millisecond, func(w *Writer, l *slog.Logger) {
			for i := range 10 {
				l.Info("x", "i", i)
			}
			time.Sleep(300 * time.Millisecond)
		}, []string{"i=0", "i=9"}, 1},
		{"Flush", time.Hour, func(w *Writer, l *slog.Logger) { l.Info("a"); _ = w.Flush() }, []string{"msg=a"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			w := New(&out, tt.interval)
			l := slog.New(Handler(slog.NewTextHandler(w, nil), w, slog.LevelWarn))
			tt.do(w, l)
			got, writes := out.state()
			if tt.want == nil && got != "" {
				t.Errorf("written at once: %q", got)
			}
			at := 0
			for _, want := range tt.want {
				i := strings.Index(got[at:], want)
				if i < 0 {
					t.Fatalf("output lacks %q after offset %d:\n%s", want, at, got)
				}
				at += i
			}
			if writes > tt.writes {
				t.Errorf("%d writes, want at most %d", writes, tt.writes)
			}
			if tt.name == "a warning flushes with the lines before it" && strings.Contains(got, "msg=c") {
				t.Errorf("the info line after the warning was written at once")
			}
		})
	}
}

// TestWriterConcurrent logs from many goroutines with the timer running:
// every line arrives whole (run with -race).
func TestWriterConcurrent(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Millisecond)
	l := slog.New(Handler(slog.NewTextHandler(w, nil), w, slog.LevelWarn))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				l.Info("line", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := out.state()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	seen := map[string]bool{}
	for _, line := range lines {
		var g, i int
		if _, err := fmt.Sscanf(line[strings.Index(line, " g="):], " g=%d i=%d", &g, &i); err != nil {
			t.Fatalf("torn line %q: %v", line, err)
		}
		seen[fmt.Sprint(g, i)] = true
	}
	if len(seen) != 8*500 {
		t.Errorf("%d distinct lines, want %d", len(seen), 8*500)
	}
}
