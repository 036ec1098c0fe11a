package network

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnnamedConnection: a private endpoint's connection name is optional
// (Azure's create examples omit it); an unnamed one takes the private
// endpoint's name, and a named one keeps its own.
func TestUnnamedConnection(t *testing.T) {
	v := newEnv(t)
	for _, tc := range []struct{ pe, body, want string }{
		{"pe-unnamed", strings.Replace(peBody("eastus", subnetID, wsPath, "amlworkspace", false, ""), `"name":"conn",`, "", 1), "pe-unnamed"},
		{"pe-manual", strings.Replace(peBody("eastus", subnetID, wsPath, "amlworkspace", true, "please"), `"name":"conn",`, "", 1), "pe-manual"},
		{"pe-named", peBody("eastus", subnetID, wsPath, "amlworkspace", false, ""), "conn"},
	} {
		v.Must(http.MethodPut, netPath+"/privateEndpoints/"+tc.pe, netAPI, tc.body, http.StatusCreated)
		v.finish()
		pe := v.Must(http.MethodGet, netPath+"/privateEndpoints/"+tc.pe, netAPI, "", http.StatusOK)
		key := "privateLinkServiceConnections"
		if tc.pe == "pe-manual" {
			key = "manualPrivateLinkServiceConnections"
		}
		if got := path(pe, "properties", key, "0", "name"); got != tc.want {
			t.Errorf("%s: connection name = %v, want %s", tc.pe, got, tc.want)
		}
	}
	// An explicit empty name is still refused.
	bad := strings.Replace(peBody("eastus", subnetID, wsPath, "amlworkspace", false, ""), `"name":"conn"`, `"name":""`, 1)
	if _, err := v.Serve(http.MethodPut, netPath+"/privateEndpoints/pe-empty", netAPI, bad); err == nil || !strings.Contains(err.Error(), "InvalidResourceName") {
		t.Errorf("empty connection name: %v, want InvalidResourceName", err)
	}
}

// TestSubnetComputedMembers: a subnet answers the members Azure computes:
// ipConfigurations, resourceNavigationLinks, each delegation's id, type,
// actions and provisioningState, the subnet's purpose, and each service
// endpoint's locations and provisioningState.
func TestSubnetComputedMembers(t *testing.T) {
	v := newEnv(t)
	sn := v.Must(http.MethodPut, vnetPath+"/subnets/del", netAPI, `{"properties":{"addressPrefix":"10.0.9.0/24",
		"delegations":[{"name":"myDelegation","properties":{"serviceName":"Microsoft.Sql/managedInstances"}}],
		"serviceEndpoints":[{"service":"Microsoft.Storage"}]}}`, http.StatusCreated)
	v.finish()
	sn = v.Must(http.MethodGet, vnetPath+"/subnets/del", netAPI, "", http.StatusOK)
	want := map[string]any{
		"properties/delegations/0/id":                           vnetPath + "/subnets/del/delegations/myDelegation",
		"properties/delegations/0/type":                         "Microsoft.Network/virtualNetworks/subnets/delegations",
		"properties/delegations/0/properties/provisioningState": "Succeeded",
		"properties/delegations/0/properties/actions/0":         "Microsoft.Network/virtualNetworks/subnets/join/action",
		"properties/purpose":                                    "Microsoft.Sql/managedInstances",
		"properties/serviceEndpoints/0/locations/0":             "eastus",
		"properties/serviceEndpoints/0/provisioningState":       "Succeeded",
	}
	for p, w := range want {
		if got := path(sn, strings.Split(p, "/")...); got != w {
			t.Errorf("%s = %v, want %v", p, got, w)
		}
	}
	for _, k := range []string{"ipConfigurations", "resourceNavigationLinks"} {
		if _, ok := path(sn, "properties", k).([]any); !ok {
			t.Errorf("properties.%s = %v, want an array", k, path(sn, "properties", k))
		}
	}
	// A private endpoint's NIC configuration is listed in its subnet.
	v.createPE("pe1", false)
	def := v.Must(http.MethodGet, vnetPath+"/subnets/default", netAPI, "", http.StatusOK)
	if cfgs, _ := path(def, "properties", "ipConfigurations").([]any); len(cfgs) != 1 {
		t.Errorf("default subnet ipConfigurations = %v, want the private endpoint's", cfgs)
	}
}
