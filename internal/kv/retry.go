package kv

import (
	"context"
	"errors"
	"fmt"
)

// MaxAttempts bounds Retry: how many times one optimistic write is tried
// before its caller is told that the keys are too contended. Enough for
// the concurrency of tests and of a team sharing an armlet; few enough
// that a key others write in a tight loop fails fast rather than spins.
const MaxAttempts = 16

// Retry runs attempt until it does not conflict, at most MaxAttempts
// times. It is the loop of every optimistic write (read, decide, write
// conditionally on the revisions read), written once.
//
// attempt may run several times, so each run must read afresh what it
// writes against (another writer changed it: that is why it runs again)
// and must leave nothing behind that a later run does not overwrite. A run
// that returns an error wrapping ErrConflict is retried; nil and any other
// error are returned at once, as they are. When every run conflicted,
// Retry returns an error wrapping the last run's, so errors.Is(err,
// ErrConflict) holds, and the caller reports the contention in its own
// vocabulary (armlet's front ends answer 409 Conflict). ctx is looked at
// between runs only: if it has ended, Retry returns its error instead of
// running again (the first run always happens, as a lone write would).
func Retry(ctx context.Context, attempt func() error) error {
	var err error
	for i := range MaxAttempts {
		if i > 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err = attempt(); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("kv: %d attempts conflicted: %w", MaxAttempts, err)
}
