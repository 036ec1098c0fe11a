package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"

	"github.com/armlet/armlet/internal/e2e"
)

// TestMLDiscoveryURLNamesTheHostUsed: azure-sdk-for-go reading a
// workspace and a registry at management.azure.com through armlet's proxy
// (the public cloud, as HTTPS_PROXY gives it) sees discovery URLs on
// Azure's regional host, which the proxy serves (azure-ai-ml follows a
// workspace's to find its history and batch endpoints); reading them on
// armlet's main listener sees the listener's. Each GET sees its own host
// whichever came first, though GET bodies are kept (the rendered-body
// cache).
func TestMLDiscoveryURLNamesTheHostUsed(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := t.Context()
	s.CreateGroup(t, "disc")
	main, err := armmachinelearning.NewClientFactory(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	wp, err := main.NewWorkspacesClient().BeginCreateOrUpdate(ctx, "disc", "ws1", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	rp, err := main.NewRegistriesClient().BeginCreateOrUpdate(ctx, "disc", "discreg", armmachinelearning.Registry{Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.RegistryProperties{RegionDetails: []*armmachinelearning.RegistryRegionArmDetails{{Location: to.Ptr("eastus")}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}

	client := proxiedClient(t, s)
	opts := policy.ClientOptions{Cloud: cloud.AzurePublic, Transport: client, Retry: policy.RetryOptions{MaxRetries: -1}}
	cred, err := azidentity.NewClientSecretCredential(s.Conn.TenantID, s.Conn.ClientID, s.Conn.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	public, err := armmachinelearning.NewClientFactory(s.Conn.SubscriptionID, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	listener := strings.TrimSuffix(s.Conn.ARMEndpoint, "/")
	const (
		azureWS  = "https://eastus.api.azureml.ms/discovery"
		azureReg = "https://eastus.api.azureml.ms/registrymanagement/v1.0/registries/discreg/discovery"
	)
	workspace := func(f *armmachinelearning.ClientFactory) string {
		t.Helper()
		ws, err := f.NewWorkspacesClient().Get(ctx, "disc", "ws1", nil)
		if err != nil {
			t.Fatalf("GET the workspace: %v", err)
		}
		return *ws.Properties.DiscoveryURL
	}
	registry := func(f *armmachinelearning.ClientFactory) string {
		t.Helper()
		reg, err := f.NewRegistriesClient().Get(ctx, "disc", "discreg", nil)
		if err != nil {
			t.Fatalf("GET the registry: %v", err)
		}
		return *reg.Properties.DiscoveryURL
	}
	// The workspace read through the proxy first, the registry on the
	// listener first: both orders.
	for i := range 2 {
		if got := workspace(public); got != azureWS {
			t.Errorf("GET %d of the workspace through the proxy: discoveryUrl %s, want %s", i, got, azureWS)
		}
		if got := workspace(main); got != listener+"/discovery" {
			t.Errorf("GET %d of the workspace on the listener: discoveryUrl %s, want %s/discovery", i, got, listener)
		}
		if got, want := registry(main), listener+"/registrymanagement/v1.0/registries/discreg/discovery"; got != want {
			t.Errorf("GET %d of the registry on the listener: discoveryUrl %s, want %s", i, got, want)
		}
		if got := registry(public); got != azureReg {
			t.Errorf("GET %d of the registry through the proxy: discoveryUrl %s, want %s", i, got, azureReg)
		}
	}
	pager := public.NewWorkspacesClient().NewListByResourceGroupPager("disc", nil)
	page, err := pager.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Properties.DiscoveryURL != azureWS {
		t.Errorf("list through the proxy: %v %+v", err, page.Value)
	}

	// What the proxied client was told answers through the proxy.
	tok := s.Token(t)
	for _, u := range []string{azureWS, azureReg} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s through the proxy: %v", u, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "https://eastus.api.azureml.ms") {
			t.Errorf("GET %s through the proxy: %d %s", u, resp.StatusCode, b)
		}
	}
}
