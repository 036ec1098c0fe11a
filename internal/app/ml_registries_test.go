package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/e2e"
)

// TestGoSDKMLRegistries drives a registry, its assets and a publish from a
// workspace with the unmodified armmachinelearning/v4 clients and their
// pollers (Azure-AsyncOperation for the registry's PUT, the original URI
// for its assets' PUTs, Location for DELETE, removeRegions and publish).
func TestGoSDKMLRegistries(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	s.CreateGroup(t, "rg")
	f, err := armmachinelearning.NewClientFactory(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	registries := f.NewRegistriesClient()
	poller, err := registries.BeginCreateOrUpdate(ctx, "rg", "reg1", armmachinelearning.Registry{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.RegistryProperties{
			RegionDetails: []*armmachinelearning.RegistryRegionArmDetails{{Location: to.Ptr("eastus")}, {Location: to.Ptr("westus")}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	created, err := poller.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatal(err)
	}
	if p := created.Properties; p == nil || len(p.RegionDetails) != 2 || p.DiscoveryURL == nil ||
		!strings.HasSuffix(*p.DiscoveryURL, "/registrymanagement/v1.0/registries/reg1/discovery") {
		t.Fatalf("created registry = %+v", created.Properties)
	}
	if _, err := registries.Update(ctx, "rg", "reg1", armmachinelearning.PartialRegistryPartialTrackedResource{Tags: map[string]*string{"team": to.Ptr("ml")}}, nil); err != nil {
		t.Fatal(err)
	}
	removing, err := registries.BeginRemoveRegions(ctx, "rg", "reg1", armmachinelearning.Registry{
		Location:   to.Ptr("eastus"),
		Properties: &armmachinelearning.RegistryProperties{RegionDetails: []*armmachinelearning.RegistryRegionArmDetails{{Location: to.Ptr("westus")}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := removing.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed.Properties.RegionDetails) != 1 || *removed.Tags["team"] != "ml" {
		t.Fatalf("after removeRegions: %+v", removed.Registry)
	}

	versions := f.NewRegistryModelVersionsClient()
	mv, err := versions.BeginCreateOrUpdate(ctx, "rg", "reg1", "m", "1", armmachinelearning.ModelVersion{
		Properties: &armmachinelearning.ModelVersionProperties{ModelURI: to.Ptr("azureml://datastores/d/paths/m")},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mv.PollUntilDone(ctx, e2e.FastPoll); err != nil || got.Properties == nil || *got.Properties.ModelURI != "azureml://datastores/d/paths/m" {
		t.Fatalf("registry model version: %+v, %v", got, err)
	}
	up, err := versions.CreateOrGetStartPendingUpload(ctx, "rg", "reg1", "m", "1", armmachinelearning.PendingUploadRequestDto{}, nil)
	if err != nil || up.BlobReferenceForConsumption == nil || up.BlobReferenceForConsumption.BlobURI == nil {
		t.Fatalf("startPendingUpload: %+v, %v", up, err)
	}

	ws, err := f.NewWorkspacesClient().BeginCreateOrUpdate(ctx, "rg", "ws1", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewModelVersionsClient().CreateOrUpdate(ctx, "rg", "ws1", "local", "3", armmachinelearning.ModelVersion{
		Properties: &armmachinelearning.ModelVersionProperties{ModelURI: to.Ptr("azureml://datastores/workspaceblobstore/paths/local")},
	}, nil); err != nil {
		t.Fatal(err)
	}
	publishing, err := f.NewModelVersionsClient().BeginPublish(ctx, "rg", "ws1", "local", "3", armmachinelearning.DestinationAsset{
		RegistryName: to.Ptr("reg1"), DestinationName: to.Ptr("shared"), DestinationVersion: to.Ptr("1"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := publishing.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	if got, err := versions.Get(ctx, "rg", "reg1", "shared", "1", nil); err != nil || *got.Properties.ModelURI != "azureml://datastores/workspaceblobstore/paths/local" {
		t.Fatalf("published version: %+v, %v", got, err)
	}

	deleting, err := registries.BeginDelete(ctx, "rg", "reg1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deleting.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	if _, err := registries.Get(ctx, "rg", "reg1", nil); err == nil {
		t.Fatal("the registry is still there after its delete")
	}
}
