// Package netmodel is armlet's network model (docs/design.md section 2): where
// a request arrived (its origin, decided by the listener, never by
// anything the client sends), the listeners of approved private
// endpoints, and the flow records of every request.
package netmodel

import (
	"context"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// PathClass is how a request travelled.
type PathClass string

// The path classes of docs/design.md section 2.3.
const (
	ARMPublic        PathClass = "arm-public"
	ARMPrivate       PathClass = "arm-private"
	WorkspacePublic  PathClass = "workspace-public"
	WorkspacePrivate PathClass = "workspace-private"
	// KeyVaultPublic is a key vault's data plane reached publicly (through
	// armlet's public HTTPS proxy); KeyVaultPrivate through a private
	// endpoint to the vault (group id "vault").
	KeyVaultPublic  PathClass = "keyvault-public"
	KeyVaultPrivate PathClass = "keyvault-private"
	// RegistryPublic and RegistryPrivate are an Azure ML registry's data
	// plane (its discovery and its regional asset API) reached on the main
	// listener or through a private endpoint to the registry.
	RegistryPublic  PathClass = "registry-public"
	RegistryPrivate PathClass = "registry-private"
	// StoragePublic and StoragePrivate are a storage account's blob data
	// plane reached through armlet's public HTTPS proxy, or through a
	// private endpoint to the account's blob sub-resource.
	StoragePublic  PathClass = "storage-public"
	StoragePrivate PathClass = "storage-private"
)

// PathClasses are every path class, in the order the documents list them.
var PathClasses = []PathClass{ARMPublic, ARMPrivate, WorkspacePublic, WorkspacePrivate, RegistryPublic, RegistryPrivate, KeyVaultPublic, KeyVaultPrivate, StoragePublic, StoragePrivate}

// Public reports whether the class crossed a public network.
func (c PathClass) Public() bool {
	return c == ARMPublic || c == WorkspacePublic || c == RegistryPublic || c == KeyVaultPublic || c == StoragePublic
}

// Endpoint is an approved private endpoint connection: what a listener of
// its own serves.
type Endpoint struct {
	// ID is the private endpoint (Microsoft.Network/privateEndpoints).
	ID resourceid.ID
	// PrivateIP is the endpoint's private IP address in its subnet.
	PrivateIP string
	// TargetID is the resource the endpoint connects to: a workspace, a
	// registry, or a Microsoft.Authorization/resourceManagementPrivateLinks.
	TargetID resourceid.ID
	// GroupID is the target's sub-resource: "amlworkspace", "amlregistry",
	// "ResourceManagement", "blob" or "vault".
	GroupID string
	// Addresses are every private IP of the endpoint's network interface
	// with the name it serves (PrivateIP is the first one's IP): what the
	// A records of a private DNS zone point at.
	Addresses []Address
	// VirtualNetwork is the virtual network of the endpoint's subnet: only
	// clients in it reach the endpoint's addresses.
	VirtualNetwork resourceid.ID
}

// Address is one private IP of a private endpoint and the fully qualified
// name it serves (its customDnsConfigs entry: "management.azure.com",
// "{wsid}.workspace.{region}.api.azureml.ms", or a wildcard such as
// "*.{wsid}.inference.{region}.api.azureml.ms").
type Address struct {
	IP   string `json:"ip"`
	FQDN string `json:"fqdn"`
}

// Origin is where a request arrived. The zero value is the main (public)
// listener.
type Origin struct {
	// Listener is the local address (host:port) the request arrived on.
	Listener string
	// Endpoint is the private endpoint whose listener received the
	// request; nil on the public listener.
	Endpoint *Endpoint
}

// Private reports whether the request arrived through a private endpoint.
func (o Origin) Private() bool { return o.Endpoint != nil }

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin ctx carries, or the zero (public) origin.
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}
