package machinelearning

import (
	"context"
	"time"

	"github.com/armlet/armlet/internal/engine"
)

// v1LegacyMode (docs/design.md sections 1.1 to 1.5):
//
//   - L1. Created with api-version 2022-05-01 or newer: the value sent,
//     default false.
//   - L2. Created with an older api-version: true; responses at those
//     api-versions omit the property (Render).
//   - L3. Imported from a seed without the property: true if the workspace
//     has at least one private endpoint connection, false otherwise
//     (Import, and the connection importer for connections seeded as
//     resources of their own).
//   - L4. A change from true to false shows false at once, but the
//     effective mode stays true until a propagation delay drawn from
//     Options.LegacyModePropagation has passed; false to true applies at
//     once; a newer change replaces a pending one.
//
// properties.v1LegacyMode holds the value a client set (what GET shows);
// Internal.Data[dataLegacy] holds when a pending change to false takes
// effect.
//
// Choice: a PUT or PATCH that does not send v1LegacyMode keeps the stored
// value (a PUT does not reset it to the default), so an update at an
// api-version older than 2022-05-01 never changes it.

// legacyState is the propagation state of a change of v1LegacyMode.
type legacyState struct {
	// PendingUntil is when a change from true to false takes effect; until
	// then the effective mode is still true.
	PendingUntil time.Time `json:"pendingUntil,omitzero"`
}

func storedLegacyMode(r *engine.Resource) bool {
	b, _ := r.Properties["v1LegacyMode"].(bool)
	return b
}

// EffectiveLegacyMode reports whether v1LegacyMode is in effect for the
// workspace r at now: true while the stored value is true, and while a
// change from true to false is still propagating, in which case
// pendingUntil is when it takes effect (zero otherwise). r must be a
// workspace.
func EffectiveLegacyMode(r *engine.Resource, now time.Time) (effective bool, pendingUntil time.Time) {
	if storedLegacyMode(r) {
		return true, time.Time{}
	}
	var st legacyState
	if r.GetData(dataLegacy, &st) && now.Before(st.PendingUntil) {
		return true, st.PendingUntil
	}
	return false, time.Time{}
}

// applyLegacyMode sets v1LegacyMode on a created or updated workspace per
// rules L1, L2 and L4. desired.Properties has been type-checked.
func (s *workspaceStrategy) applyLegacyMode(req *engine.Request, desired, old *engine.Resource) error {
	p := desired.Properties
	v, sent := p["v1LegacyMode"].(bool)
	if old == nil {
		if !atLeast(req.APIVersion, LegacyModeAPIVersion) {
			v = true // L2
		}
		p["v1LegacyMode"] = v // L1: as sent, false by default
		delete(desired.Internal.Data, dataLegacy)
		return nil
	}
	was := storedLegacyMode(old)
	if !sent {
		v = was
	}
	p["v1LegacyMode"] = v
	var st legacyState
	desired.GetData(dataLegacy, &st)
	if !req.Now.Before(st.PendingUntil) {
		st = legacyState{} // a change that has taken effect
	}
	switch {
	case was && !v:
		// L4: a new change to false; it replaces any pending one.
		st = legacyState{}
		if d := s.opts.LegacyModePropagation.draw(s.e.Float64); d > 0 {
			st.PendingUntil = req.Now.Add(d)
		}
	case v:
		st = legacyState{} // false to true applies at once
	}
	if st.PendingUntil.IsZero() {
		delete(desired.Internal.Data, dataLegacy)
	} else {
		desired.SetData(dataLegacy, st)
	}
	return nil
}

// Describe is the workspace's derived state for the admin API:
// v1LegacyMode as stored (what GET shows), effectiveV1LegacyMode, and
// v1LegacyModePropagatesAt (when a pending change to false takes effect,
// or null).
func (s *workspaceStrategy) Describe(r *engine.Resource, now time.Time) map[string]any {
	eff, until := EffectiveLegacyMode(r, now)
	var at any
	if !until.IsZero() {
		at = until
	}
	return map[string]any{
		"v1LegacyMode":             storedLegacyMode(r),
		"effectiveV1LegacyMode":    eff,
		"v1LegacyModePropagatesAt": at,
	}
}

// applyImportedConnection applies rule L3 to the parent workspace of a
// connection imported on its own (a seed that lists connections as
// resources rather than inline): a workspace seeded without v1LegacyMode,
// and not written by a client since, turns true.
func applyImportedConnection(ctx context.Context, e *engine.Engine, r *engine.Resource) error {
	_, err := e.Update(ctx, r.ID.Parent(), func(w *engine.Resource) error {
		var implicit bool
		if !w.GetData(dataLegacyImplicit, &implicit) || !implicit || storedLegacyMode(w) {
			return engine.ErrNoChange
		}
		w.Properties["v1LegacyMode"] = true
		return nil
	})
	return err
}
