package app_test

import (
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/e2e"
)

// TestPolicyNotOnVirtualChildTypes holds the README's "policies do not
// run on virtual child types (outbound rules, subnets)": a deny that
// matches every subnet by type refuses nothing when a subnet is written
// as a resource of its own, while the same deny by the virtual network's
// type refuses the network.
func TestPolicyNotOnVirtualChildTypes(t *testing.T) {
	s := e2e.Start(t)
	sub := "/subscriptions/" + s.Conn.SubscriptionID
	rg := s.CreateGroup(t, "polvirtual")
	deny := func(name, typ string) {
		t.Helper()
		def := sub + "/providers/Microsoft.Authorization/policyDefinitions/" + name
		body := `{"properties":{"mode":"All","policyRule":{"if":{"field":"type","equals":"` + typ + `"},"then":{"effect":"deny"}}}}`
		if code, _, out := s.Do(t, "PUT", def+"?api-version=2021-06-01", body, nil); code >= 300 {
			t.Fatalf("PUT definition %s = %d %s", name, code, out)
		}
		if code, _, out := s.Do(t, "PUT", rg+"/providers/Microsoft.Authorization/policyAssignments/"+name+"?api-version=2022-06-01",
			`{"properties":{"policyDefinitionId":"`+def+`"}}`, nil); code >= 300 {
			t.Fatalf("PUT assignment %s = %d %s", name, code, out)
		}
	}
	vnet := rg + "/providers/Microsoft.Network/virtualNetworks/vnet1"
	const vnetBody = `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]}}}`
	if code, _, out := s.Do(t, "PUT", vnet+"?api-version=2024-05-01", vnetBody, nil); code >= 300 {
		t.Fatalf("PUT vnet = %d %s", code, out)
	}
	deny("no-subnets", "Microsoft.Network/virtualNetworks/subnets")
	if code, _, out := s.Do(t, "PUT", vnet+"/subnets/s1?api-version=2024-05-01", `{"properties":{"addressPrefix":"10.0.1.0/24"}}`, nil); code >= 300 {
		t.Errorf("a deny on the subnet type refused a subnet, a virtual child type: %d %s", code, out)
	}
	deny("no-vnets", "Microsoft.Network/virtualNetworks")
	if code, _, out := s.Do(t, "PUT", rg+"/providers/Microsoft.Network/virtualNetworks/vnet2?api-version=2024-05-01", vnetBody, nil); code != http.StatusForbidden {
		t.Errorf("the same deny on the virtual network's type: %d %s, want 403 (else this test proves nothing)", code, out)
	}
}
