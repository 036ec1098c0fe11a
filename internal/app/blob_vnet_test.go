package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// TestBlobThroughVirtualNetwork: an account without public network
// access, a private endpoint to its blob group in a virtual network, the
// zone privatelink.blob.core.windows.net linked to the network with a
// zone group: azblob through the network's proxy uploads and downloads
// (storage-private), through the public proxy it is refused (403
// AuthorizationFailure, storage-public).
func TestBlobThroughVirtualNetwork(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := t.Context()
	const rg = "blobvnet"
	rgID := s.CreateGroup(t, rg)
	path, key := blobAccount(t, s, rgID, "blobvnet1", `"publicNetworkAccess":"Disabled"`)
	vnet := privateLinkVNet(t, s, rg, "10.30", path, "blob", "privatelink.blob.core.windows.net")

	client := func(proxy string) *azblob.Client {
		blobCred, err := azblob.NewSharedKeyCredential("blobvnet1", key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := azblob.NewClientWithSharedKeyCredential("https://blobvnet1.blob.core.windows.net/", blobCred,
			&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: clientThrough(t, s, proxy), Retry: policy.RetryOptions{MaxRetries: -1}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	inside, outside := client(vnetProxyOf(t, s, vnet)), client(s.Conn.HTTPSProxy)
	if _, err := inside.CreateContainer(ctx, "data", nil); err != nil {
		t.Fatalf("create a container inside the virtual network: %v", err)
	}
	if _, err := inside.UploadBuffer(ctx, "data", "b", []byte("private"), nil); err != nil {
		t.Fatalf("upload inside the virtual network: %v", err)
	}
	if got := download(t, inside, "data", "b", blob.HTTPRange{}); string(got) != "private" {
		t.Errorf("download inside: %q", got)
	}
	if _, err := outside.DownloadStream(ctx, "data", "b", nil); !bloberror.HasCode(err, bloberror.AuthorizationFailure) {
		t.Errorf("download through the public proxy: %v, want 403 AuthorizationFailure", err)
	}
	flows, _ := s.FlowRecords(t, "")
	classes := map[netmodel.PathClass]int{}
	for _, f := range flows {
		if strings.HasSuffix(f.ResourceID, "/storageAccounts/blobvnet1") && f.Status != http.StatusUnauthorized {
			classes[f.Class]++
		}
	}
	if classes[netmodel.StoragePrivate] < 3 || classes[netmodel.StoragePublic] != 1 {
		t.Errorf("flow classes of blobvnet1: %v, want 3 storage-private and 1 storage-public", classes)
	}
}

// privateLinkVNet makes the virtual network "vnet" (10.X.0.0/16 for
// prefix "10.X") in resource group rg with a subnet "pe" (isoSubnet), a
// private endpoint "pe-{group}" in it to target's group, the private DNS
// zone zone with a zone group on the endpoint, and the zone linked to the
// network: what a client in the network needs to reach target privately
// by its public name. It returns the network's ID.
func privateLinkVNet(t *testing.T, s *e2e.Armlet, rg, prefix, target, group, zone string) string {
	t.Helper()
	cred := s.Credential(t)
	subnet := isoSubnet(t, s, cred, rg, prefix+".0.0/16", prefix+".1.0/24")
	pes, err := armnetwork.NewPrivateEndpointsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	pe := "pe-" + group
	privateEndpoint(t, pes, rg, pe, subnet, target, group)
	zoneID := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/" + rg + "/providers/Microsoft.Network/privateDnsZones/" + zone
	netZoneGroup(t, s, cred, rg, pe, zoneID)
	vnet := strings.TrimSuffix(subnet, "/subnets/pe")
	dnsLink(t, s, zoneID, "link-"+group, vnet)
	return vnet
}
