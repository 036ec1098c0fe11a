package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// clientThrough is an HTTP client whose HTTPS_PROXY is proxyURL and that
// trusts armlet's CA: a client inside the virtual network whose proxy
// that is (or outside every one, with armlet's public proxy).
func clientThrough(t *testing.T, s *e2e.Armlet, proxyURL string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(s.Conn.CACertificate)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// vnetProxyOf waits for the virtual network's proxy in GET
// /_armlet/network/virtualNetworks and returns its URL.
func vnetProxyOf(t *testing.T, s *e2e.Armlet, vnetID string) string {
	t.Helper()
	var found string
	e2e.WaitFor(t, "the virtual network's proxy", func() bool {
		st, _, body := s.Do(t, http.MethodGet, "/_armlet/network/virtualNetworks", "", nil)
		var out struct{ Value []netmodel.VNetProxy }
		if st != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("GET /_armlet/network/virtualNetworks = %d %s", st, body)
		}
		for _, p := range out.Value {
			if strings.EqualFold(p.VirtualNetworkID, vnetID) {
				found = p.HTTPSProxy
			}
		}
		return found != ""
	})
	return found
}

// dnsLink links the private DNS zone to the virtual network (raw REST:
// armnetwork has no private DNS client), or with vnetID "" deletes the
// link.
func dnsLink(t *testing.T, s *e2e.Armlet, zone, name, vnetID string) {
	t.Helper()
	link := zone + "/virtualNetworkLinks/" + name + "?api-version=2020-06-01"
	if vnetID == "" {
		if st, _, body := s.Do(t, http.MethodDelete, link, "", nil); st != http.StatusAccepted && st != http.StatusOK {
			t.Fatalf("DELETE link: %d %s", st, body)
		}
		e2e.WaitFor(t, "the link's delete", func() bool {
			st, _, _ := s.Do(t, http.MethodGet, link, "", nil)
			return st == http.StatusNotFound
		})
		return
	}
	body := fmt.Sprintf(`{"location":"global","properties":{"virtualNetwork":{"id":%q},"registrationEnabled":false}}`, vnetID)
	if st, _, b := s.Do(t, http.MethodPut, link, body, nil); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("PUT link: %d %s", st, b)
	}
}

// privateEndpoint creates a private endpoint in subnet to target's group
// and waits for it.
func privateEndpoint(t *testing.T, pes *armnetwork.PrivateEndpointsClient, rg, name, subnet, target, group string) armnetwork.PrivateEndpoint {
	t.Helper()
	p, err := pes.BeginCreateOrUpdate(context.Background(), rg, name, armnetwork.PrivateEndpoint{
		Location: to.Ptr("eastus"),
		Properties: &armnetwork.PrivateEndpointProperties{
			Subnet: &armnetwork.Subnet{ID: to.Ptr(subnet)},
			PrivateLinkServiceConnections: []*armnetwork.PrivateLinkServiceConnection{{
				Name:       to.Ptr("conn"),
				Properties: &armnetwork.PrivateLinkServiceConnectionProperties{PrivateLinkServiceID: to.Ptr(target), GroupIDs: []*string{to.Ptr(group)}},
			}},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin private endpoint %s: %v", name, err)
	}
	pe, err := p.PollUntilDone(context.Background(), e2e.FastPoll)
	if err != nil {
		t.Fatalf("private endpoint %s: %v", name, err)
	}
	return pe.PrivateEndpoint
}

// TestSeedStoryByNameResolution is the seed story decided as Azure
// decides it, by name resolution inside the virtual network: a workspace
// with public network access Disabled, a private endpoint to it, and the
// private DNS zone privatelink.api.azureml.ms linked to the virtual
// network with the endpoint's zone group. A client inside the virtual
// network (its proxy, with azure-sdk-for-go's built-in public cloud)
// reaches the workspace's data plane by its real host name privately
// (workspace-private) while its ARM calls stay public (arm-public);
// through armlet's public proxy the data plane is refused; a request on
// the workspace's host naming another workspace is refused; unlinking the
// zone makes the next connection public, and refused. Then Resource
// Management Private Link: with privatelink.azure.com linked and a zone
// group on an endpoint to the private link, ARM through the virtual
// network's proxy is arm-private. `armlet network resolve`'s admin route
// shows each chain.
func TestSeedStoryByNameResolution(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	const rg = "dns-rg"
	wsClient := s.CreateWorkspace(t, rg, "ws-dns", false)
	s.CreateWorkspace(t, rg, "ws-other", false)
	up, err := wsClient.BeginUpdate(ctx, rg, "ws-dns", armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{PublicNetworkAccess: to.Ptr(armmachinelearning.PublicNetworkAccessDisabled)},
	}, nil)
	if err == nil {
		_, err = up.PollUntilDone(ctx, e2e.FastPoll)
	}
	if err != nil {
		t.Fatalf("disable public access: %v", err)
	}
	ws, err := wsClient.Get(ctx, rg, "ws-dns", nil)
	if err != nil {
		t.Fatal(err)
	}
	wsid := *ws.Properties.WorkspaceID
	wsHost := wsid + ".workspace.eastus.api.azureml.ms"
	rgID := "/subscriptions/" + sub + "/resourceGroups/" + rg
	wsPath := rgID + "/providers/Microsoft.MachineLearningServices/workspaces/ws-dns"
	otherPath := rgID + "/providers/Microsoft.MachineLearningServices/workspaces/ws-other"

	// The virtual network, its subnet, the private endpoint, the zone and
	// its group, the link.
	vnets, err := armnetwork.NewVirtualNetworksClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := vnets.BeginCreateOrUpdate(ctx, rg, "vnet-dns", armnetwork.VirtualNetwork{
		Location: to.Ptr("eastus"),
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{to.Ptr("10.20.0.0/16")}},
			Subnets:      []*armnetwork.Subnet{{Name: to.Ptr("pe"), Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr("10.20.1.0/24")}}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vnet, err := vp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatal(err)
	}
	vnetID, subnetID := *vnet.ID, *vnet.ID+"/subnets/pe"
	pes, err := armnetwork.NewPrivateEndpointsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	privateEndpoint(t, pes, rg, "pe-ws", subnetID, wsPath, "amlworkspace")
	zone := rgID + "/providers/Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms"
	netZoneGroup(t, s, cred, rg, "pe-ws", zone)
	dnsLink(t, s, zone, "link-aml", vnetID)

	// The client inside the virtual network: the public cloud, its proxy.
	inside := clientThrough(t, s, vnetProxyOf(t, s, vnetID))
	opts := policy.ClientOptions{Cloud: cloud.AzurePublic, Transport: inside}
	insideCred, err := azidentity.NewClientSecretCredential(s.Conn.TenantID, s.Conn.ClientID, s.Conn.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	insideWS, err := armmachinelearning.NewWorkspacesClient(sub, insideCred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	// The workspace data plane: no Go SDK covers it, so a plain request
	// with azcore's bearer token policy (ARM's audience, as azureml-core's
	// clients send).
	dataPlane := func(cred azcore.TokenCredential, client *http.Client, host, path string) (int, string) {
		t.Helper()
		pl := runtime.NewPipeline("armlet-test", "v1", runtime.PipelineOptions{
			PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{"https://management.azure.com/.default"}, nil)},
		}, &policy.ClientOptions{Transport: client, Retry: policy.RetryOptions{MaxRetries: -1}})
		req, err := runtime.NewRequest(ctx, http.MethodGet, "https://"+host+path)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := pl.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	experiments := "/history/v1.0" + wsPath + "/experiments"

	if st, body := dataPlane(insideCred, inside, wsHost, experiments); st != http.StatusOK {
		t.Fatalf("the data plane by its host name inside the virtual network: %d %s", st, body)
	}
	if _, err := insideWS.Get(ctx, rg, "ws-dns", nil); err != nil {
		t.Fatalf("ARM from inside the virtual network: %v", err)
	}
	// Through armlet's public proxy: the same host resolves publicly, and
	// the workspace refuses public access.
	outside := clientThrough(t, s, s.Conn.HTTPSProxy)
	// The attacker's variant: the workspace's own host, another workspace
	// in the path (it exists, and is public): refused by the endpoint
	// inside, by the host outside.
	for _, c := range []*http.Client{inside, outside} {
		if st, body := dataPlane(insideCred, c, wsHost, "/history/v1.0"+otherPath+"/experiments"); st != http.StatusForbidden {
			t.Errorf("another workspace on ws-dns's host: %d %s", st, body)
		}
	}
	if _, body := dataPlane(cred, outside, wsHost, "/history/v1.0"+otherPath+"/experiments"); !strings.Contains(body, wsid) {
		t.Errorf("another workspace on ws-dns's host, through the public proxy: %s", body)
	}
	if st, body := dataPlane(cred, outside, wsHost, experiments); st != http.StatusForbidden || !strings.Contains(body, "private link configuration") {
		t.Errorf("the data plane through the public proxy: %d %s", st, body)
	}
	// A workspace host armlet does not hold is refused at CONNECT.
	if st, body := dataPlane(cred, outside, "00000000-0000-0000-0000-000000000000.workspace.eastus.api.azureml.ms", experiments); st != 0 || !strings.Contains(body, "Forbidden") {
		t.Errorf("an unknown workspace's host: %d %s", st, body)
	}

	// The cert name, and the privatelink name itself, reach the workspace
	// the same way; the regional host serves discovery, on its own name.
	if st, body := dataPlane(insideCred, inside, wsid+".workspace.eastus.cert.api.azureml.ms", "/discovery/workspaces/"+wsid); st != http.StatusOK {
		t.Errorf("discovery on the cert name inside: %d %s", st, body)
	}
	if st, body := dataPlane(insideCred, inside, wsid+".workspace.eastus.privatelink.api.azureml.ms", "/discovery/workspaces/"+wsid); st != http.StatusOK {
		t.Errorf("discovery on the privatelink name inside: %d %s", st, body)
	}
	if st, body := dataPlane(cred, outside, "eastus.api.azureml.ms", "/discovery"); st != http.StatusOK || !strings.Contains(body, `"https://eastus.api.azureml.ms"`) {
		t.Errorf("regional discovery through the public proxy: %d %s", st, body)
	}
	if st, body := dataPlane(cred, outside, "westus.api.azureml.ms", "/discovery"); st != 0 || !strings.Contains(body, "Forbidden") {
		t.Errorf("a region armlet holds nothing in: %d %s", st, body)
	}

	classes := func(path string) map[netmodel.PathClass]int {
		flows, _ := s.FlowRecords(t, "")
		out := map[netmodel.PathClass]int{}
		for _, f := range flows {
			if strings.EqualFold(f.Path, path) {
				out[f.Class]++
			}
		}
		return out
	}
	if c := classes(experiments); c[netmodel.WorkspacePrivate] != 1 || c[netmodel.WorkspacePublic] != 1 {
		t.Errorf("the data plane's flow classes: %v, want one workspace-private (inside) and one workspace-public (outside)", c)
	}
	if c := classes(wsPath); c[netmodel.ARMPublic] == 0 || c[netmodel.ARMPrivate] != 0 {
		t.Errorf("ARM's flow classes from inside: %v, want arm-public", c)
	}
	resolve := func(host string) netmodel.Resolution {
		st, _, body := s.Do(t, http.MethodGet, "/_armlet/network/resolve?host="+url.QueryEscape(host)+"&virtualNetworkId="+url.QueryEscape(vnetID), "", nil)
		var r netmodel.Resolution
		if st != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
			t.Fatalf("resolve %s: %d %s", host, st, body)
		}
		return r
	}
	if r := resolve(wsHost); r.Verdict != netmodel.VerdictPrivate || !strings.HasSuffix(r.EndpointID, "/pe-ws") || len(r.Chain) != 2 ||
		r.Chain[0].CNAME != wsid+".workspace.eastus.privatelink.api.azureml.ms" {
		t.Errorf("resolve %s: %+v", wsHost, r)
	}

	// A record written by hand to an address no endpoint has: nothing
	// answers there, and the CONNECT says so.
	if st, _, body := s.Do(t, http.MethodPut, zone+"/A/"+wsid+".workspace.eastus.cert?api-version=2020-06-01",
		`{"properties":{"ttl":10,"aRecords":[{"ipv4Address":"10.20.9.9"}]}}`, nil); st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("PUT A record: %d %s", st, body)
	}
	inside.CloseIdleConnections() // an open tunnel keeps the address it resolved to
	if st, body := dataPlane(insideCred, inside, wsid+".workspace.eastus.cert.api.azureml.ms", experiments); st != 0 || !strings.Contains(body, "Bad Gateway") {
		t.Errorf("a name resolving to 10.20.9.9: %d %s", st, body)
	}
	if r := resolve(wsid + ".workspace.eastus.cert.api.azureml.ms"); r.Verdict != netmodel.VerdictUnreachable || !strings.Contains(r.Message, "10.20.9.9") {
		t.Errorf("resolve the hand-written record: %+v", r)
	}

	// Unlinked: the next connection resolves publicly, and is refused.
	dnsLink(t, s, zone, "link-aml", "")
	inside.CloseIdleConnections()
	if st, body := dataPlane(insideCred, inside, wsHost, experiments); st != http.StatusForbidden {
		t.Errorf("the data plane after the zone was unlinked: %d %s", st, body)
	}
	if c := classes(experiments); c[netmodel.WorkspacePublic] != 2 {
		t.Errorf("after unlinking: %v, want a second workspace-public", c)
	}
	if r := resolve(wsHost); r.Verdict != netmodel.VerdictPublic {
		t.Errorf("resolve after unlinking: %+v", r)
	}

	// Resource Management Private Link: the private link, an endpoint to
	// it, the zone privatelink.azure.com with the endpoint's zone group,
	// linked to the virtual network.
	generic, err := armresources.NewClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	rmpl := rgID + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl-dns"
	lp, err := generic.BeginCreateOrUpdateByID(ctx, rmpl, parmAPIVersion, armresources.GenericResource{Location: to.Ptr("eastus")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	privateEndpoint(t, pes, rg, "pe-arm", subnetID, rmpl, "ResourceManagement")
	armZone := rgID + "/providers/Microsoft.Network/privateDnsZones/privatelink.azure.com"
	netZoneGroup(t, s, cred, rg, "pe-arm", armZone)
	dnsLink(t, s, armZone, "link-arm", vnetID)
	inside.CloseIdleConnections()
	if _, err := insideWS.Get(ctx, rg, "ws-other", nil); err != nil {
		t.Fatalf("ARM through Resource Management Private Link: %v", err)
	}
	if c := classes(otherPath); c[netmodel.ARMPrivate] != 1 {
		t.Errorf("ARM's flow classes through the private link: %v, want one arm-private", c)
	}
	if r := resolve("management.azure.com"); r.Verdict != netmodel.VerdictPrivate || !strings.HasSuffix(r.EndpointID, "/pe-arm") {
		t.Errorf("resolve management.azure.com: %+v", r)
	}
	// The endpoint goes while a tunnel through it is open: the tunnel's
	// next request is answered 502 and the tunnel ends; the next CONNECT
	// finds the zone without the endpoint's record (its zone group went
	// with it): NXDOMAIN.
	armGet := wsPath + "?api-version=2024-04-01"
	if st, body := dataPlane(insideCred, inside, "management.azure.com", armGet); st != http.StatusOK {
		t.Fatalf("ARM through the private link before the endpoint goes: %d %s", st, body)
	}
	dp, err := pes.BeginDelete(ctx, rg, "pe-arm", nil)
	if err == nil {
		_, err = dp.PollUntilDone(ctx, e2e.FastPoll)
	}
	if err != nil {
		t.Fatalf("delete pe-arm: %v", err)
	}
	if st, body := dataPlane(insideCred, inside, "management.azure.com", armGet); st != http.StatusBadGateway || !strings.Contains(body, "pe-arm") {
		t.Errorf("a request in a tunnel through a deleted endpoint: %d %s", st, body)
	}
	if st, body := dataPlane(insideCred, inside, "management.azure.com", armGet); st != 0 || !strings.Contains(body, "Bad Gateway") {
		t.Errorf("a new connection after the endpoint went: %d %s", st, body)
	}
	if r := resolve("management.azure.com"); r.Verdict != netmodel.VerdictNXDomain {
		t.Errorf("resolve management.azure.com after the endpoint went: %+v", r)
	}
	// The link falls back to public DNS (resolutionPolicy NxDomainRedirect):
	// ARM is reached again, publicly.
	if st, _, body := s.Do(t, http.MethodPut, armZone+"/virtualNetworkLinks/link-arm?api-version=2024-06-01",
		fmt.Sprintf(`{"location":"global","properties":{"virtualNetwork":{"id":%q},"registrationEnabled":false,"resolutionPolicy":"NxDomainRedirect"}}`, vnetID), nil); st >= 300 {
		t.Fatalf("PUT link with NxDomainRedirect: %d %s", st, body)
	}
	if r := resolve("management.azure.com"); r.Verdict != netmodel.VerdictPublic || len(r.Chain) != 3 {
		t.Errorf("resolve management.azure.com with NxDomainRedirect: %+v", r)
	}
	if st, body := dataPlane(insideCred, inside, "management.azure.com", armGet); st != http.StatusOK {
		t.Errorf("ARM with NxDomainRedirect: %d %s", st, body)
	}

	// Through the public proxy, ARM stays public.
	outsideWS, err := armmachinelearning.NewWorkspacesClient(sub, cred, &arm.ClientOptions{ClientOptions: policy.ClientOptions{Cloud: cloud.AzurePublic, Transport: outside}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outsideWS.Get(ctx, rg, "ws-other", nil); err != nil {
		t.Fatalf("ARM through the public proxy: %v", err)
	}
	if c := classes(otherPath); c[netmodel.ARMPrivate] != 1 || c[netmodel.ARMPublic] == 0 {
		t.Errorf("after a call through the public proxy: %v", c)
	}
}

// TestVNetProxyFollowsItsVirtualNetwork: a virtual network's proxy opens
// when the network is made, closes when it is deleted, and keeps its
// loopback address (port included) when the network comes back and
// across a restart of armlet over the same data dir.
func TestVNetProxyFollowsItsVirtualNetwork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	onDisk := e2e.WithConfig(func(c *config.Config) { c.InMemory, c.DataDir = false, dir })
	s := e2e.Start(t, onDisk)
	rg := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/vnet-rg"
	vnet := rg + "/providers/Microsoft.Network/virtualNetworks/vnet-life"
	if st, _, body := s.Do(t, http.MethodPut, rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); st >= 300 {
		t.Fatalf("PUT group: %d %s", st, body)
	}
	putVNet := func(s *e2e.Armlet) {
		t.Helper()
		if st, _, body := s.Do(t, http.MethodPut, vnet+"?api-version=2024-05-01",
			`{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.40.0.0/16"]}}}`, nil); st >= 300 {
			t.Fatalf("PUT vnet: %d %s", st, body)
		}
	}
	putVNet(s)
	first := vnetProxyOf(t, s, vnet)
	if !strings.HasPrefix(first, "http://127.66.") {
		t.Fatalf("the proxy %s is not on a 127.66.0.0/16 address", first)
	}
	if st, _, body := s.Do(t, http.MethodDelete, vnet+"?api-version=2024-05-01", "", nil); st >= 300 {
		t.Fatalf("DELETE vnet: %d %s", st, body)
	}
	e2e.WaitFor(t, "the proxy to close with its virtual network", func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(first, "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	e2e.WaitFor(t, "the virtual network's delete", func() bool {
		st, _, _ := s.Do(t, http.MethodGet, vnet+"?api-version=2024-05-01", "", nil)
		return st == http.StatusNotFound
	})
	putVNet(s)
	if again := vnetProxyOf(t, s, vnet); again != first {
		t.Errorf("the virtual network came back on %s, not %s", again, first)
	}
	s.Close()

	s = e2e.Start(t, onDisk)
	if again := vnetProxyOf(t, s, vnet); again != first {
		t.Errorf("after a restart the proxy is on %s, not %s", again, first)
	}
}
