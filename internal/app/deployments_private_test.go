package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/netmodel"
)

// TestDeploymentThroughPrivateARM deploys through a Resource Management
// private endpoint's listener: the resources the deployment writes are
// recorded as private, through that endpoint, as the deployment's own
// request was.
func TestDeploymentThroughPrivateARM(t *testing.T) {
	t.Parallel()
	fake := &e2e.FakeEndpoints{}
	s := e2e.Start(t, e2e.WithApp(app.WithEndpointSource(fake.Source)))
	sub := s.Conn.SubscriptionID
	pe := netmodel.Endpoint{
		ID:        enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Network/privateEndpoints/pe-arm"),
		PrivateIP: "10.1.0.4", GroupID: "ResourceManagement",
		TargetID: enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl"),
	}
	fake.Set(pe)
	addr := s.WaitEndpoints(t, 1)[0].Address
	group := s.CreateGroup(t, "deploy-private")
	path := group + "/providers/Microsoft.Resources/deployments/private"
	body := `{"properties":{"mode":"Incremental","template":{"resources":[
		{"type":"Microsoft.ManagedIdentity/userAssignedIdentities","apiVersion":"2023-01-31","name":"pid","location":"eastus"}]}}}`
	req, err := http.NewRequest(http.MethodPut, "https://"+addr+path+"?api-version=2022-09-01", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token(t))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT through private ARM: %d", resp.StatusCode)
	}
	e2e.WaitFor(t, "the private deployment", func() bool {
		_, _, got := s.Do(t, "GET", path+"?api-version=2022-09-01", "", nil)
		return strings.Contains(got, `"provisioningState":"Succeeded"`)
	})
	flows, _ := s.FlowRecords(t, "")
	found := false
	for _, f := range flows {
		if f.Deployment != "" && f.Method == "PUT" && strings.HasSuffix(f.ResourceID, "/userAssignedIdentities/pid") {
			found = true
			if f.Class != netmodel.ARMPrivate || f.PrivateEndpointID != pe.ID.String() {
				t.Errorf("the deployment's identity write: class %s, private endpoint %q", f.Class, f.PrivateEndpointID)
			}
		}
	}
	if !found {
		t.Errorf("no flow record of the deployment's identity write: %+v", flows)
	}
}
