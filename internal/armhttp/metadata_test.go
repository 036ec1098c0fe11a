package armhttp

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/armlet/armlet/internal/kv"
)

// TestIsUnavailable checks which failures are the store refusing writes
// (503) rather than armlet's own (500): by identity, not by their text.
func TestIsUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"read-only store", fmt.Errorf("boltkv: commit: %w", kv.ErrReadOnly), true},
		{"closed store", kv.ErrClosed, true},
		{"full disk", &fs.PathError{Op: "write", Path: "/data/armlet.db", Err: syscall.ENOSPC}, true},
		{"full disk, wrapped", fmt.Errorf("writing: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), true},
		{"conflict", kv.ErrConflict, false},
		{"other", errors.New("boom"), false},
		{"the words without the error", errors.New("write: no space left on device"), false},
	}
	for _, tt := range tests {
		if got := isUnavailable(tt.err); got != tt.want {
			t.Errorf("%s: isUnavailable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
