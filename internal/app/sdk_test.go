package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/e2e"
)

// TestGoSDKWorkspaceLifecycle drives armlet with the unmodified Azure SDK
// for Go: azidentity for the token, armresources for the resource group,
// armmachinelearning/v4 (api-version 2024-04-01) for the workspace.
func TestGoSDKWorkspaceLifecycle(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID

	groups, err := armresources.NewResourceGroupsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	rg, err := groups.CreateOrUpdate(ctx, "ml-rg", armresources.ResourceGroup{Location: to.Ptr("East US"), Tags: map[string]*string{"team": to.Ptr("ml")}}, nil)
	if err != nil {
		t.Fatalf("create resource group: %v", err)
	}
	if got, want := *rg.ID, "/subscriptions/"+sub+"/resourceGroups/ml-rg"; got != want {
		t.Errorf("resource group id = %q, want %q", got, want)
	}
	if got := *rg.Location; got != "eastus" {
		t.Errorf("resource group location = %q, want eastus", got)
	}

	ws, err := armmachinelearning.NewWorkspacesClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	storage := "/subscriptions/" + sub + "/resourceGroups/ml-rg/providers/Microsoft.Storage/storageAccounts/mlstore"
	kv := "/subscriptions/" + sub + "/resourceGroups/ml-rg/providers/Microsoft.KeyVault/vaults/mlvault"
	poller, err := ws.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", armmachinelearning.Workspace{
		Location: to.Ptr("eastus"),
		Tags:     map[string]*string{"env": to.Ptr("test")},
		Properties: &armmachinelearning.WorkspaceProperties{
			StorageAccount: to.Ptr(storage), KeyVault: to.Ptr(kv), FriendlyName: to.Ptr("Workspace One"),
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin create workspace: %v", err)
	}
	created, err := poller.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	p := created.Properties
	if p == nil || p.WorkspaceID == nil || *p.WorkspaceID == "" {
		t.Fatalf("workspace has no workspaceId: %+v", p)
	}
	if got := *p.ProvisioningState; got != armmachinelearning.ProvisioningStateSucceeded {
		t.Errorf("provisioningState after poller = %q, want Succeeded", got)
	}
	if p.V1LegacyMode == nil || *p.V1LegacyMode {
		t.Errorf("v1LegacyMode at 2024-04-01 = %v, want false", p.V1LegacyMode)
	}
	if got := *p.TenantID; got != s.Conn.TenantID {
		t.Errorf("tenantId = %q, want %q", got, s.Conn.TenantID)
	}

	got, err := ws.Get(ctx, "ML-RG", "WS1", nil)
	if err != nil {
		t.Fatalf("get workspace: %v", err)
	}
	if *got.Name != "ws1" || *got.ID != "/subscriptions/"+sub+"/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1" {
		t.Errorf("get by other casing returned name %q id %q; want the creation casing", *got.Name, *got.ID)
	}

	upd, err := ws.BeginUpdate(ctx, "ml-rg", "ws1", armmachinelearning.WorkspaceUpdateParameters{
		Tags:       map[string]*string{"env": to.Ptr("prod")},
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{Description: to.Ptr("patched")},
	}, nil)
	if err != nil {
		t.Fatalf("begin update: %v", err)
	}
	patched, err := upd.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if *patched.Properties.Description != "patched" || *patched.Properties.FriendlyName != "Workspace One" || *patched.Tags["env"] != "prod" {
		t.Errorf("PATCH did not merge properties and replace tags: %+v tags %v", patched.Properties, patched.Tags)
	}

	// Immutable property: the error surfaces as azcore.ResponseError.
	_, err = ws.BeginUpdate(ctx, "ml-rg", "ws1", armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{PublicNetworkAccess: to.Ptr(armmachinelearning.PublicNetworkAccess("Sometimes"))},
	}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "")

	var names []string
	pager := ws.NewListByResourceGroupPager("ml-rg", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, w := range page.Value {
			names = append(names, *w.Name)
		}
	}
	if len(names) != 1 || names[0] != "ws1" {
		t.Errorf("list by resource group = %v, want [ws1]", names)
	}
	subPager := ws.NewListBySubscriptionPager(nil)
	count := 0
	for subPager.More() {
		page, err := subPager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list by subscription: %v", err)
		}
		count += len(page.Value)
	}
	if count != 1 {
		t.Errorf("list by subscription found %d workspaces, want 1", count)
	}

	keys, err := ws.ListKeys(ctx, "ml-rg", "ws1", nil)
	if err != nil {
		t.Fatalf("listKeys: %v", err)
	}
	if keys.UserStorageKey == nil || *keys.UserStorageKey == "" {
		t.Errorf("listKeys returned no userStorageKey")
	}

	// Failure cases surface as azcore.ResponseError with ARM's codes.
	_, err = ws.Get(ctx, "ml-rg", "missing", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceNotFound")
	_, err = ws.Get(ctx, "no-such-rg", "ws1", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	_, err = ws.BeginCreateOrUpdate(ctx, "ml-rg", "bad name!", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "InvalidResourceName")
	_, err = ws.BeginCreateOrUpdate(ctx, "ml-rg", "ws2", armmachinelearning.Workspace{Location: to.Ptr("moon-base")}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "LocationNotAvailableForResourceType")

	del, err := ws.BeginDelete(ctx, "ml-rg", "ws1", nil)
	if err != nil {
		t.Fatalf("begin delete: %v", err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = ws.Get(ctx, "ml-rg", "ws1", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceNotFound")

	// Resource group delete is asynchronous and cascades.
	if _, err := ws.BeginCreateOrUpdate(ctx, "ml-rg", "ws3", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatalf("create ws3: %v", err)
	}
	rgDel, err := groups.BeginDelete(ctx, "ml-rg", nil)
	if err != nil {
		t.Fatalf("begin delete group: %v", err)
	}
	if _, err := rgDel.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete group: %v", err)
	}
	_, err = groups.Get(ctx, "ml-rg", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	if _, err := groups.CreateOrUpdate(ctx, "ml-rg", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatalf("re-create group: %v", err)
	}
	_, err = ws.Get(ctx, "ml-rg", "ws3", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceNotFound")
}

// TestGoSDKProviders checks the providers endpoint with armresources.
func TestGoSDKProviders(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	providers, err := armresources.NewProvidersClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := providers.Get(ctx, "microsoft.machinelearningservices", nil)
	if err != nil {
		t.Fatalf("get provider: %v", err)
	}
	if *p.Namespace != "Microsoft.MachineLearningServices" || *p.RegistrationState != "Registered" {
		t.Errorf("provider = %s %s", *p.Namespace, *p.RegistrationState)
	}
	found := false
	for _, rt := range p.ResourceTypes {
		if *rt.ResourceType == "workspaces" {
			found = len(rt.APIVersions) > 10
		}
	}
	if !found {
		t.Errorf("workspaces resource type with its api-versions missing: %s", mustJSON(p.ResourceTypes))
	}
	if _, err := providers.Unregister(ctx, "Microsoft.MachineLearningServices", nil); err != nil {
		t.Fatalf("unregister: %v", err)
	}
	if _, err := s.AdvanceClock(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	status, _, body := s.Do(t, http.MethodPut, "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/g?api-version=2021-04-01", `{"location":"eastus"}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("create group: %d %s", status, body)
	}
	status, _, body = s.Do(t, http.MethodPut, "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/ws1?api-version=2024-04-01", `{"location":"eastus"}`, nil)
	if status != http.StatusConflict || !strings.Contains(body, "MissingSubscriptionRegistration") {
		t.Fatalf("PUT into unregistered namespace = %d %s, want 409 MissingSubscriptionRegistration", status, body)
	}
	reg, err := providers.Register(ctx, "Microsoft.MachineLearningServices", nil)
	if err != nil || *reg.RegistrationState != "Registering" {
		t.Fatalf("register: %v %v", err, reg.RegistrationState)
	}
}
