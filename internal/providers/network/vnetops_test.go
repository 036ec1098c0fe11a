package network

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine/enginetest"
)

// TestVirtualNetworkUsagesAndIPAvailability: the subnet's usage counts the
// addresses private endpoints hold against its usable ones, and
// CheckIPAddressAvailability answers from the same claims and Azure's
// reserved addresses.
func TestVirtualNetworkUsagesAndIPAvailability(t *testing.T) {
	v := newEnv(t)
	pe := v.createPE("pe1", false)
	held := ips(pe)
	if len(held) == 0 {
		t.Fatal("the private endpoint holds no address")
	}
	usages := v.Must(http.MethodGet, vnetPath+"/usages", netAPI, "", http.StatusOK)
	u, _ := path(usages, "value", "0").(map[string]any)
	if u == nil || u["id"] != subnetID || fmt.Sprint(u["currentValue"]) != fmt.Sprint(len(held)) || fmt.Sprint(u["limit"]) != "251" ||
		path(u, "name", "value") != "SubnetSpace" || u["unit"] != "Count" {
		t.Fatalf("usages = %s", mustJSON(t, usages))
	}
	check := func(ip string) map[string]any {
		return v.Must(http.MethodGet, vnetPath+"/CheckIPAddressAvailability?ipAddress="+ip, netAPI, "", http.StatusOK)
	}
	tests := []struct {
		ip        string
		available bool
		reserved  bool
	}{
		{held[0], false, false},
		{"10.0.1.200", true, false},
		{"10.0.1.1", false, true},   // the default gateway
		{"10.0.1.255", false, true}, // broadcast
		{"10.0.9.9", false, false},  // the address space, no subnet
	}
	for _, tc := range tests {
		got := check(tc.ip)
		if got["available"] != tc.available || !tc.available && got["isPlatformReserved"] != tc.reserved {
			t.Errorf("%s: %s", tc.ip, mustJSON(t, got))
		}
		free, _ := got["availableIPAddresses"].([]any)
		if !tc.available && tc.ip != "10.0.9.9" && (len(free) == 0 || slices.Contains(free, any(held[0]))) {
			t.Errorf("%s: suggestions %v must be free addresses of the subnet", tc.ip, free)
		}
	}
	for _, bad := range []string{"10.1.0.4", "not-an-ip", "::1"} {
		resp, err := v.Serve(http.MethodGet, vnetPath+"/CheckIPAddressAvailability?ipAddress="+bad, netAPI, "")
		if err == nil || resp != nil && resp.Status < 400 {
			t.Errorf("%s: %v %v, want 400", bad, resp, err)
		}
	}
}

// pollAction follows a 202 action's Location once its operation has
// ended and returns the result (nil when it has none).
func (v *env) pollAction(status int, location string) map[string]any {
	v.t.Helper()
	if status != http.StatusAccepted || location == "" {
		v.t.Fatalf("action: status %d, Location %q, want 202 with a Location", status, location)
	}
	v.finish()
	return v.Must(http.MethodGet, strings.TrimPrefix(location, enginetest.BaseURL), "", "", http.StatusOK)
}

// TestSubnetNetworkPolicies: Prepare/UnprepareNetworkPolicies are
// long-running POSTs on an existing subnet whose body is checked, and
// change nothing a client reads.
func TestSubnetNetworkPolicies(t *testing.T) {
	v := newEnv(t)
	before := v.Must(http.MethodGet, subnetID, netAPI, "", http.StatusOK)
	prepare := `{"serviceName":"Microsoft.Sql/managedInstances","networkIntentPolicyConfigurations":[{"networkIntentPolicyName":"nip",
		"sourceNetworkIntentPolicy":{"id":"/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/networkIntentPolicies/src","location":"eastus","tags":{}}}]}`
	for _, tc := range []struct{ action, body string }{
		{"PrepareNetworkPolicies", prepare},
		{"prepareNetworkPolicies", `{"serviceName":"Microsoft.Sql/managedInstances"}`},
		{"UnprepareNetworkPolicies", `{"serviceName":"Microsoft.Sql/managedInstances"}`},
	} {
		resp, err := v.Serve(http.MethodPost, subnetID+"/"+tc.action, netAPI, tc.body)
		if err != nil {
			t.Fatalf("%s: %v", tc.action, err)
		}
		if resp.Header.Get("Azure-AsyncOperation") == "" {
			t.Fatalf("%s: no Azure-AsyncOperation header", tc.action)
		}
		v.pollAction(resp.Status, resp.Header.Get("Location"))
	}
	if after := v.Must(http.MethodGet, subnetID, netAPI, "", http.StatusOK); mustJSON(t, path(after, "properties")) != mustJSON(t, path(before, "properties")) {
		t.Fatalf("the subnet changed: %s, was %s", mustJSON(t, after), mustJSON(t, before))
	}
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"missing subnet", vnetPath + "/subnets/nope/PrepareNetworkPolicies", `{}`, 404, "ResourceNotFound"},
		{"missing vnet", netPath + "/virtualNetworks/nope/subnets/default/PrepareNetworkPolicies", `{}`, 404, "ParentResourceNotFound"},
		{"no body", subnetID + "/PrepareNetworkPolicies", ``, 400, "InvalidRequestContent"},
		{"unknown member", subnetID + "/UnprepareNetworkPolicies", `{"serviceName":"x","networkIntentPolicyConfigurations":[]}`, 400, "InvalidRequestContent"},
		{"serviceName not a string", subnetID + "/PrepareNetworkPolicies", `{"serviceName":1}`, 400, "InvalidRequestContent"},
		{"configuration not an object", subnetID + "/PrepareNetworkPolicies", `{"networkIntentPolicyConfigurations":["x"]}`, 400, "InvalidRequestContent"},
		{"unknown action", subnetID + "/Wipe", `{}`, 400, "InvalidResourceType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := v.Serve(http.MethodPost, tc.path, netAPI, tc.body)
			if err == nil {
				t.Fatalf("status %d, want %d %s", resp.Status, tc.status, tc.code)
			}
			ae, ok := arm.AsError(err)
			if !ok || ae.Status != tc.status || ae.Code != tc.code {
				t.Fatalf("error %v, want %d %s", err, tc.status, tc.code)
			}
		})
	}
}

// TestVirtualNetworkDdosProtectionStatus: a long-running POST whose
// result lists the public IP addresses of the virtual network: none, as
// armlet has none.
func TestVirtualNetworkDdosProtectionStatus(t *testing.T) {
	v := newEnv(t)
	resp, err := v.Serve(http.MethodPost, vnetPath+"/ddosProtectionStatus?top=75", netAPI, "")
	if err != nil {
		t.Fatal(err)
	}
	got := v.pollAction(resp.Status, resp.Header.Get("Location"))
	if value, ok := got["value"].([]any); !ok || len(value) != 0 {
		t.Fatalf("result = %s, want an empty value", mustJSON(t, got))
	}
	for _, top := range []string{"0", "-1", "x", "4294967296"} {
		v.Fail(http.MethodPost, vnetPath+"/ddosProtectionStatus?top="+top, netAPI, "", 400, "InvalidParameter")
	}
	v.Fail(http.MethodPost, vnetPath+"/nope", netAPI, "", 400, "InvalidResourceType")
}

// TestVirtualNetworkBgpCommunities: regionalCommunity is the region's,
// read-only (a client's copy is replaced), and virtualNetworkCommunity is
// required.
func TestVirtualNetworkBgpCommunities(t *testing.T) {
	v := newEnv(t)
	body := func(location, bgp string) string {
		return `{"location":"` + location + `","properties":{"addressSpace":{"addressPrefixes":["10.9.0.0/16"]},"bgpCommunities":` + bgp + `}}`
	}
	for _, tc := range []struct{ location, want string }{
		{"eastus", "12076:50004"}, // Azure's example
		{"West Europe", "12076:50002"},
	} {
		v.Must(http.MethodPut, netPath+"/virtualNetworks/bgp", netAPI, body(tc.location, `{"virtualNetworkCommunity":"12076:20000","regionalCommunity":"1:1"}`), http.StatusCreated)
		got := v.Must(http.MethodGet, netPath+"/virtualNetworks/bgp", netAPI, "", http.StatusOK)
		if c := path(got, "properties", "bgpCommunities", "regionalCommunity"); c != tc.want {
			t.Fatalf("%s: regionalCommunity = %v, want %s", tc.location, c, tc.want)
		}
		v.Must(http.MethodDelete, netPath+"/virtualNetworks/bgp", netAPI, "", http.StatusAccepted)
		v.finish()
	}
	if a, b := regionalCommunity("westus3"), regionalCommunity("West US 3"); a != b || !strings.HasPrefix(a, "12076:59") {
		t.Fatalf("a region outside the table: %s and %s, want one stable 12076:59xxx", a, b)
	}
	v.Fail(http.MethodPut, netPath+"/virtualNetworks/bgp", netAPI, body("eastus", `{}`), 400, "InvalidRequestContent")
	v.Fail(http.MethodPut, netPath+"/virtualNetworks/bgp", netAPI, body("eastus", `{"virtualNetworkCommunity":1}`), 400, "InvalidRequestContent")
	v.Fail(http.MethodPut, netPath+"/virtualNetworks/bgp", netAPI, body("eastus", `{"virtualNetworkCommunity":"12076:20000","x":1}`), 400, "InvalidRequestContent")
}
