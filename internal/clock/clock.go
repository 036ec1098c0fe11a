// Package clock is the one clock armlet's resource behaviour reads:
// long-running operations, legacy-mode propagation, job progress, flow
// retention. It is the wall clock plus an offset that only moves forward, so
// `armlet clock advance 45m` makes 45 minutes pass for all of them at once.
// Token lifetimes are not on it: clients cache tokens by wall time.
package clock

import (
	"errors"
	"sync"
	"time"
)

// Clock tells the time. Implementations are safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// Offset is the wall clock shifted by an offset that Advance increases.
// The zero value is the wall clock.
type Offset struct {
	mu     sync.RWMutex
	offset time.Duration
	wall   func() time.Time // nil means time.Now; tests may set it
}

// NewOffset returns a clock ahead of the wall clock by offset (which must
// not be negative; a negative offset is treated as zero).
func NewOffset(offset time.Duration) *Offset {
	return &Offset{offset: max(offset, 0)}
}

// Now returns the wall time plus the offset, in UTC.
func (c *Offset) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	now := time.Now
	if c.wall != nil {
		now = c.wall
	}
	return now().Add(c.offset).UTC()
}

// ErrNegativeAdvance is returned by Advance for a negative duration: the
// clock never goes back, because operations and propagation rely on that.
var ErrNegativeAdvance = errors.New("clock: cannot move backwards")

// Advance moves the clock forward by d and returns the new offset.
func (c *Offset) Advance(d time.Duration) (time.Duration, error) {
	if d < 0 {
		return 0, ErrNegativeAdvance
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	return c.offset, nil
}

// Offset returns how far the clock is ahead of the wall clock.
func (c *Offset) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// Set replaces the offset; used when restoring a persisted offset at start.
func (c *Offset) Set(offset time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = max(offset, 0)
}

// Forward moves the offset up to offset if it is behind, and reports
// whether it moved. Replicas sharing a store use it to follow an advance
// made on a peer: it never moves the clock back, whatever order news of
// several advances arrives in.
func (c *Offset) Forward(offset time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if offset <= c.offset {
		return false
	}
	c.offset = offset
	return true
}
