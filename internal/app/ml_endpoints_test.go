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

const (
	mlEPRegistryModel = "azureml://registries/azureml/models/sklearn-model/versions/1"
	mlEPRegistryEnv   = "azureml://registries/azureml/environments/sklearn-1.5/versions/3"
)

func mlEPDeployment(description string) armmachinelearning.OnlineDeployment {
	return armmachinelearning.OnlineDeployment{
		Location: to.Ptr("eastus"),
		SKU:      &armmachinelearning.SKU{Name: to.Ptr("Default"), Capacity: to.Ptr[int32](2)},
		Properties: &armmachinelearning.ManagedOnlineDeployment{
			EndpointComputeType: to.Ptr(armmachinelearning.EndpointComputeTypeManaged),
			Description:         to.Ptr(description),
			InstanceType:        to.Ptr("Standard_DS3_v2"),
			Model:               to.Ptr(mlEPRegistryModel),
			EnvironmentID:       to.Ptr(mlEPRegistryEnv),
			CodeConfiguration:   &armmachinelearning.CodeConfiguration{ScoringScript: to.Ptr("score.py")},
		},
	}
}

// TestGoSDKOnlineEndpoints drives online endpoints and deployments with
// armmachinelearning/v4, from the legacy-mode refusal to the delete.
func TestGoSDKOnlineEndpoints(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	ws := s.CreateWorkspace(t, "ml-rg", "ws1", true)
	endpoints, err := armmachinelearning.NewOnlineEndpointsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	deployments, err := armmachinelearning.NewOnlineDeploymentsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	endpoint := armmachinelearning.OnlineEndpoint{
		Location: to.Ptr("eastus"),
		Tags:     map[string]*string{"team": to.Ptr("ml")},
		Properties: &armmachinelearning.OnlineEndpointProperties{
			AuthMode:    to.Ptr(armmachinelearning.EndpointAuthModeAMLToken),
			Description: to.Ptr("scoring"),
		},
	}

	// Rule L5: the headline casualty of v1 legacy mode.
	_, err = endpoints.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "ep1", endpoint, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")
	if !strings.Contains(err.Error(), "v1LegacyMode") {
		t.Errorf("legacy-mode refusal does not name v1LegacyMode: %v", err)
	}
	upd, err := ws.BeginUpdate(ctx, "ml-rg", "ws1", armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{V1LegacyMode: to.Ptr(false)},
	}, nil)
	if err != nil {
		t.Fatalf("begin update workspace: %v", err)
	}
	if _, err := upd.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("update workspace: %v", err)
	}

	poller, err := endpoints.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "ep1", endpoint, nil)
	if err != nil {
		t.Fatalf("begin create endpoint after v1LegacyMode false: %v", err)
	}
	created, err := poller.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	p := created.Properties
	if *p.ProvisioningState != armmachinelearning.EndpointProvisioningStateSucceeded || *p.ScoringURI != "https://ep1.eastus.inference.ml.azure.com/score" ||
		*p.AuthMode != armmachinelearning.EndpointAuthModeAMLToken || *p.PublicNetworkAccess != armmachinelearning.PublicNetworkAccessTypeEnabled ||
		*created.Type != "Microsoft.MachineLearningServices/workspaces/onlineEndpoints" {
		t.Errorf("created endpoint: %+v", p)
	}

	for _, name := range []string{"blue", "green"} {
		dp, err := deployments.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "ep1", name, mlEPDeployment(name+" deployment"), nil)
		if err != nil {
			t.Fatalf("begin create deployment %s: %v", name, err)
		}
		d, err := dp.PollUntilDone(ctx, e2e.FastPoll)
		if err != nil {
			t.Fatalf("create deployment %s: %v", name, err)
		}
		props, ok := d.Properties.(*armmachinelearning.ManagedOnlineDeployment)
		if !ok {
			t.Fatalf("deployment %s properties are %T, want *ManagedOnlineDeployment", name, d.Properties)
		}
		if *props.ProvisioningState != armmachinelearning.DeploymentProvisioningStateSucceeded || *props.Model != mlEPRegistryModel ||
			*d.SKU.Capacity != 2 || props.ScaleSettings.GetOnlineScaleSettings().ScaleType == nil ||
			*props.RequestSettings.MaxConcurrentRequestsPerInstance != 1 {
			t.Errorf("deployment %s: %+v sku %+v", name, props, d.SKU)
		}
	}

	// Traffic 90/10 through a PUT of the whole endpoint.
	endpoint.Properties.Traffic = map[string]*int32{"blue": to.Ptr[int32](90), "green": to.Ptr[int32](10)}
	poller, err = endpoints.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "ep1", endpoint, nil)
	if err != nil {
		t.Fatalf("begin traffic update: %v", err)
	}
	updated, err := poller.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("traffic update: %v", err)
	}
	if tr := updated.Properties.Traffic; len(tr) != 2 || *tr["blue"] != 90 || *tr["green"] != 10 {
		t.Errorf("traffic = %v", tr)
	}
	endpoint.Properties.Traffic = map[string]*int32{"blue": to.Ptr[int32](90)}
	_, err = endpoints.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "ep1", endpoint, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	keys, err := endpoints.ListKeys(ctx, "ml-rg", "ws1", "ep1", nil)
	if err != nil || keys.PrimaryKey == nil || len(*keys.PrimaryKey) != 32 {
		t.Fatalf("listKeys: %+v %v", keys, err)
	}
	rp, err := endpoints.BeginRegenerateKeys(ctx, "ml-rg", "ws1", "ep1", armmachinelearning.RegenerateEndpointKeysRequest{
		KeyType: to.Ptr(armmachinelearning.KeyTypePrimary),
	}, nil)
	if err != nil {
		t.Fatalf("begin regenerateKeys: %v", err)
	}
	if _, err := rp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("regenerateKeys: %v", err)
	}
	keys2, err := endpoints.ListKeys(ctx, "ml-rg", "ws1", "ep1", nil)
	if err != nil || *keys2.PrimaryKey == *keys.PrimaryKey || *keys2.SecondaryKey != *keys.SecondaryKey {
		t.Errorf("keys after regenerating Primary: before %s/%s after %s/%s (%v)", *keys.PrimaryKey, *keys.SecondaryKey, *keys2.PrimaryKey, *keys2.SecondaryKey, err)
	}
	_, err = endpoints.BeginRegenerateKeys(ctx, "ml-rg", "ws1", "ep1", armmachinelearning.RegenerateEndpointKeysRequest{
		KeyType: to.Ptr(armmachinelearning.KeyType("Tertiary")),
	}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "InvalidRequestContent")

	tok, err := endpoints.GetToken(ctx, "ml-rg", "ws1", "ep1", nil)
	if err != nil {
		t.Fatalf("getToken: %v", err)
	}
	if *tok.TokenType != "Bearer" || *tok.AccessToken == "" || *tok.ExpiryTimeUTC <= *tok.RefreshAfterTimeUTC {
		t.Errorf("token: %+v", tok.EndpointAuthToken)
	}

	logs, err := deployments.GetLogs(ctx, "ml-rg", "ws1", "ep1", "blue", armmachinelearning.DeploymentLogsRequest{
		ContainerType: to.Ptr(armmachinelearning.ContainerTypeInferenceServer), Tail: to.Ptr[int32](5),
	}, nil)
	if err != nil || logs.Content == nil || strings.Count(*logs.Content, "\n") != 5 {
		t.Errorf("getLogs: %v %v", logs.Content, err)
	}
	var skus []*armmachinelearning.SKUResource
	pager := deployments.NewListSKUsPager("ml-rg", "ws1", "ep1", "blue", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list skus: %v", err)
		}
		skus = append(skus, page.Value...)
	}
	if len(skus) != 1 || *skus[0].SKU.Name != "Default" || *skus[0].Capacity.Maximum < 1 {
		t.Errorf("skus: %+v", skus)
	}
	var names []string
	dpager := deployments.NewListPager("ml-rg", "ws1", "ep1", nil)
	for dpager.More() {
		page, err := dpager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list deployments: %v", err)
		}
		for _, d := range page.Value {
			names = append(names, *d.Name)
		}
	}
	if len(names) != 2 {
		t.Errorf("deployments listed: %v", names)
	}

	// PATCH (tags) through the SDK's Update poller.
	up, err := endpoints.BeginUpdate(ctx, "ml-rg", "ws1", "ep1", armmachinelearning.PartialMinimalTrackedResourceWithIdentity{
		Tags: map[string]*string{"team": to.Ptr("inference")},
	}, nil)
	if err != nil {
		t.Fatalf("begin update endpoint: %v", err)
	}
	patched, err := up.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil || *patched.Tags["team"] != "inference" || *patched.Properties.Description != "scoring" {
		t.Errorf("update endpoint: %+v %v", patched, err)
	}

	// A deployment with traffic cannot be deleted.
	_, err = deployments.BeginDelete(ctx, "ml-rg", "ws1", "ep1", "green", nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	del, err := endpoints.BeginDelete(ctx, "ml-rg", "ws1", "ep1", nil)
	if err != nil {
		t.Fatalf("begin delete endpoint: %v", err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete endpoint: %v", err)
	}
	_, err = endpoints.Get(ctx, "ml-rg", "ws1", "ep1", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceNotFound")
	_, err = deployments.Get(ctx, "ml-rg", "ws1", "ep1", "blue", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "")
}

// TestGoSDKBatchEndpoints covers batch endpoints and deployments with
// armmachinelearning/v4.
func TestGoSDKBatchEndpoints(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	s.CreateWorkspace(t, "ml-rg", "ws1", false)
	endpoints, err := armmachinelearning.NewBatchEndpointsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	deployments, err := armmachinelearning.NewBatchDeploymentsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	endpoint := armmachinelearning.BatchEndpoint{
		Location:   to.Ptr("eastus"),
		Properties: &armmachinelearning.BatchEndpointProperties{AuthMode: to.Ptr(armmachinelearning.EndpointAuthModeAADToken)},
	}
	ep, err := endpoints.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "batch1", endpoint, nil)
	if err != nil {
		t.Fatalf("begin create batch endpoint: %v", err)
	}
	created, err := ep.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil || *created.Properties.ScoringURI != "https://batch1.eastus.inference.ml.azure.com/jobs" {
		t.Fatalf("create batch endpoint: %+v %v", created.Properties, err)
	}

	dp, err := deployments.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "batch1", "dep1", armmachinelearning.BatchDeployment{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.BatchDeploymentProperties{
			Model:         &armmachinelearning.IDAssetReference{ReferenceType: to.Ptr(armmachinelearning.ReferenceTypeID), AssetID: to.Ptr(mlEPRegistryModel)},
			EnvironmentID: to.Ptr(mlEPRegistryEnv),
			MiniBatchSize: to.Ptr[int64](20),
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin create batch deployment: %v", err)
	}
	d, err := dp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("create batch deployment: %v", err)
	}
	model, ok := d.Properties.Model.(*armmachinelearning.IDAssetReference)
	if !ok || *model.AssetID != mlEPRegistryModel || *d.Properties.MiniBatchSize != 20 || *d.Properties.MaxConcurrencyPerInstance != 1 ||
		*d.Properties.OutputAction != armmachinelearning.BatchOutputActionAppendRow || *d.Properties.ProvisioningState != armmachinelearning.DeploymentProvisioningStateSucceeded {
		t.Errorf("batch deployment: %+v", d.Properties)
	}

	endpoint.Properties.Defaults = &armmachinelearning.BatchEndpointDefaults{DeploymentName: to.Ptr("dep1")}
	if ep, err = endpoints.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "batch1", endpoint, nil); err != nil {
		t.Fatalf("begin set default deployment: %v", err)
	}
	if got, err := ep.PollUntilDone(ctx, e2e.FastPoll); err != nil || *got.Properties.Defaults.DeploymentName != "dep1" {
		t.Fatalf("set default deployment: %+v %v", got.Properties, err)
	}
	_, err = deployments.BeginDelete(ctx, "ml-rg", "ws1", "batch1", "dep1", nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	keys, err := endpoints.ListKeys(ctx, "ml-rg", "ws1", "batch1", nil)
	if err != nil || keys.PrimaryKey == nil || *keys.PrimaryKey == "" {
		t.Errorf("batch listkeys: %+v %v", keys, err)
	}

	up, err := deployments.BeginUpdate(ctx, "ml-rg", "ws1", "batch1", "dep1", armmachinelearning.PartialBatchDeploymentPartialMinimalTrackedResourceWithProperties{
		Properties: &armmachinelearning.PartialBatchDeployment{Description: to.Ptr("patched")},
	}, nil)
	if err != nil {
		t.Fatalf("begin update batch deployment: %v", err)
	}
	if got, err := up.PollUntilDone(ctx, e2e.FastPoll); err != nil || *got.Properties.Description != "patched" || *got.Properties.MiniBatchSize != 20 {
		t.Errorf("update batch deployment: %+v %v", got.Properties, err)
	}

	endpoint.Properties.AuthMode = to.Ptr(armmachinelearning.EndpointAuthModeKey)
	_, err = endpoints.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "batch2", endpoint, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	del, err := endpoints.BeginDelete(ctx, "ml-rg", "ws1", "batch1", nil)
	if err != nil {
		t.Fatalf("begin delete batch endpoint: %v", err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete batch endpoint: %v", err)
	}
	_, err = deployments.Get(ctx, "ml-rg", "ws1", "batch1", "dep1", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "")
}
