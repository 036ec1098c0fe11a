package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/e2e"
)

// TestGoSDKProviderScope drives, with armmachinelearning/v4 through the
// front door, the namespace's operations list at 2024-04-01, serverless
// endpoints and marketplace subscriptions with their pollers, and the
// location-based usages, quotas and VM sizes.
func TestGoSDKProviderScope(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	f, err := armmachinelearning.NewClientFactory(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}

	ops := f.NewOperationsClient().NewListPager(nil)
	n := 0
	for ops.More() {
		page, err := ops.NextPage(ctx)
		if err != nil {
			t.Fatalf("operations at 2024-04-01: %v", err)
		}
		n += len(page.Value)
	}
	if n < 100 {
		t.Errorf("%d operations listed", n)
	}

	s.CreateWorkspace(t, "ml-rg", "ws1", false)
	model := "azureml://registries/azureml-meta/models/Llama-2-7b"
	subs := f.NewMarketplaceSubscriptionsClient()
	ms, err := subs.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "llama", armmachinelearning.MarketplaceSubscription{
		Properties: &armmachinelearning.MarketplaceSubscriptionProperties{ModelID: to.Ptr(model)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	msDone, err := ms.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil || *msDone.Properties.MarketplaceSubscriptionStatus != armmachinelearning.MarketplaceSubscriptionStatusSubscribed {
		t.Fatalf("marketplace subscription: %v %+v", err, msDone)
	}

	eps := f.NewServerlessEndpointsClient()
	p, err := eps.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "llama-ep", armmachinelearning.ServerlessEndpoint{
		Location: to.Ptr("eastus"),
		SKU:      &armmachinelearning.SKU{Name: to.Ptr("Consumption")},
		Properties: &armmachinelearning.ServerlessEndpointProperties{
			AuthMode:      to.Ptr(armmachinelearning.ServerlessInferenceEndpointAuthModeKey),
			ModelSettings: &armmachinelearning.ModelSettings{ModelID: to.Ptr(model)},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := p.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatal(err)
	}
	if *ep.Properties.ProvisioningState != armmachinelearning.EndpointProvisioningStateSucceeded ||
		!strings.EqualFold(*ep.Properties.MarketplaceSubscriptionID, *msDone.ID) ||
		!strings.HasPrefix(*ep.Properties.InferenceEndpoint.URI, "https://") {
		t.Errorf("serverless endpoint = %+v", ep.Properties)
	}
	rk, err := eps.BeginRegenerateKeys(ctx, "ml-rg", "ws1", "llama-ep", armmachinelearning.RegenerateEndpointKeysRequest{
		KeyType: to.Ptr(armmachinelearning.KeyTypePrimary), KeyValue: to.Ptr("k1"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := rk.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil || keys.PrimaryKey == nil || *keys.PrimaryKey != "k1" {
		t.Fatalf("regenerateKeys: %v %+v", err, keys)
	}
	listed, err := eps.ListKeys(ctx, "ml-rg", "ws1", "llama-ep", nil)
	if err != nil || *listed.PrimaryKey != "k1" {
		t.Fatalf("listKeys: %v %+v", err, listed)
	}
	del, err := eps.BeginDelete(ctx, "ml-rg", "ws1", "llama-ep", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}

	sizes, err := f.NewVirtualMachineSizesClient().List(ctx, "eastus2euap", nil)
	if err != nil || len(sizes.Value) == 0 || sizes.Value[0].EstimatedVMPrices == nil {
		t.Fatalf("vmSizes: %v", err)
	}
	if _, err := f.NewVirtualMachineSizesClient().List(ctx, "mars", nil); !e2e.IsResponseError(err, http.StatusBadRequest, "NoRegisteredProviderFound") {
		t.Errorf("vmSizes in mars: %v", err)
	}
	usages := f.NewUsagesClient().NewListPager("eastus", nil)
	for usages.More() {
		if _, err := usages.NextPage(ctx); err != nil {
			t.Fatalf("usages: %v", err)
		}
	}
	quota := "/subscriptions/" + sub + "/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/quotas/Standard_DSv2_Family_Cluster_Dedicated_vCPUs"
	up, err := f.NewQuotasClient().Update(ctx, "eastus", armmachinelearning.QuotaUpdateParameters{
		Value: []*armmachinelearning.QuotaBaseProperties{{
			ID: to.Ptr(quota), Type: to.Ptr("Microsoft.MachineLearningServices/workspaces/quotas"),
			Limit: to.Ptr[int64](12), Unit: to.Ptr(armmachinelearning.QuotaUnitCount),
		}},
	}, nil)
	if err != nil || *up.Value[0].Status != armmachinelearning.StatusSuccess {
		t.Fatalf("updateQuotas: %v %+v", err, up)
	}
	quotas := f.NewQuotasClient().NewListPager("eastus", nil)
	found := false
	for quotas.More() {
		page, err := quotas.NextPage(ctx)
		if err != nil {
			t.Fatalf("quotas: %v", err)
		}
		for _, q := range page.Value {
			if strings.EqualFold(*q.ID, quota) && *q.Limit == 12 {
				found = true
			}
		}
	}
	if !found {
		t.Error("the updated quota is not listed")
	}
}
