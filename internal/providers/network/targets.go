package network

import (
	"context"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// TargetConnection is one private endpoint's connection to a target, as
// the target shows it in its privateEndpointConnections.
type TargetConnection struct {
	// PrivateEndpointID is the private endpoint.
	PrivateEndpointID resourceid.ID
	// Name is the connection's name on the private endpoint.
	Name string
	// State is the privateLinkServiceConnectionState: status,
	// description, actionsRequired.
	State map[string]any
}

// ConnectionsTo lists the connections of the live private endpoints (in
// every subscription) whose privateLinkServiceId is target.
func ConnectionsTo(ctx context.Context, e *engine.Engine, target resourceid.ID) ([]TargetConnection, error) {
	pes, err := e.ListByType(ctx, TypePrivateEndpoints)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	var out []TargetConnection
	for _, r := range pes {
		if r.Deleting(now) {
			continue
		}
		for _, c := range loadPEState(r).Connections {
			id, err := resourceid.Parse(c.Target)
			if err != nil || !id.Equal(target) {
				continue
			}
			out = append(out, TargetConnection{PrivateEndpointID: r.ID, Name: c.Name, State: connectionState(ctx, e, r, c)})
		}
	}
	return out, nil
}
