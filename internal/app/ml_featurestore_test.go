package app_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/e2e"
)

// TestGoSDKFeatureStore drives a feature store, a hub and a project with
// armmachinelearning/v4's clients and their pollers.
func TestGoSDKFeatureStore(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	s.CreateGroup(t, "fs-rg")
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	ws, err := armmachinelearning.NewWorkspacesClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	createWS := func(name string, w armmachinelearning.Workspace) armmachinelearning.Workspace {
		t.Helper()
		w.Location = to.Ptr("eastus")
		p, err := ws.BeginCreateOrUpdate(ctx, "fs-rg", name, w, nil)
		if err != nil {
			t.Fatalf("begin create %s: %v", name, err)
		}
		res, err := p.PollUntilDone(ctx, e2e.FastPoll)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return res.Workspace
	}
	createWS("fs1", armmachinelearning.Workspace{Kind: to.Ptr("FeatureStore"), Properties: &armmachinelearning.WorkspaceProperties{
		FeatureStoreSettings: &armmachinelearning.FeatureStoreSettings{ComputeRuntime: &armmachinelearning.ComputeRuntimeDto{SparkRuntimeVersion: to.Ptr("3.3")}},
	}})

	entities, err := armmachinelearning.NewFeaturestoreEntityVersionsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	ep, err := entities.BeginCreateOrUpdate(ctx, "fs-rg", "fs1", "account", "1", armmachinelearning.FeaturestoreEntityVersion{
		Properties: &armmachinelearning.FeaturestoreEntityVersionProperties{IndexColumns: []*armmachinelearning.IndexColumn{
			{ColumnName: to.Ptr("accountID"), DataType: to.Ptr(armmachinelearning.FeatureDataTypeString)}}},
	}, nil)
	if err != nil {
		t.Fatalf("begin entity version: %v", err)
	}
	if _, err := ep.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("entity version: %v", err)
	}

	versions, err := armmachinelearning.NewFeaturesetVersionsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := versions.BeginCreateOrUpdate(ctx, "fs-rg", "fs1", "transactions", "1", armmachinelearning.FeaturesetVersion{
		Properties: &armmachinelearning.FeaturesetVersionProperties{
			Entities:      []*string{to.Ptr("azureml:account:1")},
			Specification: &armmachinelearning.FeaturesetSpecification{Path: to.Ptr("azureml://datastores/workspaceblobstore/paths/spec")},
			Properties:    map[string]*string{"azureml.feature.spend": to.Ptr("Double")},
			MaterializationSettings: &armmachinelearning.MaterializationSettings{
				StoreType: to.Ptr(armmachinelearning.MaterializationStoreTypeOffline),
				Resource:  &armmachinelearning.MaterializationComputeResource{InstanceType: to.Ptr("standard_e8s_v3")},
			},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin featureset version: %v", err)
	}
	created, err := vp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("featureset version: %v", err)
	}
	if *created.Properties.ProvisioningState != armmachinelearning.AssetProvisioningStateSucceeded {
		t.Errorf("featureset version state = %v", *created.Properties.ProvisioningState)
	}

	features, err := armmachinelearning.NewFeaturesClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for pager := features.NewListPager("fs-rg", "fs1", "transactions", "1", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list features: %v", err)
		}
		for _, f := range page.Value {
			names = append(names, *f.Properties.FeatureName+":"+string(*f.Properties.DataType))
		}
	}
	if !slices.Equal(names, []string{"spend:Double"}) {
		t.Errorf("features = %v", names)
	}

	bp, err := versions.BeginBackfill(ctx, "fs-rg", "fs1", "transactions", "1", armmachinelearning.FeaturesetVersionBackfillRequest{
		FeatureWindow: &armmachinelearning.FeatureWindow{
			FeatureWindowStart: to.Ptr(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)),
			FeatureWindowEnd:   to.Ptr(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)),
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin backfill: %v", err)
	}
	bf, err := bp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("backfill: %v", err)
	}
	if len(bf.JobIDs) != 1 {
		t.Fatalf("backfill jobIds = %v", bf.JobIDs)
	}
	jobs, err := armmachinelearning.NewJobsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	job, err := jobs.Get(ctx, "fs-rg", "fs1", *bf.JobIDs[0], nil)
	if err != nil {
		t.Fatalf("get the materialization job: %v", err)
	}
	if _, ok := job.Properties.(*armmachinelearning.SparkJob); !ok {
		t.Errorf("materialization job is %T", job.Properties)
	}

	containers, err := armmachinelearning.NewFeaturesetContainersClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	dp, err := containers.BeginDelete(ctx, "fs-rg", "fs1", "transactions", nil)
	if err != nil {
		t.Fatalf("begin delete featureset: %v", err)
	}
	if _, err := dp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete featureset: %v", err)
	}
	_, err = versions.Get(ctx, "fs-rg", "fs1", "transactions", "1", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "")

	// A hub and its project.
	hub := createWS("hub1", armmachinelearning.Workspace{Kind: to.Ptr("Hub")})
	project := createWS("proj1", armmachinelearning.Workspace{Kind: to.Ptr("Project"), Properties: &armmachinelearning.WorkspaceProperties{HubResourceID: hub.ID}})
	if *project.Kind != "Project" || *project.Properties.HubResourceID != *hub.ID {
		t.Errorf("project = %v %v", *project.Kind, *project.Properties.HubResourceID)
	}
	got, err := ws.Get(ctx, "fs-rg", "hub1", nil)
	if err != nil || len(got.Properties.AssociatedWorkspaces) != 1 || *got.Properties.AssociatedWorkspaces[0] != *project.ID {
		t.Errorf("hub associatedWorkspaces = %v (%v)", got.Properties, err)
	}
	_, err = ws.BeginDelete(ctx, "fs-rg", "hub1", nil)
	e2e.RequireResponseError(t, err, http.StatusConflict, "Conflict")
}
