// Package authorization is armlet's Microsoft.Authorization resource
// provider. It serves Resource Management Private Link:
// resourceManagementPrivateLinks and the privateLinkAssociations at the
// root management group that decide whether ARM accepts public requests.
package authorization

import (
	"context"

	"github.com/armlet/armlet/internal/engine"
)

// Options configures the provider.
type Options struct{}

// Register adds the provider's resource types to e's registry.
func Register(e *engine.Engine, opts Options) {}

// PublicARMDisabled reports whether tenant tenantID has a
// privateLinkAssociation with publicNetworkAccess Disabled at its root
// management group; if so, ARM refuses requests that arrive publicly, and
// err is the refusal to send.
func PublicARMDisabled(ctx context.Context, e *engine.Engine, tenantID string) (disabled bool, refusal error, err error) {
	return false, nil, nil
}
