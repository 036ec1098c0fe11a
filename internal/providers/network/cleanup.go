package network

import (
	"context"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/providers/machinelearning"
)

// onDelete keeps the other sides of private endpoints in step once a
// delete completes (the engine calls it after removing the resource and
// its subtree):
//   - a private endpoint, or a resource group or subscription that held
//     some: the workspaces' privateEndpointConnections of those private
//     endpoints are deleted, their address claims released, and the A
//     record sets their zone groups wrote removed;
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

// disconnect deletes the workspaces' private endpoint connections whose
// private endpoint lies at or beneath scope.
func (p *provider) disconnect(ctx context.Context, scope resourceid.ID) error {
	workspaces, err := p.e.ListByType(ctx, typeWorkspaces)
	if err != nil {
		return err
	}
	for _, ws := range workspaces {
		conns, err := p.e.List(ctx, ws.ID, "privateEndpointConnections")
		if err != nil {
			return err
		}
		for _, c := range conns {
			ref, _ := c.Properties["privateEndpoint"].(map[string]any)
			s, _ := ref["id"].(string)
			pe, err := resourceid.Parse(s)
			if err != nil || !scope.Contains(pe) {
				continue
			}
			if _, err := p.e.ServePath(ctx, systemRequest(p.e, "DELETE", c.ID, machinelearning.APIVersions[0]), resourceid.Path{ID: c.ID}); err != nil {
				return err
			}
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
