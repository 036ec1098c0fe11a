package rpkit

import (
	"context"
	"net/http"

	"github.com/armlet/armlet/internal/engine"
)

// typePrivateEndpoints is the type whose engine.PrivateLinkSource lists
// the connections of targets that record none of their own.
const typePrivateEndpoints = "Microsoft.Network/privateEndpoints"

// PrivateEndpointConnections lists the private endpoint connections to
// target, a private link target that records none of its own
// (engine.PrivateLinkTarget without engine.PrivateLinkRecorder), in the
// shape Azure's targets show in properties.privateEndpointConnections:
// {id: "{target}/privateEndpointConnections/{endpoint}.{connection}",
// name, type: connectionType, properties: {privateEndpoint: {id},
// privateLinkServiceConnectionState, provisioningState}}. The private
// endpoints keep the connections; they are read from the private endpoint
// type's engine.PrivateLinkSource, and there are none when no provider
// serves it.
func PrivateEndpointConnections(ctx context.Context, e *engine.Engine, target *engine.Resource, connectionType string) ([]any, error) {
	out := []any{}
	src, ok := engine.Capability[engine.PrivateLinkSource](e.Registry(), typePrivateEndpoints)
	if !ok {
		return out, nil
	}
	list, err := src.ConnectionsTo(ctx, target.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		name := c.PrivateEndpoint.Name() + "." + c.Name
		out = append(out, map[string]any{
			"id":   target.ID.String() + "/privateEndpointConnections/" + name,
			"name": name,
			"type": connectionType,
			"properties": map[string]any{
				"privateEndpoint":                   map[string]any{"id": c.PrivateEndpoint.String()},
				"privateLinkServiceConnectionState": c.State.Map(),
				"provisioningState":                 "Succeeded",
			},
		})
	}
	return out, nil
}

// LinkGroup is one private link sub-resource of a target, as its
// privateLinkResources list shows it.
type LinkGroup struct {
	// ID is the group id ("blob", "vault").
	ID string
	// Members are its requiredMembers; Zones its requiredZoneNames, the
	// private DNS zones Azure recommends.
	Members, Zones []string
}

// PrivateLinkResources answers GET {target}/privateLinkResources: one item
// of type typ per group.
func PrivateLinkResources(target *engine.Resource, typ string, groups []LinkGroup) *engine.Response {
	list := make([]any, 0, len(groups))
	for _, g := range groups {
		list = append(list, map[string]any{
			"id":   target.ID.String() + "/privateLinkResources/" + g.ID,
			"name": g.ID,
			"type": typ,
			"properties": map[string]any{
				"groupId": g.ID, "requiredMembers": g.Members, "requiredZoneNames": g.Zones,
			},
		})
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": list})
}
