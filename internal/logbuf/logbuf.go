// Package logbuf buffers a log's writes, so that a server logging a line
// per request does not make a write system call per request: lines are
// written in batches, at most Interval after they were logged, at once
// when the buffer fills, and at once after a record at a level that must
// not wait (Handler). Served as its own process, armlet spent about 8 %
// of its CPU writing its request log a line at a time.
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// flushSize is the buffered bytes that make a write at once.
const flushSize = 64 << 10

// Writer buffers writes to an underlying writer. It is safe for
// concurrent use. Close writes what is left and stops the flushing.
type Writer struct {
	out      io.Writer
	interval time.Duration

	mu      sync.Mutex
	buf     []byte
	pending bool // a flush is scheduled
	closed  bool
	err     error // the last write's error
	timer   *time.Timer
}

// New returns a Writer to out that writes what it holds at most interval
// after it was written to it.
func New(out io.Writer, interval time.Duration) *Writer {
	w := &Writer{out: out, interval: interval}
	w.timer = time.AfterFunc(time.Hour, func() { _ = w.Flush() })
	w.timer.Stop()
	return w
}

// Write buffers p (one log record, for slog's handlers). After Close it
// writes through.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= flushSize {
		w.flushLocked()
		return len(p), nil
	}
	if !w.pending {
		w.pending = true
		w.timer.Reset(w.interval)
	}
	return len(p), nil
}

// Flush writes what the Writer holds now and returns the error of the
// last write, if any.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return w.err
}

func (w *Writer) flushLocked() {
	w.pending = false
	if len(w.buf) == 0 {
		return
	}
	if _, err := w.out.Write(w.buf); err != nil {
		w.err = err
	}
	if cap(w.buf) > 4*flushSize {
		w.buf = nil // a burst's buffer is not kept
	} else {
		w.buf = w.buf[:0]
	}
}

// Close writes what is left; later writes go straight through.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer.Stop()
	w.flushLocked()
	w.closed = true
	return w.err
}

// Handler is h, writing to w, with every record at level urgent or above
// flushed at once: a warning or an error is never held back (nor lost
// with the lines before it if the process then dies).
func Handler(h slog.Handler, w *Writer, urgent slog.Level) slog.Handler {
	return &flushing{Handler: h, w: w, urgent: urgent}
}

type flushing struct {
	slog.Handler
	w      *Writer
	urgent slog.Level
}

func (f *flushing) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= f.urgent {
		if ferr := f.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (f *flushing) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &flushing{Handler: f.Handler.WithAttrs(attrs), w: f.w, urgent: f.urgent}
}

func (f *flushing) WithGroup(name string) slog.Handler {
	return &flushing{Handler: f.Handler.WithGroup(name), w: f.w, urgent: f.urgent}
}
