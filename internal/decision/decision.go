// Package decision is a request's decision trail: the Azure RBAC and Azure
// Policy decisions taken on it, collected through its context by whoever
// decides and kept with its flow record, so that every request's outcome
// can be explained afterwards (armlet report access).
package decision

import (
	"context"
	"sync"
)

// Decision is one access decision taken on a request: an Azure RBAC
// evaluation or an Azure Policy evaluation. Decisions travel with the
// request's flow record so that every request's decision trail can be
// shown afterwards (armlet report access).
type Decision struct {
	// Kind is "rbac" or "policy".
	Kind string `json:"kind"`
	// Outcome is what the decision did: "allowed", "denied", "audited"
	// (a denial logged but not enforced, --rbac=audit), and for policy
	// also "compliant", "nonCompliant", "appended", "modified".
	Outcome string `json:"outcome"`
	// Action is the ARM action (or data action) evaluated.
	Action string `json:"action,omitempty"`
	// Scope is the resource ID the decision was taken at.
	Scope string `json:"scope,omitempty"`
	// Reason says in words which role assignment allowed the request or
	// which permission was missing; which policy matched and which
	// expression decided.
	Reason string `json:"reason"`
	// Refs are the IDs involved: role assignment and role definition, or
	// policy assignment and policy definition.
	Refs []string `json:"refs,omitempty"`
}

// Trail collects the decisions of one request. It is safe for
// concurrent use.
type Trail struct {
	mu   sync.Mutex
	list []Decision
}

// Add appends d.
func (d *Trail) Add(dec Decision) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.list = append(d.list, dec)
}

// List returns the decisions so far.
func (d *Trail) List() []Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Decision(nil), d.list...)
}

type trailKey struct{}

// With returns ctx carrying a new, empty trail.
func With(ctx context.Context) (context.Context, *Trail) {
	d := &Trail{}
	return context.WithValue(ctx, trailKey{}, d), d
}

// Record adds dec to the trail ctx carries; without one it does nothing
// (a request that is not recorded as a flow).
func Record(ctx context.Context, dec Decision) {
	if d, ok := ctx.Value(trailKey{}).(*Trail); ok {
		d.Add(dec)
	}
}
