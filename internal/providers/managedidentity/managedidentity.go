// Package managedidentity is armlet's Microsoft.ManagedIdentity resource
// provider: user-assigned managed identities, whose principalId and
// clientId the resources that use them (a workspace, a registry, a storage
// account) show in their identity member.
package managedidentity

import (
	"context"
	"regexp"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
	"github.com/google/uuid"
)

// TypeUserAssignedIdentities is the provider's resource type.
const TypeUserAssignedIdentities = rpkit.TypeUserAssignedIdentities

// APIVersions are the api-versions armlet accepts, newest first:
// 2024-11-30 is what Terraform's azurerm and armmsi v1.3 send.
var APIVersions = []string{"2024-11-30", "2023-07-31-preview", "2023-01-31", "2022-01-31-preview", "2018-11-30", "2015-08-31-preview"}

// Options configures the provider.
type Options struct{}

// Register adds the provider's resource type to e's registry.
func Register(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name: TypeUserAssignedIdentities, APIVersions: APIVersions, Tracked: true,
		NamePattern: identityName,
		NameRule:    "An identity name must be 3 to 128 letters, digits, hyphens and underscores, starting with a letter or digit.",
		// UserAssignedIdentities_CreateOrUpdate answers 200 or 201 at
		// once; Delete 200 or 204.
		Put: engine.Sync, Delete: engine.Sync,
		Strategy: &identityStrategy{e: e},
	})
}

var identityName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$`)

var identityProperties = rpkit.Object("UserAssignedIdentityProperties", rpkit.Members{
	"isolationScope": rpkit.Enum("IsolationScope", "None", "Regional"),

	"tenantId":          rpkit.Any().ReadOnly(),
	"principalId":       rpkit.Any().ReadOnly(),
	"clientId":          rpkit.Any().ReadOnly(),
	"provisioningState": rpkit.Any().ReadOnly(), // armlet's own exports carry it
})

// identityStrategy serves Microsoft.ManagedIdentity/userAssignedIdentities:
// a create gets a principalId and a clientId (GUIDs, kept for the
// identity's life; an import keeps those its file gives) and the
// subscription's tenantId; isolationScope (None unless sent) is the only
// writable property.
type identityStrategy struct{ e *engine.Engine }

var (
	_ engine.Strategy = (*identityStrategy)(nil)
	_ engine.Renderer = (*identityStrategy)(nil)
)

// Render leaves out provisioningState, which an identity does not have.
func (s *identityStrategy) Render(_ context.Context, _ *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	delete(body["properties"].(map[string]any), "provisioningState")
	return nil
}

func (s *identityStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := rpkit.CheckEnvelope(desired, "Identity"); err != nil {
		return err
	}
	given := desired.Properties
	sent, err := identityProperties.CheckObject("properties", given)
	if err != nil {
		return err
	}
	props := rpkit.Updated(old, map[string]any{"isolationScope": "None"}, sent)
	for _, k := range []string{"principalId", "clientId"} {
		if id, ok := given[k].(string); ok && req.Importing() && uuid.Validate(id) == nil {
			props[k] = id
		}
		if _, ok := props[k]; !ok {
			props[k] = uuid.NewString()
		}
	}
	tid, err := rpkit.SubscriptionTenant(ctx, s.e, desired.ID.SubscriptionID())
	if err != nil {
		return err
	}
	props["tenantId"] = tid
	desired.Properties = props
	return nil
}
