package app_test

import (
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// TestGoSDKPublicCloudThroughProxy: azure-sdk-for-go with its built-in
// public cloud (cloud.AzurePublic: login.microsoftonline.com and
// management.azure.com, MSAL's instance discovery included) and nothing
// changed but the proxy and trust in armlet's CA, as HTTPS_PROXY and a CA
// bundle give a client: it signs in, creates a resource group and a
// workspace, and the flows are recorded as public ARM calls. Other hosts
// of Azure's are refused by name.
func TestGoSDKPublicCloudThroughProxy(t *testing.T) {
	s := e2e.Start(t)
	if s.Conn.HTTPSProxy == "" {
		t.Fatal("connection.json has no httpsProxy")
	}
	client := proxiedClient(t, s)
	opts := policy.ClientOptions{Cloud: cloud.AzurePublic, Transport: client}
	cred, err := azidentity.NewClientSecretCredential(s.Conn.TenantID, s.Conn.ClientID, s.Conn.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	armOpts := &arm.ClientOptions{ClientOptions: opts}
	groups, err := armresources.NewResourceGroupsClient(s.Conn.SubscriptionID, cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(t.Context(), "rg-public-cloud", armresources.ResourceGroup{Location: new("eastus")}, nil); err != nil {
		t.Fatalf("create a resource group at management.azure.com through the proxy: %v", err)
	}
	workspaces, err := armmachinelearning.NewWorkspacesClient(s.Conn.SubscriptionID, cred, armOpts)
	if err != nil {
		t.Fatal(err)
	}
	poller, err := workspaces.BeginCreateOrUpdate(t.Context(), "rg-public-cloud", "ws-public-cloud",
		armmachinelearning.Workspace{Location: new("eastus")}, nil)
	if err != nil {
		t.Fatalf("create a workspace: %v", err)
	}
	ws, err := poller.PollUntilDone(t.Context(), nil)
	if err != nil || ws.Properties == nil || *ws.Properties.ProvisioningState != armmachinelearning.ProvisioningStateSucceeded {
		t.Fatalf("the workspace's creation: %v %+v", err, ws)
	}

	flows, _ := s.FlowRecords(t, "")
	var token, armPut bool
	for _, f := range flows {
		token = token || f.Operation == "Microsoft.AAD/token/action" && f.Status == http.StatusOK
		armPut = armPut || f.Operation == "Microsoft.MachineLearningServices/workspaces/write" && f.Class == netmodel.ARMPublic
	}
	if !token || !armPut {
		t.Errorf("flow records: a token request %v, the workspace's PUT as arm-public %v", token, armPut)
	}

	for _, tc := range []struct{ url, what string }{
		{"https://management.azure.com/_armlet/health", "the admin API on ARM's host"},
		{"https://login.microsoftonline.com/subscriptions", "ARM on the token service's host"},
		{"https://graph.microsoft.com/v1.0/me", "a host armlet does not serve"},
	} {
		resp, err := client.Get(tc.url)
		if err == nil {
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode < 400 {
			t.Errorf("%s (%s) answered %d", tc.what, tc.url, resp.StatusCode)
		}
	}
}
