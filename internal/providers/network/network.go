// Package network is armlet's Microsoft.Network resource provider:
// virtual networks and subnets, network interfaces, private endpoints and
// private DNS, and the private endpoint handshake with the resources they
// connect to.
package network

import (
	"context"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// Options configures the provider.
type Options struct{}

// Register adds the provider's resource types to e's registry.
func Register(e *engine.Engine, opts Options) {}

// ApprovedEndpoints lists every private endpoint whose connection to its
// target is Approved, across all subscriptions, for the listeners of the
// network model.
func ApprovedEndpoints(ctx context.Context, e *engine.Engine) ([]netmodel.Endpoint, error) {
	return nil, nil
}
