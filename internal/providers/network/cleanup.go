package network

import (
	"context"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// onDelete keeps the other sides of private endpoints in step once a
// delete completes (the engine calls it after removing the resource and
// its subtree):
//   - a private endpoint, or a resource group or subscription that held
//     some: the targets' connections of those private endpoints are
//     deleted, their address claims released, and the A record sets their
//     zone groups wrote removed;
//   - a zone group: the A record sets it wrote are removed.
//
// Choice: this happens when the delete completes (when its operation
// reports Succeeded, give or take the engine's background interval), not
// when it is accepted; until then the private endpoint shows Deleting and
// keeps its addresses and connections. Failures are not reported (a hook has no caller to report to) nor
// retried: what is left is ordinary records a client can delete.
func (p *provider) onDelete(ctx context.Context, r *engine.Resource) {
	switch {
	case strings.EqualFold(r.Type, TypeDNSZoneGroups):
		_ = p.removeOwnedRecords(ctx, r.ID)
	case strings.EqualFold(r.Type, TypePrivateEndpoints),
		strings.EqualFold(r.Type, engine.TypeResourceGroups),
		strings.EqualFold(r.Type, "Microsoft.Resources/subscriptions"):
		_ = p.disconnect(ctx, r.ID)
		_ = p.releaseClaims(ctx, r.ID)
		_ = p.removeOwnedRecords(ctx, r.ID)
	}
}

// disconnect deletes, on every target type that records connections
// (engine.PrivateLinkRecorder), the connections whose private endpoint
// lies at or beneath scope. The private endpoints are gone by now, so it is
// the targets that know which connections were theirs.
func (p *provider) disconnect(ctx context.Context, scope resourceid.ID) error {
	for _, t := range engine.Implementing[engine.PrivateLinkRecorder](p.e.Registry()) {
		if err := t.Strategy.(engine.PrivateLinkRecorder).RemoveConnections(ctx, scope, systemCaller()); err != nil {
			return err
		}
	}
	return nil
}

// removeOwnedRecords deletes, in every private DNS zone, the record sets
// written by zone groups at or beneath scope.
func (p *provider) removeOwnedRecords(ctx context.Context, scope resourceid.ID) error {
	zones, err := p.e.ListByType(ctx, TypePrivateDNSZones)
	if err != nil {
		return err
	}
	for _, z := range zones {
		if err := p.removeRecords(ctx, z.ID, scope); err != nil {
			return err
		}
	}
	return nil
}
