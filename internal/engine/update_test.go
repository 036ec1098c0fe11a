package engine_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// TestUpdate drives Engine.Update through each way it can end: a write, no
// change, f's own error, a missing resource, a conflict it recovers from
// and one it does not.
func TestUpdate(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		// f is the change; writeBehind makes another request write the
		// widget between Update's read and its write, on calls up to n.
		f           func(r *engine.Resource) error
		writeBehind int
		missing     bool
		wantCalls   int
		wantErr     error // errors.Is target; nil: success
		wantStatus  int   // of the *arm.Error, when there is one
		wantWritten bool
	}{
		{name: "change", f: setColor("blue"), wantCalls: 1, wantWritten: true},
		{name: "no change", f: func(*engine.Resource) error { return engine.ErrNoChange }, wantCalls: 1},
		{name: "wrapped no change", f: func(*engine.Resource) error { return errors.Join(boom, engine.ErrNoChange) }, wantCalls: 1},
		{name: "f fails", f: func(*engine.Resource) error { return boom }, wantCalls: 1, wantErr: boom},
		{name: "missing", f: setColor("blue"), missing: true, wantCalls: 0, wantStatus: http.StatusNotFound},
		{name: "one conflict", f: setColor("blue"), writeBehind: 1, wantCalls: 2, wantWritten: true},
		{name: "always conflicting", f: setColor("blue"), writeBehind: kv.MaxAttempts, wantCalls: kv.MaxAttempts,
			wantErr: kv.ErrConflict, wantStatus: http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.mustRG()
			ctx := context.Background()
			id := mustID(t, widget)
			if !tt.missing {
				if st, _, b := h.call("PUT", widget, "2024-01-01", `{"location":"eastus","properties":{"size":1}}`, nil); st != 201 {
					t.Fatalf("create: %d %v", st, b)
				}
			}
			before, _ := h.e.Get(ctx, id)
			calls := 0
			got, err := h.e.Update(ctx, id, func(r *engine.Resource) error {
				calls++
				if calls <= tt.writeBehind {
					other, err := h.e.Get(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					other.Properties["size"] = calls
					if err := h.e.Save(ctx, other); err != nil {
						t.Fatal(err)
					}
				}
				return tt.f(r)
			})
			if calls != tt.wantCalls {
				t.Errorf("f called %d times, want %d", calls, tt.wantCalls)
			}
			switch {
			case tt.wantErr == nil && tt.wantStatus == 0 && err != nil:
				t.Fatalf("Update: %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Update: %v, want an error wrapping %v", err, tt.wantErr)
			}
			if tt.wantStatus != 0 {
				if ae, ok := arm.AsError(err); !ok || ae.Status != tt.wantStatus {
					t.Errorf("Update: %v, want an *arm.Error %d", err, tt.wantStatus)
				}
			}
			if tt.missing {
				return
			}
			stored, err2 := h.e.Get(ctx, id)
			if err2 != nil {
				t.Fatal(err2)
			}
			if written := stored.Properties["color"] == "blue"; written != tt.wantWritten {
				t.Errorf("stored color %v, want written %v", stored.Properties["color"], tt.wantWritten)
			}
			if tt.wantWritten {
				if got == nil || got.Revision != stored.Revision {
					t.Errorf("Update returned %+v, want the stored resource at revision %d", got, stored.Revision)
				}
				if tt.writeBehind > 0 && stored.Properties["size"] == nil {
					t.Error("the other request's write was lost")
				}
			}
			if err == nil && !tt.wantWritten && tt.writeBehind == 0 && stored.Revision != before.Revision {
				t.Errorf("revision %d -> %d without a change", before.Revision, stored.Revision)
			}
		})
	}
}

func mustID(t *testing.T, s string) resourceid.ID {
	t.Helper()
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func setColor(c string) func(*engine.Resource) error {
	return func(r *engine.Resource) error {
		r.Properties["color"] = c
		return nil
	}
}

// TestSaveConflict checks that Save's 409 is recognised by identity.
func TestSaveConflict(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	ctx := context.Background()
	if st, _, b := h.call("PUT", widget, "2024-01-01", `{"location":"eastus"}`, nil); st != 201 {
		t.Fatalf("create: %d %v", st, b)
	}
	id := mustID(t, widget)
	a, _ := h.e.Get(ctx, id)
	b, _ := h.e.Get(ctx, id)
	if err := h.e.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	err := h.e.Save(ctx, b)
	if ae, ok := arm.AsError(err); !ok || ae.Status != http.StatusConflict || ae.Code != arm.CodeConflict || !errors.Is(err, kv.ErrConflict) {
		t.Errorf("Save of a stale copy: %v, want a 409 Conflict wrapping kv.ErrConflict", err)
	}
}
