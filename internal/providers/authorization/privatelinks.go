package authorization

import (
	"context"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// privateLinkStrategy serves Microsoft.Authorization/
// resourceManagementPrivateLinks: a tracked resource in a resource group
// whose body is only its location (and tags); properties has one
// read-only member, privateEndpointConnections.
//
// A resourceManagementPrivateLink is a private link target
// (engine.PrivateLinkTarget) that records no connections: the private
// endpoints keep them, and properties.privateEndpointConnections is
// composed at render time from the PrivateLinkSource of the private
// endpoint type (the network provider, reached through the engine):
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
	_ engine.Strategy          = (*privateLinkStrategy)(nil)
	_ engine.Renderer          = (*privateLinkStrategy)(nil)
	_ engine.DeleteValidator   = (*privateLinkStrategy)(nil)
	_ engine.PrivateLinkTarget = (*privateLinkStrategy)(nil)
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

// Render gives the wire shape of docs/azure-ml-arm.md section 5: properties holds
// only privateEndpointConnections.
func (s *privateLinkStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	conns, err := rpkit.PrivateEndpointConnections(ctx, s.e, r, TypePrivateLinks+"/privateEndpointConnections")
	if err != nil {
		return err
	}
	body["properties"] = map[string]any{propPrivateEndpointConnections: conns}
	return nil
}

// PrivateLinkGroups: a private link serves one group, ResourceManagement.
func (s *privateLinkStrategy) PrivateLinkGroups() []string { return []string{GroupID} }

// PrivateLinkFQDNs: Choice: a private link has one FQDN,
// management.azure.com.
func (s *privateLinkStrategy) PrivateLinkFQDNs(*engine.Resource, string) []engine.PrivateLinkFQDN {
	return []engine.PrivateLinkFQDN{{FQDN: "management.azure.com", Member: GroupID}}
}

// ValidateDelete refuses to delete a private link an association names.
func (s *privateLinkStrategy) ValidateDelete(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	tenantID, err := rpkit.SubscriptionTenant(ctx, s.e, r.ID.SubscriptionID())
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
