package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
	"github.com/armlet/armlet/internal/e2e"
)

// netPE is a private endpoint to workspace wsID in subnet, automatic or
// manual.
func netPE(subnet, wsID string, manual bool) armnetwork.PrivateEndpoint {
	conn := []*armnetwork.PrivateLinkServiceConnection{{
		Name: to.Ptr("conn"),
		Properties: &armnetwork.PrivateLinkServiceConnectionProperties{
			PrivateLinkServiceID: to.Ptr(wsID),
			GroupIDs:             []*string{to.Ptr("amlworkspace")},
			RequestMessage:       to.Ptr("from the data team"),
		},
	}}
	props := &armnetwork.PrivateEndpointProperties{Subnet: &armnetwork.Subnet{ID: to.Ptr(subnet)}}
	if manual {
		props.ManualPrivateLinkServiceConnections = conn
	} else {
		props.PrivateLinkServiceConnections = conn
	}
	return armnetwork.PrivateEndpoint{Location: to.Ptr("eastus"), Properties: props}
}

// netZoneGroup creates the private DNS zone zone (raw REST: armnetwork
// has no private DNS zone client) and a zone group "default" on private
// endpoint pe that writes the zone's A records, and returns the group.
func netZoneGroup(t *testing.T, s *e2e.Armlet, cred azcore.TokenCredential, rg, pe, zone string) armnetwork.PrivateDNSZoneGroup {
	t.Helper()
	if st, _, body := s.Do(t, http.MethodPut, zone+"?api-version=2020-06-01", `{"location":"global"}`, nil); st != http.StatusCreated {
		t.Fatalf("PUT zone: %d %s", st, body)
	}
	groups, err := armnetwork.NewPrivateDNSZoneGroupsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	gp, err := groups.BeginCreateOrUpdate(context.Background(), rg, pe, "default", armnetwork.PrivateDNSZoneGroup{
		Properties: &armnetwork.PrivateDNSZoneGroupPropertiesFormat{PrivateDNSZoneConfigs: []*armnetwork.PrivateDNSZoneConfig{{
			Name: to.Ptr("api"), Properties: &armnetwork.PrivateDNSZonePropertiesFormat{PrivateDNSZoneID: to.Ptr(zone)},
		}}},
	}, nil)
	if err != nil {
		t.Fatalf("begin zone group: %v", err)
	}
	group, err := gp.PollUntilDone(context.Background(), e2e.FastPoll)
	if err != nil {
		t.Fatalf("zone group: %v", err)
	}
	return group.PrivateDNSZoneGroup
}

// netConnectionState is the state of a private endpoint's one connection.
func netConnectionState(pe armnetwork.PrivateEndpoint) string {
	for _, list := range [][]*armnetwork.PrivateLinkServiceConnection{pe.Properties.PrivateLinkServiceConnections, pe.Properties.ManualPrivateLinkServiceConnections} {
		for _, c := range list {
			if c.Properties != nil && c.Properties.PrivateLinkServiceConnectionState != nil {
				return *c.Properties.PrivateLinkServiceConnectionState.Status
			}
		}
	}
	return ""
}

// TestNetworkSDK drives the network provider with azure-sdk-for-go's
// armnetwork v7 (api-version 2025-01-01): a virtual network and a subnet,
// private endpoints to a workspace on the automatic and the manual path,
// their network interfaces, a private DNS zone group, and the handshake
// seen from armmachinelearning's PrivateEndpointConnectionsClient.
func TestNetworkSDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	const rg = "net-rg"
	s.CreateWorkspace(t, rg, "ws1", false)
	sub := s.Conn.SubscriptionID
	wsID := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"

	vnets, err := armnetwork.NewVirtualNetworksClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := vnets.BeginCreateOrUpdate(ctx, rg, "vnet1", armnetwork.VirtualNetwork{
		Location: to.Ptr("eastus"),
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{to.Ptr("10.10.0.0/16")}},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin vnet: %v", err)
	}
	vnet, err := vp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil || *vnet.Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded {
		t.Fatalf("vnet: %v %+v", err, vnet)
	}

	subnets, err := armnetwork.NewSubnetsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	sp, err := subnets.BeginCreateOrUpdate(ctx, rg, "vnet1", "pe-subnet", armnetwork.Subnet{
		Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr("10.10.1.0/24")},
	}, nil)
	if err != nil {
		t.Fatalf("begin subnet: %v", err)
	}
	subnet, err := sp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("subnet: %v", err)
	}
	if *subnet.Properties.PrivateEndpointNetworkPolicies != armnetwork.VirtualNetworkPrivateEndpointNetworkPoliciesDisabled {
		t.Fatalf("subnet policies = %v", *subnet.Properties.PrivateEndpointNetworkPolicies)
	}
	// A subnet outside the address space: the SDK sees Azure's error.
	if _, err := subnets.BeginCreateOrUpdate(ctx, rg, "vnet1", "outside", armnetwork.Subnet{
		Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr("10.20.0.0/24")},
	}, nil); !e2e.IsResponseError(err, http.StatusBadRequest, "NetcfgInvalidSubnet") {
		t.Fatalf("subnet outside the space: %v", err)
	}

	pes, err := armnetwork.NewPrivateEndpointsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string, manual bool) armnetwork.PrivateEndpoint {
		t.Helper()
		p, err := pes.BeginCreateOrUpdate(ctx, rg, name, netPE(*subnet.ID, wsID, manual), nil)
		if err != nil {
			t.Fatalf("begin %s: %v", name, err)
		}
		res, err := p.PollUntilDone(ctx, e2e.FastPoll)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res.PrivateEndpoint
	}
	// A wrong group id and a missing subnet are refused.
	bad := netPE(*subnet.ID, wsID, false)
	bad.Properties.PrivateLinkServiceConnections[0].Properties.GroupIDs = []*string{to.Ptr("blob")}
	if _, err := pes.BeginCreateOrUpdate(ctx, rg, "bad", bad, nil); !e2e.IsResponseError(err, http.StatusBadRequest, "PrivateEndpointBadRequest") {
		t.Fatalf("wrong group id: %v", err)
	}
	if _, err := pes.BeginCreateOrUpdate(ctx, rg, "bad", netPE(*subnet.ID+"x", wsID, false), nil); !e2e.IsResponseError(err, http.StatusBadRequest, "InvalidResourceReference") {
		t.Fatalf("missing subnet: %v", err)
	}

	auto := create("pe-auto", false)
	if st := netConnectionState(auto); st != "Approved" {
		t.Fatalf("automatic connection = %s", st)
	}
	if len(auto.Properties.CustomDNSConfigs) != 4 || *auto.Properties.CustomDNSConfigs[0].IPAddresses[0] != "10.10.1.4" ||
		!strings.HasSuffix(*auto.Properties.CustomDNSConfigs[0].Fqdn, ".workspace.eastus.api.azureml.ms") {
		t.Fatalf("customDnsConfigs = %s", mustJSON(auto.Properties.CustomDNSConfigs))
	}

	nics, err := armnetwork.NewInterfacesClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	nicName := (*auto.Properties.NetworkInterfaces[0].ID)[strings.LastIndexByte(*auto.Properties.NetworkInterfaces[0].ID, '/')+1:]
	nic, err := nics.Get(ctx, rg, nicName, nil)
	if err != nil {
		t.Fatalf("get nic: %v", err)
	}
	if ip := *nic.Properties.IPConfigurations[0].Properties.PrivateIPAddress; ip != "10.10.1.4" || *nic.Properties.PrivateEndpoint.ID != *auto.ID {
		t.Fatalf("nic = %s", mustJSON(nic))
	}
	if _, err := nics.BeginDelete(ctx, rg, nicName, nil); !e2e.IsResponseError(err, http.StatusBadRequest, "CannotModifyNicAttachedToPrivateEndpoint") {
		t.Fatalf("delete nic: %v", err)
	}

	// The workspace sees the connection, Approved.
	conns, err := armmachinelearning.NewPrivateEndpointConnectionsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	list := func() map[string]*armmachinelearning.PrivateEndpointConnection {
		t.Helper()
		out := map[string]*armmachinelearning.PrivateEndpointConnection{}
		pager := conns.NewListPager(rg, "ws1", nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Value {
				out[strings.SplitN(*c.Name, ".", 2)[0]] = c
			}
		}
		return out
	}
	got := list()
	if c := got["pe-auto"]; c == nil || *c.Properties.PrivateLinkServiceConnectionState.Status != armmachinelearning.PrivateEndpointServiceConnectionStatusApproved ||
		*c.Properties.PrivateEndpoint.ID != *auto.ID {
		t.Fatalf("workspace connections = %s", mustJSON(got))
	}

	// Manual: Pending on both sides until the owner approves on the
	// workspace; then Approved on both.
	manual := create("pe-manual", true)
	if st := netConnectionState(manual); st != "Pending" {
		t.Fatalf("manual connection = %s", st)
	}
	pending := list()["pe-manual"]
	if pending == nil || *pending.Properties.PrivateLinkServiceConnectionState.Status != armmachinelearning.PrivateEndpointServiceConnectionStatusPending ||
		*pending.Properties.PrivateLinkServiceConnectionState.Description != "from the data team" {
		t.Fatalf("pending connection = %s", mustJSON(pending))
	}
	if _, err := conns.CreateOrUpdate(ctx, rg, "ws1", *pending.Name, armmachinelearning.PrivateEndpointConnection{
		Properties: &armmachinelearning.PrivateEndpointConnectionProperties{
			PrivateLinkServiceConnectionState: &armmachinelearning.PrivateLinkServiceConnectionState{
				Status: to.Ptr(armmachinelearning.PrivateEndpointServiceConnectionStatusApproved), Description: to.Ptr("approved by the owner"),
			},
		},
	}, nil); err != nil {
		t.Fatalf("approve: %v", err)
	}
	after, err := pes.Get(ctx, rg, "pe-manual", nil)
	if err != nil || netConnectionState(after.PrivateEndpoint) != "Approved" {
		t.Fatalf("pe-manual after approval: %v %s", err, mustJSON(after))
	}
	// Approving a connection that does not exist is a 404.
	if _, err := conns.CreateOrUpdate(ctx, rg, "ws1", "nope", armmachinelearning.PrivateEndpointConnection{
		Properties: &armmachinelearning.PrivateEndpointConnectionProperties{
			PrivateLinkServiceConnectionState: &armmachinelearning.PrivateLinkServiceConnectionState{Status: to.Ptr(armmachinelearning.PrivateEndpointServiceConnectionStatusApproved)},
		},
	}, nil); !e2e.IsResponseError(err, http.StatusNotFound, "PrivateEndpointConnectionNotFound") {
		t.Fatalf("approve missing: %v", err)
	}

	// A private DNS zone (raw REST: armnetwork has no private DNS zone
	// client) and a zone group on pe-auto that writes its A records.
	zone := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms"
	group := netZoneGroup(t, s, cred, rg, "pe-auto", zone)
	if sets := group.Properties.PrivateDNSZoneConfigs[0].Properties.RecordSets; len(sets) != 3 || *sets[0].IPAddresses[0] != "10.10.1.4" {
		t.Fatalf("record sets = %s", mustJSON(sets))
	}
	records := func() int {
		st, _, body := s.Do(t, http.MethodGet, zone+"/A?api-version=2020-06-01", "", nil)
		var v struct{ Value []any }
		if st != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("list records: %d %s", st, body)
		}
		return len(v.Value)
	}
	if n := records(); n != 3 {
		t.Fatalf("%d A records, want 3", n)
	}

	// The subnet cannot go while it holds private endpoints.
	if _, err := subnets.BeginDelete(ctx, rg, "vnet1", "pe-subnet", nil); !e2e.IsResponseError(err, http.StatusBadRequest, "InUseSubnetCannotBeDeleted") {
		t.Fatalf("delete subnet in use: %v", err)
	}

	// Deleting pe-auto removes its interface, its workspace connection and
	// its records.
	dp, err := pes.BeginDelete(ctx, rg, "pe-auto", nil)
	if err != nil {
		t.Fatalf("begin delete: %v", err)
	}
	if _, err := dp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete: %v", err)
	}
	e2e.WaitFor(t, "pe-auto's connection, interface and records to go", func() bool {
		_, nicErr := nics.Get(ctx, rg, nicName, nil)
		return list()["pe-auto"] == nil && e2e.IsResponseError(nicErr, http.StatusNotFound, "ResourceNotFound") && records() == 0
	})
	if ws, err := armmachinelearning.NewWorkspacesClient(sub, cred, s.ARMOptions()); err != nil {
		t.Fatal(err)
	} else if w, err := ws.Get(ctx, rg, "ws1", nil); err != nil || *w.Properties.PrivateLinkCount != 1 {
		t.Fatalf("privateLinkCount: %v %v", err, w.Properties.PrivateLinkCount)
	}
	// Deleting the workspace's connection disconnects pe-manual.
	if _, err := conns.Delete(ctx, rg, "ws1", *pending.Name, nil); err != nil {
		t.Fatalf("delete connection: %v", err)
	}
	if after, err := pes.Get(ctx, rg, "pe-manual", nil); err != nil || netConnectionState(after.PrivateEndpoint) != "Disconnected" {
		t.Fatalf("pe-manual after its connection's delete: %v %s", err, mustJSON(after))
	}
}

// TestNetworkAzureCLI creates a virtual network and a private endpoint with
// the Azure CLI's generic `az resource create` at api-version 2022-01-01
// (Debian's `az network` commands do not load).
func TestNetworkAzureCLI(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	az := s.AzureCLI(t)
	az.Login()
	az.Run("group", "create", "-n", "cli-net", "-l", "eastus", "-o", "none")
	rg := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/cli-net/providers/"
	az.JSON("resource", "create", "--id", rg+"Microsoft.MachineLearningServices/workspaces/ws1", "--api-version", "2024-04-01", "-l", "eastus", "-p", `{}`)

	vnet := az.JSON("resource", "create", "--id", rg+"Microsoft.Network/virtualNetworks/vnet1", "--api-version", "2022-01-01", "-l", "eastus",
		"-p", `{"addressSpace":{"addressPrefixes":["10.30.0.0/16"]},"subnets":[{"name":"default","properties":{"addressPrefix":"10.30.0.0/24"}}]}`)
	subnets := vnet["properties"].(map[string]any)["subnets"].([]any)
	subnetID := subnets[0].(map[string]any)["id"].(string)
	if subnetID != rg+"Microsoft.Network/virtualNetworks/vnet1/subnets/default" {
		t.Fatalf("subnet id = %s", subnetID)
	}
	pe := az.JSON("resource", "create", "--id", rg+"Microsoft.Network/privateEndpoints/pe1", "--api-version", "2022-01-01", "-l", "eastus",
		"-p", `{"subnet":{"id":"`+subnetID+`"},"privateLinkServiceConnections":[{"name":"conn","properties":{"privateLinkServiceId":"`+
			rg+`Microsoft.MachineLearningServices/workspaces/ws1","groupIds":["amlworkspace"]}}]}`)
	props := pe["properties"].(map[string]any)
	conn := props["privateLinkServiceConnections"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	if st := conn["privateLinkServiceConnectionState"].(map[string]any)["status"]; st != "Approved" {
		t.Fatalf("connection state = %v", st)
	}
	dns := props["customDnsConfigs"].([]any)
	if len(dns) != 4 || dns[0].(map[string]any)["ipAddresses"].([]any)[0] != "10.30.0.4" {
		t.Fatalf("customDnsConfigs = %v", dns)
	}
	conns := az.JSON("rest", "--method", "get", "--url", s.Conn.ARMEndpoint+strings.TrimPrefix(rg, "/")+"Microsoft.MachineLearningServices/workspaces/ws1/privateEndpointConnections?api-version=2024-04-01")
	if v := conns["value"].([]any); len(v) != 1 || !strings.HasPrefix(v[0].(map[string]any)["name"].(string), "pe1.") {
		t.Fatalf("workspace connections = %v", conns)
	}
	// A wrong group id gets the ARM error through the CLI too.
	_, errOut, err := az.Try("resource", "create", "--id", rg+"Microsoft.Network/privateEndpoints/pe2", "--api-version", "2022-01-01", "-l", "eastus",
		"-p", `{"subnet":{"id":"`+subnetID+`"},"privateLinkServiceConnections":[{"name":"conn","properties":{"privateLinkServiceId":"`+
			rg+`Microsoft.MachineLearningServices/workspaces/ws1","groupIds":["blob"]}}]}`)
	if err == nil || !strings.Contains(errOut, "PrivateEndpointBadRequest") {
		t.Fatalf("wrong group id via the CLI: %v\n%s", err, errOut)
	}
}
