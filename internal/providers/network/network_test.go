package network

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/armlet/armlet/internal/kv"
)

// TestValidationErrors: every request a client gets wrong is refused with
// an ARM error, and none leaves anything behind.
func TestValidationErrors(t *testing.T) {
	v := newEnv(t)
	vnet := func(space, subnets string) string {
		return `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":[` + space + `]},"subnets":[` + subnets + `]}}`
	}
	sn := func(name, prefix string) string {
		return `{"name":"` + name + `","properties":{"addressPrefix":"` + prefix + `"}}`
	}
	pe := netPath + "/privateEndpoints/bad"
	ws := wsPath
	cases := []struct {
		name, method, path, api, body string
		status                        int
		code                          string
	}{
		{"vnet bad CIDR", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.0.0.0/33"`, ""), 400, "InvalidAddressPrefixFormat"},
		{"vnet not a CIDR", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"ten"`, ""), 400, "InvalidAddressPrefixFormat"},
		{"vnet CIDR not canonical", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.0.0.1/16"`, ""), 400, "InvalidCIDRNotation"},
		{"vnet overlapping address space", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.0.0.0/16","10.0.128.0/24"`, ""), 400, "VnetAddressSpacesOverlap"},
		{"vnet without address space", "PUT", netPath + "/virtualNetworks/v2", netAPI, `{"location":"eastus","properties":{}}`, 400, "InvalidAddressSpace"},
		{"subnet outside the vnet space", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.1.0.0/16"`, sn("a", "10.2.0.0/24")), 400, "NetcfgInvalidSubnet"},
		{"overlapping subnets", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.1.0.0/16"`, sn("a", "10.1.0.0/24")+","+sn("b", "10.1.0.128/25")), 400, "NetcfgSubnetRangesOverlap"},
		{"subnet bad CIDR", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.1.0.0/16"`, sn("a", "10.1.0.0/a")), 400, "InvalidAddressPrefixFormat"},
		{"subnet too small", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.1.0.0/16"`, sn("a", "10.1.0.0/30")), 400, "NetcfgInvalidSubnet"},
		{"subnet without prefix", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.1.0.0/16"`, `{"name":"a","properties":{}}`), 400, "NetcfgInvalidSubnet"},
		{"duplicate subnet names", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.1.0.0/16"`, sn("a", "10.1.0.0/24")+","+sn("A", "10.1.1.0/24")), 400, "DuplicateResourceName"},
		{"bad network policy", "PUT", netPath + "/virtualNetworks/v2", netAPI, vnet(`"10.1.0.0/16"`, `{"name":"a","properties":{"addressPrefix":"10.1.0.0/24","privateEndpointNetworkPolicies":"Sometimes"}}`), 400, "InvalidRequestContent"},
		{"vnet api-version unknown", "PUT", netPath + "/virtualNetworks/v2", "2017-01-01", vnet(`"10.1.0.0/16"`, ""), 400, "NoRegisteredProviderFound"},
		{"subnet child outside the space", "PUT", vnetPath + "/subnets/s2", netAPI, `{"properties":{"addressPrefix":"10.9.0.0/24"}}`, 400, "NetcfgInvalidSubnet"},
		{"subnet child overlapping", "PUT", vnetPath + "/subnets/s2", netAPI, `{"properties":{"addressPrefix":"10.0.1.128/25"}}`, 400, "NetcfgSubnetRangesOverlap"},
		{"subnet child bad member", "PUT", vnetPath + "/subnets/s2", netAPI, `{"size":1,"properties":{"addressPrefix":"10.0.2.0/24"}}`, 400, "InvalidRequestContent"},
		{"subnet child of a missing vnet", "PUT", netPath + "/virtualNetworks/nope/subnets/s2", netAPI, `{"properties":{"addressPrefix":"10.0.2.0/24"}}`, 404, "ParentResourceNotFound"},
		{"PE to a missing subnet", "PUT", pe, netAPI, peBody("eastus", vnetPath+"/subnets/nope", ws, "amlworkspace", false, ""), 400, "InvalidResourceReference"},
		{"PE to a subnet of a missing vnet", "PUT", pe, netAPI, peBody("eastus", netPath+"/virtualNetworks/nope/subnets/default", ws, "amlworkspace", false, ""), 400, "InvalidResourceReference"},
		{"PE in another region than its vnet", "PUT", pe, netAPI, peBody("westus", subnetID, ws, "amlworkspace", false, ""), 400, "InvalidResourceReference"},
		{"PE without subnet", "PUT", pe, netAPI, `{"location":"eastus","properties":{"privateLinkServiceConnections":[]}}`, 400, "InvalidRequestContent"},
		{"PE wrong group id", "PUT", pe, netAPI, peBody("eastus", subnetID, ws, "blob", false, ""), 400, "PrivateEndpointBadRequest"},
		{"PE missing target", "PUT", pe, netAPI, peBody("eastus", subnetID, rgPath+"/providers/Microsoft.MachineLearningServices/workspaces/nope", "amlworkspace", false, ""), 400, "InvalidResourceReference"},
		{"PE unknown target type", "PUT", pe, netAPI, peBody("eastus", subnetID, storageID, "blob", false, ""), 400, "PrivateLinkServiceNotSupported"},
		{"PE bad target id", "PUT", pe, netAPI, peBody("eastus", subnetID, "not-an-id", "amlworkspace", false, ""), 400, "LinkedInvalidPropertyId"},
		{"PE missing private link", "PUT", pe, netAPI, peBody("eastus", subnetID, rmplPath, "ResourceManagement", false, ""), 400, "InvalidResourceReference"},
		{"PE without connection", "PUT", pe, netAPI, `{"location":"eastus","properties":{"subnet":{"id":"` + subnetID + `"}}}`, 400, "InvalidPrivateEndpointConnections"},
		{"PE with two group ids", "PUT", pe, netAPI, strings.Replace(peBody("eastus", subnetID, ws, "amlworkspace", false, ""), `["amlworkspace"]`, `["amlworkspace","x"]`, 1), 400, "InvalidRequestContent"},
		{"PE bad name", "PUT", netPath + "/privateEndpoints/-x", netAPI, peBody("eastus", subnetID, ws, "amlworkspace", false, ""), 400, "InvalidResourceName"},
		{"client PUT of a NIC", "PUT", netPath + "/networkInterfaces/nic1", netAPI, `{"location":"eastus","properties":{}}`, 400, "NetworkInterfaceNotSupported"},
		{"approving a missing connection", "PUT", wsPath + "/privateEndpointConnections/nope", mlAPI, `{"properties":{"privateLinkServiceConnectionState":{"status":"Approved"}}}`, 404, "PrivateEndpointConnectionNotFound"},
		{"zone with a bad name", "PUT", netPath + "/privateDnsZones/local", dnsAPI, `{"location":"global"}`, 400, "InvalidResourceName"},
		{"zone outside global", "PUT", netPath + "/privateDnsZones/privatelink.api.azureml.ms", dnsAPI, `{"location":"eastus"}`, 400, "LocationNotAvailableForResourceType"},
		{"link to a missing zone", "PUT", zoneAPI + "/virtualNetworkLinks/l1", dnsAPI, `{"location":"global","properties":{"virtualNetwork":{"id":"` + vnetPath + `"}}}`, 404, "ParentResourceNotFound"},
		{"A record with a bad address", "PUT", zoneAPI + "/A/x", dnsAPI, `{"properties":{"aRecords":[{"ipv4Address":"10.0.0.300"}]}}`, 404, "ParentResourceNotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v.t = t
			v.Fail(c.method, c.path, c.api, c.body, c.status, c.code)
		})
	}
	v.t = t

	// With a zone in place, its children's own checks.
	v.Must(http.MethodPut, zoneAPI, dnsAPI, `{"location":"global"}`, http.StatusCreated)
	v.finish()
	v.Fail(http.MethodPut, zoneAPI+"/virtualNetworkLinks/l1", dnsAPI, `{"location":"global","properties":{"virtualNetwork":{"id":"`+netPath+`/virtualNetworks/nope"}}}`, 400, "InvalidResourceReference")
	v.Fail(http.MethodPut, zoneAPI+"/A/x", dnsAPI, `{"properties":{"aRecords":[{"ipv4Address":"10.0.0.300"}]}}`, 400, "InvalidRequestContent")
	v.Fail(http.MethodPut, zoneAPI+"/A/x", dnsAPI, `{"properties":{"ttl":"long"}}`, 400, "InvalidRequestContent")

	// Nothing was left behind: no private endpoint, no connection on the
	// workspace, no address claimed, the vnet unchanged.
	if list := v.Must(http.MethodGet, rgPath+"/providers/Microsoft.Network/privateEndpoints", netAPI, "", 200)["value"].([]any); len(list) != 0 {
		t.Fatalf("private endpoints left: %v", list)
	}
	if conns := v.workspaceConnections(); len(conns) != 0 {
		t.Fatalf("workspace connections left: %v", conns)
	}
	if ents, err := scanPrefix(context.Background(), v.e.Space(kv.SpaceNetwork), []byte(allClaimsPrefix)); err != nil || len(ents) != 0 {
		t.Fatalf("claims left: %d (%v)", len(ents), err)
	}
	if subs := v.Must(http.MethodGet, vnetPath+"/subnets", netAPI, "", 200)["value"].([]any); len(subs) != 1 {
		t.Fatalf("subnets = %v, want only default", subs)
	}
}

// TestNetworkPolicies: a subnet with private endpoint network policies
// enabled refuses private endpoints at api-versions before 2022-07-01.
func TestNetworkPolicies(t *testing.T) {
	v := newEnv(t)
	v.Must(http.MethodPut, vnetPath+"/subnets/policies", netAPI, `{"properties":{"addressPrefix":"10.0.2.0/24","privateEndpointNetworkPolicies":"Enabled"}}`, http.StatusCreated)
	body := peBody("eastus", vnetPath+"/subnets/policies", wsPath, "amlworkspace", false, "")
	v.Fail(http.MethodPut, netPath+"/privateEndpoints/old", "2021-05-01", body, 400, "PrivateEndpointCannotBeCreatedInSubnetThatHasNetworkPoliciesEnabled")
	v.Must(http.MethodPut, netPath+"/privateEndpoints/new", "2022-07-01", body, http.StatusCreated)
	// The default is Disabled, which old api-versions accept.
	sub := v.Must(http.MethodGet, subnetID, "2018-11-01", "", 200)
	if p := path(sub, "properties", "privateEndpointNetworkPolicies"); p != "Disabled" {
		t.Fatalf("default privateEndpointNetworkPolicies = %v", p)
	}
	v.Must(http.MethodPut, netPath+"/privateEndpoints/old", "2018-11-01", peBody("eastus", subnetID, wsPath, "amlworkspace", false, ""), http.StatusCreated)
}

// TestPrivateEndpointLifecycle: addresses, the network interface, the
// handshake in both directions, the in-use refusals and delete.
func TestPrivateEndpointLifecycle(t *testing.T) {
	v := newEnv(t)
	resp, err := v.Serve(http.MethodPut, netPath+"/privateEndpoints/pe1", netAPI, peBody("eastus", subnetID, wsPath, "amlworkspace", false, ""))
	if err != nil || resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("PUT pe1: %v %v, want 201 with Azure-AsyncOperation", resp, err)
	}
	if st := path(asJSON(t, resp.Body), "properties", "provisioningState"); st != "Creating" {
		t.Fatalf("provisioningState = %v, want Creating", st)
	}
	v.finish()
	pe1 := v.Must(http.MethodGet, netPath+"/privateEndpoints/pe1", netAPI, "", 200)
	if got := ips(pe1); !slices.Equal(got, []string{"10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7"}) {
		t.Fatalf("pe1 addresses = %v", got)
	}
	ws := v.Must(http.MethodGet, wsPath, mlAPI, "", 200)
	wsid := path(ws, "properties", "workspaceId").(string)
	var fqdns []string
	for _, c := range path(pe1, "properties", "customDnsConfigs").([]any) {
		fqdns = append(fqdns, path(c, "fqdn").(string))
	}
	want := []string{wsid + ".workspace.eastus.api.azureml.ms", wsid + ".workspace.eastus.cert.api.azureml.ms",
		"ml-ws1-eastus-" + wsid + ".eastus.notebooks.azure.net", "*." + wsid + ".inference.eastus.api.azureml.ms"}
	if !slices.Equal(fqdns, want) {
		t.Fatalf("fqdns = %v, want %v", fqdns, want)
	}
	if s := connectionStatus(pe1); s != "Approved" {
		t.Fatalf("pe1 connection = %s, want Approved", s)
	}
	if d := path(pe1, "properties", "privateLinkServiceConnections", "0", "properties", "privateLinkServiceConnectionState", "description"); d != "Auto-Approved" {
		t.Fatalf("pe1 description = %v", d)
	}
	nicID := path(pe1, "properties", "networkInterfaces", "0", "id").(string)
	if !strings.HasPrefix(nicID, netPath+"/networkInterfaces/pe1.nic.") {
		t.Fatalf("nic id = %s", nicID)
	}
	nic := v.Must(http.MethodGet, nicID, "2022-01-01", "", 200)
	if ip := path(nic, "properties", "ipConfigurations", "0", "properties", "privateIPAddress"); ip != "10.0.1.4" {
		t.Fatalf("nic first IP = %v", ip)
	}
	if id := path(nic, "properties", "privateEndpoint", "id"); id != netPath+"/privateEndpoints/pe1" {
		t.Fatalf("nic privateEndpoint = %v", id)
	}
	v.Fail(http.MethodPut, nicID, netAPI, `{"location":"eastus"}`, 400, "CannotModifyNicAttachedToPrivateEndpoint")
	v.Fail(http.MethodDelete, nicID, netAPI, "", 400, "CannotModifyNicAttachedToPrivateEndpoint")

	// The workspace side: one Approved connection named {pe}.{guid}.
	conns := v.workspaceConnections()
	if len(conns) != 1 || !strings.HasPrefix(path(conns[0], "name").(string), "pe1.") || len(path(conns[0], "name").(string)) != len("pe1.")+36 {
		t.Fatalf("workspace connections = %v", conns)
	}
	if s := path(conns[0], "properties", "privateLinkServiceConnectionState", "status"); s != "Approved" {
		t.Fatalf("workspace connection status = %v", s)
	}
	if n := path(v.Must(http.MethodGet, wsPath, mlAPI, "", 200), "properties", "privateLinkCount"); n != float64(1) {
		t.Fatalf("privateLinkCount = %v", n)
	}
	conn1 := path(conns[0], "id").(string)

	// Manual: Pending with the request message, until the owner approves.
	pe2 := v.createPE("pe2", true)
	if got := ips(pe2); !slices.Equal(got, []string{"10.0.1.8", "10.0.1.9", "10.0.1.10", "10.0.1.11"}) {
		t.Fatalf("pe2 addresses = %v", got)
	}
	if s := connectionStatus(pe2); s != "Pending" {
		t.Fatalf("pe2 = %s, want Pending", s)
	}
	if d := path(pe2, "properties", "manualPrivateLinkServiceConnections", "0", "properties", "privateLinkServiceConnectionState", "description"); d != "please" {
		t.Fatalf("pe2 description = %v", d)
	}
	endpoints := func() []string {
		t.Helper()
		eps, err := ApprovedEndpoints(context.Background(), v.e)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range eps {
			out = append(out, fmt.Sprintf("%s %s %s %s", e.ID.Name(), e.PrivateIP, e.TargetID.Name(), e.GroupID))
		}
		return out
	}
	if got := endpoints(); !slices.Equal(got, []string{"pe1 10.0.1.4 ws1 amlworkspace"}) {
		t.Fatalf("approved endpoints = %v", got)
	}
	var conn2 string
	for _, c := range v.workspaceConnections() {
		if strings.HasPrefix(path(c, "name").(string), "pe2.") {
			conn2 = path(c, "id").(string)
		}
	}
	v.Must(http.MethodPut, conn2, mlAPI, `{"properties":{"privateLinkServiceConnectionState":{"status":"Approved","description":"ok"}}}`, 200)
	if s := connectionStatus(v.Must(http.MethodGet, netPath+"/privateEndpoints/pe2", netAPI, "", 200)); s != "Approved" {
		t.Fatalf("pe2 after approval = %s", s)
	}
	if got := endpoints(); !slices.Equal(got, []string{"pe1 10.0.1.4 ws1 amlworkspace", "pe2 10.0.1.8 ws1 amlworkspace"}) {
		t.Fatalf("approved endpoints = %v", got)
	}
	// A re-PUT of the private endpoint does not reset the state.
	v.Must(http.MethodPut, netPath+"/privateEndpoints/pe2", netAPI, peBody("eastus", subnetID, wsPath, "amlworkspace", true, "again"), 200)
	v.finish()
	if s := connectionStatus(v.Must(http.MethodGet, netPath+"/privateEndpoints/pe2", netAPI, "", 200)); s != "Approved" {
		t.Fatalf("pe2 after re-PUT = %s", s)
	}
	v.Fail(http.MethodPut, netPath+"/privateEndpoints/pe2", netAPI, peBody("eastus", vnetPath+"/subnets/other", wsPath, "amlworkspace", true, ""), 400, "PropertyChangeNotAllowed")
	// Rejecting pe1 on the workspace shows on the private endpoint.
	v.Must(http.MethodPut, conn1, mlAPI, `{"properties":{"privateLinkServiceConnectionState":{"status":"Rejected"}}}`, 200)
	if s := connectionStatus(v.Must(http.MethodGet, netPath+"/privateEndpoints/pe1", netAPI, "", 200)); s != "Rejected" {
		t.Fatalf("pe1 after rejection = %s", s)
	}
	// Deleting the workspace's connection disconnects pe2.
	v.Must(http.MethodDelete, conn2, mlAPI, "", 200)
	if s := connectionStatus(v.Must(http.MethodGet, netPath+"/privateEndpoints/pe2", netAPI, "", 200)); s != "Disconnected" {
		t.Fatalf("pe2 after its connection's delete = %s", s)
	}
	if got := endpoints(); len(got) != 0 {
		t.Fatalf("approved endpoints = %v, want none", got)
	}

	// In use: the subnet and the vnet cannot go.
	ae := v.Fail(http.MethodDelete, subnetID, netAPI, "", 400, "InUseSubnetCannotBeDeleted")
	if !contains(ae.Message, "Subnet default is in use by "+nicID+"/ipConfigurations/privateEndpointIpConfig.") || !contains(ae.Message, "cannot be deleted") {
		t.Fatalf("message = %s", ae.Message)
	}
	v.Fail(http.MethodDelete, vnetPath, netAPI, "", 400, "InUseSubnetCannotBeDeleted")
	v.Fail(http.MethodPut, vnetPath, netAPI, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]}}}`, 400, "InUseSubnetCannotBeDeleted")
	v.Fail(http.MethodPut, subnetID, netAPI, `{"properties":{"addressPrefix":"10.0.1.0/25"}}`, 400, "InUseSubnetCannotBeUpdated")
	if sub := v.Must(http.MethodGet, subnetID, netAPI, "", 200); len(path(sub, "properties", "privateEndpoints").([]any)) != 2 {
		t.Fatalf("subnet privateEndpoints = %v", path(sub, "properties", "privateEndpoints"))
	}

	// Delete pe1: 202 with both headers; Deleting until done, then the NIC,
	// the workspace connection and the addresses are gone.
	resp, err = v.Serve(http.MethodDelete, netPath+"/privateEndpoints/pe1", netAPI, "")
	if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Azure-AsyncOperation") == "" || resp.Header.Get("Location") == "" {
		t.Fatalf("DELETE pe1: %v %v", resp, err)
	}
	v.Must(http.MethodGet, nicID, netAPI, "", 200)
	v.finish()
	v.Fail(http.MethodGet, nicID, netAPI, "", 404, "ResourceNotFound")
	for _, c := range v.workspaceConnections() {
		if path(c, "id") == conn1 {
			t.Fatalf("pe1's workspace connection survived its delete")
		}
	}
	// Addresses are reused only once free: pe3 gets pe1's, never pe2's.
	pe3 := v.createPE("pe3", false)
	if got := ips(pe3); !slices.Equal(got, []string{"10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7"}) {
		t.Fatalf("pe3 addresses = %v", got)
	}
	// The subnet is free once its private endpoints are gone.
	for _, name := range []string{"pe2", "pe3"} {
		v.Must(http.MethodDelete, netPath+"/privateEndpoints/"+name, netAPI, "", http.StatusAccepted)
	}
	v.finish()
	v.Must(http.MethodDelete, subnetID, netAPI, "", http.StatusAccepted)
	v.Fail(http.MethodGet, subnetID, netAPI, "", 404, "ResourceNotFound")
	if conns := v.workspaceConnections(); len(conns) != 0 {
		t.Fatalf("workspace connections left: %v", conns)
	}
}

// TestSubnetsBothWays: the inline array and the child type are one source.
func TestSubnetsBothWays(t *testing.T) {
	v := newEnv(t)
	resp, err := v.Serve(http.MethodPut, vnetPath+"/subnets/s2", netAPI, `{"properties":{"addressPrefix":"10.0.2.0/24"}}`)
	if err != nil || resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("PUT subnet: %v %v", resp, err)
	}
	vnet := v.Must(http.MethodGet, vnetPath, netAPI, "", 200)
	subs := path(vnet, "properties", "subnets").([]any)
	if len(subs) != 2 || path(subs[1], "id") != vnetPath+"/subnets/s2" || path(subs[1], "type") != TypeSubnets {
		t.Fatalf("vnet subnets = %v", subs)
	}
	// A vnet PUT that changes s2 shows through the child type.
	vnet["properties"].(map[string]any)["subnets"].([]any)[1].(map[string]any)["properties"].(map[string]any)["addressPrefix"] = "10.0.3.0/24"
	v.Must(http.MethodPut, vnetPath, netAPI, mustJSON(t, vnet), http.StatusOK)
	if p := path(v.Must(http.MethodGet, vnetPath+"/subnets/s2", netAPI, "", 200), "properties", "addressPrefix"); p != "10.0.3.0/24" {
		t.Fatalf("s2 prefix = %v", p)
	}
	// Deleting through the child type removes it from the vnet.
	resp, err = v.Serve(http.MethodDelete, vnetPath+"/subnets/s2", netAPI, "")
	if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("DELETE subnet: %v %v", resp, err)
	}
	if subs := path(v.Must(http.MethodGet, vnetPath, netAPI, "", 200), "properties", "subnets").([]any); len(subs) != 1 {
		t.Fatalf("vnet subnets after delete = %v", subs)
	}
	v.Must(http.MethodDelete, vnetPath+"/subnets/s2", netAPI, "", http.StatusNoContent)
	// Two vnets may overlap each other (Azure allows it until peering).
	v.Must(http.MethodPut, netPath+"/virtualNetworks/vnet2", netAPI, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]}}}`, http.StatusCreated)
}

// TestAddressesNeverShared: private endpoints created at once in one
// subnet get distinct addresses; a full subnet refuses the next one.
func TestAddressesNeverShared(t *testing.T) {
	v := newEnv(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = v.Serve(http.MethodPut, fmt.Sprintf("%s/privateEndpoints/c%d", netPath, i), netAPI, peBody("eastus", subnetID, wsPath, "amlworkspace", false, ""))
		}()
	}
	wg.Wait()
	seen := map[string]string{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("c%d: %v", i, errs[i])
		}
		for _, ip := range ips(v.Must(http.MethodGet, fmt.Sprintf("%s/privateEndpoints/c%d", netPath, i), netAPI, "", 200)) {
			if other, dup := seen[ip]; dup {
				t.Fatalf("%s given to c%d and %s", ip, i, other)
			}
			seen[ip] = fmt.Sprintf("c%d", i)
		}
	}
	if len(seen) != 4*n {
		t.Fatalf("%d addresses, want %d", len(seen), 4*n)
	}
	// A /29 has three usable addresses: not enough for a workspace's four.
	v.Must(http.MethodPut, vnetPath+"/subnets/tiny", netAPI, `{"properties":{"addressPrefix":"10.0.9.0/29"}}`, http.StatusCreated)
	v.Fail(http.MethodPut, netPath+"/privateEndpoints/full", netAPI, peBody("eastus", vnetPath+"/subnets/tiny", wsPath, "amlworkspace", false, ""), 400, "SubnetIsFull")
}

// TestResourceManagementPrivateLink: the state of a connection to a
// resourceManagementPrivateLink lives on the private endpoint.
func TestResourceManagementPrivateLink(t *testing.T) {
	v := newEnv(t)
	v.Must(http.MethodPut, rmplPath, "2020-05-01", `{"location":"eastus"}`, http.StatusCreated)
	v.Fail(http.MethodPut, netPath+"/privateEndpoints/arm", netAPI, peBody("eastus", subnetID, rmplPath, "amlworkspace", false, ""), 400, "PrivateEndpointBadRequest")
	v.Fail(http.MethodPut, netPath+"/privateEndpoints/arm", netAPI, peBody("eastus", subnetID, wsPath, "ResourceManagement", false, ""), 400, "PrivateEndpointBadRequest")
	v.Must(http.MethodPut, netPath+"/privateEndpoints/arm", netAPI, peBody("eastus", subnetID, rmplPath, "ResourceManagement", false, ""), http.StatusCreated)
	v.Must(http.MethodPut, netPath+"/privateEndpoints/armmanual", netAPI, peBody("eastus", subnetID, rmplPath, "ResourceManagement", true, "let me in"), http.StatusCreated)
	v.finish()
	auto := v.Must(http.MethodGet, netPath+"/privateEndpoints/arm", netAPI, "", 200)
	if s := connectionStatus(auto); s != "Approved" {
		t.Fatalf("automatic = %s", s)
	}
	if got := ips(auto); !slices.Equal(got, []string{"10.0.1.4"}) || path(auto, "properties", "customDnsConfigs", "0", "fqdn") != "management.azure.com" {
		t.Fatalf("dns configs = %v", path(auto, "properties", "customDnsConfigs"))
	}
	if s := connectionStatus(v.Must(http.MethodGet, netPath+"/privateEndpoints/armmanual", netAPI, "", 200)); s != "Pending" {
		t.Fatalf("manual = %s", s)
	}
	eps, err := ApprovedEndpoints(context.Background(), v.e)
	if err != nil || len(eps) != 1 || eps[0].GroupID != "ResourceManagement" || eps[0].PrivateIP != "10.0.1.4" || !eps[0].TargetID.Equal(mustID(t, rmplPath)) {
		t.Fatalf("approved endpoints = %+v (%v)", eps, err)
	}
	if len(v.workspaceConnections()) != 0 {
		t.Fatal("a private link connection reached the workspace")
	}
	v.Must(http.MethodDelete, rmplPath, "2020-05-01", "", http.StatusOK)
	if s := connectionStatus(v.Must(http.MethodGet, netPath+"/privateEndpoints/arm", netAPI, "", 200)); s != "Disconnected" {
		t.Fatalf("after the private link's delete = %s", s)
	}
}

// TestDNSZoneGroup: a zone group writes the A records of the private
// endpoint's FQDNs into its zones, and its delete (or the private
// endpoint's) removes exactly them.
func TestDNSZoneGroup(t *testing.T) {
	v := newEnv(t)
	for _, z := range []string{zoneAPI, zoneNb} {
		v.Must(http.MethodPut, z, dnsAPI, `{"location":"global"}`, http.StatusCreated)
	}
	v.finish()
	link := v.Must(http.MethodPut, zoneAPI+"/virtualNetworkLinks/link1", dnsAPI, `{"location":"global","properties":{"virtualNetwork":{"id":"`+vnetPath+`"},"registrationEnabled":false}}`, http.StatusCreated)
	if path(link, "properties", "virtualNetworkLinkState") != "Completed" {
		t.Fatalf("link = %v", link)
	}
	v.Fail(http.MethodPut, zoneAPI+"/virtualNetworkLinks/link2", dnsAPI, `{"location":"global","properties":{"virtualNetwork":{"id":"`+vnetPath+`"}}}`, 409, "Conflict")
	v.Must(http.MethodPut, zoneAPI+"/A/manual", dnsAPI, `{"properties":{"ttl":300,"aRecords":[{"ipv4Address":"10.0.0.9"}]}}`, http.StatusCreated)
	v.createPE("pe1", false)
	wsid := path(v.Must(http.MethodGet, wsPath, mlAPI, "", 200), "properties", "workspaceId").(string)
	group := netPath + "/privateEndpoints/pe1/privateDnsZoneGroups/default"
	v.Fail(http.MethodPut, group, netAPI, `{"properties":{"privateDnsZoneConfigs":[{"name":"x","properties":{"privateDnsZoneId":"`+netPath+`/privateDnsZones/nope.example.com"}}]}}`, 400, "InvalidResourceReference")
	body := `{"properties":{"privateDnsZoneConfigs":[{"name":"api","properties":{"privateDnsZoneId":"` + zoneAPI + `"}},{"name":"nb","properties":{"privateDnsZoneId":"` + zoneNb + `"}}]}}`
	resp, err := v.Serve(http.MethodPut, group, netAPI, body)
	if err != nil || resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("PUT zone group: %v %v", resp, err)
	}
	v.Fail(http.MethodPut, netPath+"/privateEndpoints/pe1/privateDnsZoneGroups/second", netAPI, body, 400, "PrivateDnsZoneGroupLimitReached")
	records := func(zone string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, r := range v.Must(http.MethodGet, zone+"/A", dnsAPI, "", 200)["value"].([]any) {
			out[path(r, "name").(string)] = path(r, "properties", "aRecords", "0", "ipv4Address").(string)
		}
		return out
	}
	wantAPI := map[string]string{
		wsid + ".workspace.eastus": "10.0.1.4", wsid + ".workspace.eastus.cert": "10.0.1.5",
		"*." + wsid + ".inference.eastus": "10.0.1.7", "manual": "10.0.0.9",
	}
	if got := records(zoneAPI); fmt.Sprint(got) != fmt.Sprint(wantAPI) {
		t.Fatalf("api zone records = %v, want %v", got, wantAPI)
	}
	if got := records(zoneNb); fmt.Sprint(got) != fmt.Sprint(map[string]string{"ml-ws1-eastus-" + wsid + ".eastus": "10.0.1.6"}) {
		t.Fatalf("notebook zone records = %v", got)
	}
	g := v.Must(http.MethodGet, group, netAPI, "", 200)
	if sets := path(g, "properties", "privateDnsZoneConfigs", "0", "properties", "recordSets").([]any); len(sets) != 3 || path(sets[0], "fqdn") != wsid+".workspace.eastus.privatelink.api.azureml.ms" {
		t.Fatalf("record sets = %v", sets)
	}
	if fqdn := path(v.Must(http.MethodGet, zoneAPI+"/A/"+wsid+".workspace.eastus", dnsAPI, "", 200), "properties", "fqdn"); fqdn != wsid+".workspace.eastus.privatelink.api.azureml.ms." {
		t.Fatalf("record fqdn = %v", fqdn)
	}
	if n := path(v.Must(http.MethodGet, zoneAPI, dnsAPI, "", 200), "properties", "numberOfRecordSets"); n != float64(5) {
		t.Fatalf("numberOfRecordSets = %v", n)
	}

	// Dropping a zone from the group removes its records there.
	v.finish()
	v.Must(http.MethodPut, group, netAPI, `{"properties":{"privateDnsZoneConfigs":[{"name":"api","properties":{"privateDnsZoneId":"`+zoneAPI+`"}}]}}`, http.StatusOK)
	if got := records(zoneNb); len(got) != 0 {
		t.Fatalf("notebook zone records after dropping it = %v", got)
	}
	// Deleting the group removes its records, not the client's.
	v.finish()
	v.Must(http.MethodDelete, group, netAPI, "", http.StatusAccepted)
	v.finish()
	if got := records(zoneAPI); fmt.Sprint(got) != fmt.Sprint(map[string]string{"manual": "10.0.0.9"}) {
		t.Fatalf("api zone records after the group's delete = %v", got)
	}
	// So does deleting the private endpoint.
	v.Must(http.MethodPut, group, netAPI, body, http.StatusCreated)
	v.finish()
	if got := records(zoneAPI); len(got) != 4 {
		t.Fatalf("records = %v", got)
	}
	v.Must(http.MethodDelete, netPath+"/privateEndpoints/pe1", netAPI, "", http.StatusAccepted)
	v.finish()
	if got := records(zoneAPI); fmt.Sprint(got) != fmt.Sprint(map[string]string{"manual": "10.0.0.9"}) {
		t.Fatalf("api zone records after the private endpoint's delete = %v", got)
	}
	if got := records(zoneNb); len(got) != 0 {
		t.Fatalf("notebook zone records after the private endpoint's delete = %v", got)
	}
}

// TestResourceGroupDeleteDisconnects: a private endpoint deleted with its
// resource group releases the workspace connection in another group.
func TestResourceGroupDeleteDisconnects(t *testing.T) {
	v := newEnv(t)
	rg2 := "/subscriptions/" + testSub + "/resourceGroups/rg2"
	v.Must(http.MethodPut, rg2, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	v.Must(http.MethodPut, rg2+"/providers/Microsoft.Network/privateEndpoints/pe", netAPI, peBody("eastus", subnetID, wsPath, "amlworkspace", false, ""), http.StatusCreated)
	v.finish()
	if len(v.workspaceConnections()) != 1 {
		t.Fatal("no workspace connection")
	}
	v.Must(http.MethodDelete, rg2, "2021-04-01", "", http.StatusAccepted)
	v.finish()
	if conns := v.workspaceConnections(); len(conns) != 0 {
		t.Fatalf("workspace connections after the group's delete = %v", conns)
	}
	// Its subnet is free again.
	v.Must(http.MethodDelete, subnetID, netAPI, "", http.StatusAccepted)
}

// TestSOARecordSet: every private DNS zone has the SOA record set "@",
// with Azure's defaults for a private zone; PUT replaces its writable
// members, PATCH changes those it names, it cannot be deleted, it goes
// with its zone, and no other SOA name exists.
func TestSOARecordSet(t *testing.T) {
	v := newEnv(t)
	v.Must(http.MethodPut, zoneAPI, dnsAPI, `{"location":"global"}`, http.StatusCreated)
	v.finish()
	soa := zoneAPI + "/SOA/@"
	got := v.Must(http.MethodGet, soa, dnsAPI, "", http.StatusOK)
	if got["name"] != "@" || got["type"] != TypeSOARecords || path(got, "properties", "fqdn") != "privatelink.api.azureml.ms." ||
		fmt.Sprint(path(got, "properties", "soaRecord", "email")) != "azureprivatedns-host.microsoft.com" ||
		path(got, "properties", "soaRecord", "expireTime") != float64(2419200) || path(got, "properties", "ttl") != float64(3600) {
		t.Fatalf("SOA = %v", got)
	}
	if list := v.Must(http.MethodGet, zoneAPI+"/SOA", dnsAPI, "", http.StatusOK)["value"].([]any); len(list) != 1 {
		t.Fatalf("SOA list = %v", list)
	}
	got = v.Must(http.MethodPut, soa, dnsAPI, `{"properties":{"ttl":600,"soaRecord":{"email":"ops.example.com","retryTime":120}}}`, http.StatusOK)
	if path(got, "properties", "ttl") != float64(600) || path(got, "properties", "soaRecord", "retryTime") != float64(120) ||
		fmt.Sprint(path(got, "properties", "soaRecord", "email")) != "ops.example.com" {
		t.Fatalf("SOA after PUT = %v", got)
	}
	got = v.Must(http.MethodPatch, soa, dnsAPI, `{"properties":{"soaRecord":{"minimumTtl":30}}}`, http.StatusOK)
	if path(got, "properties", "soaRecord", "minimumTtl") != float64(30) || path(got, "properties", "ttl") != float64(600) {
		t.Fatalf("SOA after PATCH = %v", got)
	}
	got = v.Must(http.MethodPut, soa, dnsAPI, `{"properties":{"soaRecord":{"email":"ops.example.com"}}}`, http.StatusOK)
	if path(got, "properties", "ttl") != float64(3600) || path(got, "properties", "soaRecord", "minimumTtl") != float64(10) {
		t.Fatalf("a PUT keeps what it does not name: %v", got)
	}
	v.Fail(http.MethodPut, soa, dnsAPI, `{"properties":{"ttl":-1}}`, http.StatusBadRequest, "InvalidRequestContent")
	v.Fail(http.MethodPut, soa, dnsAPI, `{"properties":{"colour":"red"}}`, http.StatusBadRequest, "InvalidRequestContent")
	v.Fail(http.MethodDelete, soa, dnsAPI, "", http.StatusMethodNotAllowed, "MethodNotAllowed")
	v.Fail(http.MethodGet, zoneAPI+"/SOA/other", dnsAPI, "", http.StatusNotFound, "ResourceNotFound")
	v.Fail(http.MethodGet, netPath+"/privateDnsZones/nope.example.com/SOA/@", dnsAPI, "", http.StatusNotFound, "ParentResourceNotFound")
}
