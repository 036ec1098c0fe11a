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
