// Package network is armlet's Microsoft.Network resource provider:
// virtual networks and subnets, network interfaces, private endpoints and
// private DNS, and the private endpoint handshake with the resources they
// connect to.
//
// # Sources of truth
//
//   - A virtual network's record holds its subnets (properties.subnets).
//     Microsoft.Network/virtualNetworks/subnets is a virtual type
//     (engine.VirtualStrategy) that reads and writes that array, so the
//     vnet GET and the subnet GET always agree, and a vnet PUT that drops a
//     subnet deletes it (as in Azure, and refused the same way when the
//     subnet is in use).
//   - A private endpoint's record holds its network interface (name and
//     private IPs, in Internal.Data). Microsoft.Network/networkInterfaces
//     is a virtual type rendered from the private endpoint: clients cannot
//     create, change or delete one, it appears with its private endpoint
//     and disappears when the private endpoint's delete completes.
//   - Private IPs are claimed in the store per subnet (ipclaims.go), so two
//     endpoints never get the same address, even when created at once; a
//     claim lapses when its private endpoint is gone.
//   - The provider knows its targets only through the engine: a type
//     whose strategy is an engine.PrivateLinkTarget (a workspace, a
//     resourceManagementPrivateLink) can be connected to, and the provider
//     imports no other provider.
//   - The state of a connection to a target that records connections
//     (engine.PrivateLinkRecorder: a workspace's privateEndpointConnections)
//     lives in the target's record only; the private endpoint renders it at
//     GET time, so an approval or rejection through the workspace shows on
//     both sides at once, and a deleted connection shows as Disconnected. A
//     connection to any other target (a resourceManagementPrivateLink) has
//     no other side and is kept on the private endpoint, which lists it for
//     the target (engine.PrivateLinkSource).
//   - A privateDnsZoneGroup writes A record sets into its zones; they are
//     ordinary record sets marked with the group that owns them, and are
//     removed when the group or its private endpoint is deleted.
package network

import (
	"context"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/netmodel"
)

// Resource types of the provider.
const (
	Namespace              = "Microsoft.Network"
	TypeVirtualNetworks    = Namespace + "/virtualNetworks"
	TypeSubnets            = TypeVirtualNetworks + "/subnets"
	TypeNetworkInterfaces  = Namespace + "/networkInterfaces"
	TypePrivateEndpoints   = Namespace + "/privateEndpoints"
	TypePrivateDNSZones    = Namespace + "/privateDnsZones"
	TypeVirtualNetworkLink = TypePrivateDNSZones + "/virtualNetworkLinks"
	TypeARecords           = TypePrivateDNSZones + "/A"
	TypeDNSZoneGroups      = TypePrivateEndpoints + "/privateDnsZoneGroups"

	typeConnectionsOfPLS = TypePrivateEndpoints + "/privateLinkServiceConnections"
)

// APIVersions are the Microsoft.Network api-versions armlet accepts for
// virtual networks, subnets, network interfaces, private endpoints and
// private DNS zone groups, newest first: the stable versions real clients
// send, from 2018-11-01 (old templates) through 2025-01-01 (armnetwork v7);
// the Azure CLI 2.45 sends 2022-01-01.
var APIVersions = []string{
	"2025-01-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01",
	"2023-11-01", "2023-09-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-02-01",
	"2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01",
	"2021-08-01", "2021-05-01", "2021-03-01", "2021-02-01",
	"2020-11-01", "2020-08-01", "2020-07-01", "2020-06-01", "2020-05-01", "2020-04-01", "2020-03-01",
	"2019-12-01", "2019-11-01", "2019-09-01", "2019-08-01", "2019-07-01", "2019-06-01", "2019-04-01", "2019-02-01",
	"2018-12-01", "2018-11-01",
}

// DNSAPIVersions are the api-versions of Microsoft.Network/privateDnsZones
// and its children (a separate API from the rest of Microsoft.Network).
var DNSAPIVersions = []string{"2024-06-01", "2020-06-01", "2020-01-01", "2018-09-01"}

// Options configures the provider.
type Options struct{}

// provider is the state every strategy of the package shares.
type provider struct {
	e  *engine.Engine
	kv kv.View // kv.SpaceNetwork: the IP claims
}

// Register adds the provider's resource types to e's registry and the
// delete hook that keeps the other sides of a private endpoint in step.
func Register(e *engine.Engine, opts Options) {
	p := &provider{e: e, kv: e.Space(kv.SpaceNetwork)}
	reg := e.Registry()
	reg.Register(&engine.Type{
		Name: TypeVirtualNetworks, APIVersions: APIVersions, Tracked: true,
		NamePattern: vnetNamePattern, NameRule: vnetNameRule,
		Put: engine.AsyncOperation, Delete: engine.AsyncOperation,
		ETagInBody: true, Strategy: &vnetStrategy{p},
	})
	reg.Register(&engine.Type{
		Name: TypeSubnets, APIVersions: APIVersions,
		NamePattern: subnetNamePattern, NameRule: subnetNameRule,
		Strategy: &subnetStrategy{p},
	})
	reg.Register(&engine.Type{
		Name: TypeNetworkInterfaces, APIVersions: APIVersions, Tracked: true,
		Strategy: &nicStrategy{p},
	})
	reg.Register(&engine.Type{
		Name: TypePrivateEndpoints, APIVersions: APIVersions, Tracked: true,
		NamePattern: peNamePattern, NameRule: peNameRule,
		Put: engine.AsyncOperation, Delete: engine.AsyncOperation,
		ETagInBody: true, Strategy: &peStrategy{p},
	})
	reg.Register(&engine.Type{
		Name: TypeDNSZoneGroups, APIVersions: APIVersions,
		NamePattern: peNamePattern, NameRule: peNameRule,
		Put: engine.AsyncOperation, Delete: engine.AsyncOperation,
		ETagInBody: true, Strategy: &zoneGroupStrategy{p},
	})
	registerDNS(p)
	e.OnDelete(p.onDelete)
}

// ApprovedEndpoints lists every private endpoint whose connection to its
// target is Approved, across all subscriptions, for the listeners of the
// network model. PrivateIP is the first private IP of the endpoint's
// network interface, Addresses all of them with the names they serve,
// VirtualNetwork the virtual network of its subnet.
//
// Choice: an endpoint listens from the moment its connection is Approved
// until its delete starts: one being created (provisioningState Creating)
// is listed, one being deleted is not.
func ApprovedEndpoints(ctx context.Context, e *engine.Engine) ([]netmodel.Endpoint, error) {
	pes, err := e.ListByType(ctx, TypePrivateEndpoints)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	var out []netmodel.Endpoint
	for _, r := range pes {
		if r.Deleting(now) {
			continue
		}
		st := loadPEState(r)
		if len(st.IPs) == 0 {
			continue
		}
		addrs := make([]netmodel.Address, 0, len(st.IPs))
		for _, a := range st.IPs {
			addrs = append(addrs, netmodel.Address{IP: a.IP, FQDN: a.FQDN})
		}
		var vnet resourceid.ID
		if subnet, err := resourceid.Parse(st.Subnet); err == nil {
			vnet = subnet.Parent()
		}
		for _, c := range st.Connections {
			if connectionState(ctx, e, r, c).Status != statusApproved {
				continue
			}
			target, err := resourceid.Parse(c.Target)
			if err != nil {
				continue
			}
			out = append(out, netmodel.Endpoint{ID: r.ID, PrivateIP: st.IPs[0].IP, TargetID: target, GroupID: c.GroupID,
				Addresses: addrs, VirtualNetwork: vnet})
		}
	}
	return out, nil
}

// isType reports whether id is of the full type typ.
func isType(id resourceid.ID, typ string) bool {
	return !id.IsRoot() && strings.EqualFold(id.ResourceType(), typ)
}
