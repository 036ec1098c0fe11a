package authorization

import (
	"context"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/providers/network"
)

// privateLinkStrategy serves Microsoft.Authorization/
// resourceManagementPrivateLinks: a tracked resource in a resource group
// whose body is only its location (and tags); properties has one
// read-only member, privateEndpointConnections.
//
// properties.privateEndpointConnections is composed at render time from
// the private endpoints (network provider) that target the private link:
// {id: "{private link}/privateEndpointConnections/{private endpoint
// name}.{connection name}", name, type, properties: {privateEndpoint:
// {id}, privateLinkServiceConnectionState}}.
//
// Choice: a resourceManagementPrivateLink must be a top-level resource of a
// resource group; anywhere else (at subscription scope, nested under
// another resource) a PUT gets 400 InvalidScope.
//
// Choice: deleting a private link that an association of its tenant names
// is refused with 409 PrivateLinkInUse, so a tenant cannot lose its only
// way in by accident. Deleting the whole resource group is not refused
// (the engine cascades without asking); the association then names a
// private link that is gone, and keeps deciding public access.
type privateLinkStrategy struct {
	e *engine.Engine
}

var (
	_ engine.Strategy        = (*privateLinkStrategy)(nil)
	_ engine.Renderer        = (*privateLinkStrategy)(nil)
	_ engine.DeleteValidator = (*privateLinkStrategy)(nil)
)

const propPrivateEndpointConnections = "privateEndpointConnections"

// Validate checks the envelope and the (read-only) properties.
func (s *privateLinkStrategy) Validate(_ context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	if !desired.ID.IsTopLevel() {
		return arm.BadRequest(codeInvalidScope,
			"A resource management private link must be created in a resource group: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/%s/{name}'; '%s' is not.",
			TypePrivateLinks, desired.ID).WithTarget("id")
	}
	if desired.Kind != "" {
		return arm.UnknownMember("", "kind", "ResourceManagementPrivateLinkLocation")
	}
	for k := range desired.Extra {
		return arm.UnknownMember("", k, "ResourceManagementPrivateLinkLocation")
	}
	for k := range desired.Properties {
		switch strings.ToLower(k) {
		case strings.ToLower(propPrivateEndpointConnections), "provisioningstate":
			// Read-only: accepted so a GET-modify-PUT works, then dropped.
		default:
			return arm.UnknownMember("properties", k, "ResourceManagementPrivateLinkEndpointConnections")
		}
	}
	desired.Properties = map[string]any{}
	return nil
}

// Render gives the wire shape of aml-arm.md section 5: properties holds
// only privateEndpointConnections.
func (s *privateLinkStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) {
	conns := []any{}
	list, err := network.ConnectionsTo(ctx, s.e, r.ID)
	if err != nil {
		s.e.Logger().Warn("listing the private endpoints of a private link", "id", r.ID.String(), "err", err)
	}
	for _, c := range list {
		name := c.PrivateEndpointID.Name() + "." + c.Name
		conns = append(conns, map[string]any{
			"id":   r.ID.String() + "/privateEndpointConnections/" + name,
			"name": name,
			"type": TypePrivateLinks + "/privateEndpointConnections",
			"properties": map[string]any{
				"privateEndpoint":                   map[string]any{"id": c.PrivateEndpointID.String()},
				"privateLinkServiceConnectionState": c.State,
			},
		})
	}
	body["properties"] = map[string]any{propPrivateEndpointConnections: conns}
}

// ValidateDelete refuses to delete a private link an association names.
func (s *privateLinkStrategy) ValidateDelete(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	tenantID, err := subscriptionTenant(ctx, s.e, r.ID.SubscriptionID())
	if err != nil {
		return err
	}
	list, err := associations(ctx, s.e, tenantID)
	if err != nil {
		return err
	}
	for _, a := range list {
		if link, _ := a.Properties[propPrivateLink].(string); strings.EqualFold(link, r.ID.String()) {
			return arm.Conflict(codePrivateLinkInUse,
				"The resource management private link '%s' cannot be deleted: private link association '%s' uses it. Delete the association first.",
				r.ID, a.ID)
		}
	}
	return nil
}
