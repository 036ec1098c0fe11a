package network

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
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
