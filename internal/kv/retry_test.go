package kv_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

func TestRetry(t *testing.T) {
	boom := errors.New("boom")
	conflict := &kv.ConflictError{Key: []byte("k"), Revision: 7}
	tests := []struct {
		name      string
		results   []error // what the runs return, in order; the last repeats
		cancel    bool    // cancel the context during the first run
		wantRuns  int
		wantErr   error // errors.Is target; nil: want nil
		wantExact bool  // the error is returned as the run gave it
	}{
		{"first run", []error{nil}, false, 1, nil, false},
		{"after two conflicts", []error{conflict, conflict, nil}, false, 3, nil, false},
		{"other error at once", []error{boom}, false, 1, boom, true},
		{"other error after a conflict", []error{conflict, boom}, false, 2, boom, true},
		{"always conflicting", []error{conflict}, false, kv.MaxAttempts, kv.ErrConflict, false},
		{"context ends", []error{conflict}, true, 1, context.Canceled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			runs := 0
			err := kv.Retry(ctx, func() error {
				if tt.cancel {
					cancel()
				}
				r := tt.results[min(runs, len(tt.results)-1)]
				runs++
				return r
			})
			if runs != tt.wantRuns {
				t.Errorf("runs = %d, want %d", runs, tt.wantRuns)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("err = %v, want nil", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want one wrapping %v", err, tt.wantErr)
			case tt.wantExact && err != tt.wantErr:
				t.Errorf("err = %#v, want %#v as the run returned it", err, tt.wantErr)
			}
			var ce *kv.ConflictError
			if errors.Is(tt.wantErr, kv.ErrConflict) && (!errors.As(err, &ce) || ce != conflict) {
				t.Errorf("err = %v, want it to wrap the last run's *ConflictError", err)
			}
		})
	}
}

// TestRetryStore increments a counter on a real store while another
// writer changes it behind the first run's back: the first write fails its
// condition, the second run reads the other write and adds to it.
func TestRetryStore(t *testing.T) {
	ctx := t.Context()
	s := memkv.New()
	defer s.Close()
	key := []byte("counter")
	if _, err := s.Txn(ctx, kv.Put(key, []byte("1"))); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := kv.Retry(ctx, func() error {
		runs++
		ent, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(string(ent.Value))
		if runs == 1 {
			if _, err := s.Txn(ctx, kv.Put(key, []byte("10"))); err != nil {
				t.Fatal(err)
			}
		}
		_, err = s.Txn(ctx, kv.Put(key, []byte(strconv.Itoa(n+1))).If(kv.AtRevision(ent.Revision)))
		return err
	})
	if err != nil || runs != 2 {
		t.Fatalf("Retry = %v after %d runs, want nil after 2", err, runs)
	}
	if ent, err := s.Get(ctx, key); err != nil || string(ent.Value) != "11" {
		t.Errorf("counter = %q, %v; want 11 (the other write kept)", ent.Value, err)
	}
}
