package network

import (
	"context"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// The private endpoint type is the engine.PrivateLinkSource of the targets
// that keep no connections of their own (a resourceManagementPrivateLink
// lists its privateEndpointConnections from it).
var _ engine.PrivateLinkSource = (*peStrategy)(nil)

// ConnectionsTo lists the connections of the live private endpoints (in
// every subscription) whose privateLinkServiceId is target.
func (s *peStrategy) ConnectionsTo(ctx context.Context, target resourceid.ID) ([]engine.PrivateLinkConnection, error) {
	pes, err := s.e.ListByType(ctx, TypePrivateEndpoints)
	if err != nil {
		return nil, err
	}
	now := s.e.Now()
	var out []engine.PrivateLinkConnection
	for _, r := range pes {
		if r.Deleting(now) {
			continue
		}
		for _, c := range loadPEState(r).Connections {
			id, err := resourceid.Parse(c.Target)
			if err != nil || !id.Equal(target) {
				continue
			}
			out = append(out, engine.PrivateLinkConnection{PrivateEndpoint: r.ID, Name: c.Name, State: connectionState(ctx, s.e, r, c)})
		}
	}
	return out, nil
}
