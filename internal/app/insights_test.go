package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/applicationinsights/armapplicationinsights"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/operationalinsights/armoperationalinsights/v2"
	"github.com/armlet/armlet/internal/e2e"
)

// createLogAnalytics creates Log Analytics workspace name in rg with
// armoperationalinsights v2 (api-version 2025-07-01) and the SDK's poller.
func createLogAnalytics(t *testing.T, s *e2e.Armlet, rg, name string) armoperationalinsights.Workspace {
	t.Helper()
	ws, err := armoperationalinsights.NewWorkspacesClient(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := ws.BeginCreateOrUpdate(context.Background(), rg, name, armoperationalinsights.Workspace{
		Location: to.Ptr("eastus"),
		Properties: &armoperationalinsights.WorkspaceProperties{
			SKU:             &armoperationalinsights.WorkspaceSKU{Name: to.Ptr(armoperationalinsights.WorkspaceSKUNameEnumPerGB2018)},
			RetentionInDays: to.Ptr[int32](30),
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin workspace: %v", err)
	}
	res, err := p.PollUntilDone(context.Background(), e2e.FastPoll)
	if err != nil {
		t.Fatalf("workspace: %v", err)
	}
	return res.Workspace
}

// TestOperationalInsightsSDK drives the Log Analytics workspace with
// armoperationalinsights v2: a long-running create, its customerId and
// sku, the shared keys, the (empty) deleted list and a long-running delete.
func TestOperationalInsightsSDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	s.CreateGroup(t, "la-rg")
	ws := createLogAnalytics(t, s, "la-rg", "law1")
	if ws.Properties.CustomerID == nil || len(*ws.Properties.CustomerID) != 36 || *ws.Properties.SKU.Name != armoperationalinsights.WorkspaceSKUNameEnumPerGB2018 ||
		*ws.Properties.RetentionInDays != 30 || *ws.Properties.ProvisioningState != armoperationalinsights.WorkspaceEntityStatusSucceeded {
		t.Fatalf("workspace = %s", mustJSON(ws))
	}
	f, err := armoperationalinsights.NewClientFactory(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := f.NewSharedKeysClient().GetSharedKeys(ctx, "la-rg", "law1", nil)
	if err != nil || keys.PrimarySharedKey == nil || keys.SecondarySharedKey == nil {
		t.Fatalf("shared keys: %v", err)
	}
	for pager := f.NewDeletedWorkspacesClient().NewListPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil || len(page.Value) != 0 {
			t.Fatalf("deleted workspaces: %v %v", err, page.Value)
		}
	}
	if _, err := f.NewWorkspacesClient().BeginCreateOrUpdate(ctx, "la-rg", "law2", armoperationalinsights.Workspace{
		Location:   to.Ptr("eastus"),
		Properties: &armoperationalinsights.WorkspaceProperties{RetentionInDays: to.Ptr[int32](1000)},
	}, nil); !e2e.IsResponseError(err, http.StatusBadRequest, "BadRequest") {
		t.Fatalf("retention 1000: %v", err)
	}
	del, err := f.NewWorkspacesClient().BeginDelete(ctx, "la-rg", "law1", &armoperationalinsights.WorkspacesClientBeginDeleteOptions{Force: to.Ptr(true)})
	if err != nil {
		t.Fatalf("begin delete: %v", err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete: %v", err)
	}
}

// TestInsightsSDK drives Application Insights with armapplicationinsights
// (components at 2020-02-02, billing features at 2015-05-01): a
// workspace-based component with its generated keys and connection
// string, the billing features, tags and delete.
func TestInsightsSDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	s.CreateGroup(t, "ai-rg")
	ws := createLogAnalytics(t, s, "ai-rg", "law1")
	f, err := armapplicationinsights.NewClientFactory(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	components := f.NewComponentsClient()
	c, err := components.CreateOrUpdate(ctx, "ai-rg", "ai1", armapplicationinsights.Component{
		Location: to.Ptr("eastus"), Kind: to.Ptr("web"),
		Properties: &armapplicationinsights.ComponentProperties{
			ApplicationType:     to.Ptr(armapplicationinsights.ApplicationTypeWeb),
			WorkspaceResourceID: ws.ID,
		},
	}, nil)
	if err != nil {
		t.Fatalf("create component: %v", err)
	}
	p := c.Properties
	if p.InstrumentationKey == nil || p.AppID == nil || p.ConnectionString == nil || p.CreationDate == nil ||
		*p.IngestionMode != armapplicationinsights.IngestionModeLogAnalytics || *p.WorkspaceResourceID != *ws.ID {
		t.Fatalf("component = %s", mustJSON(c))
	}
	if _, err := components.CreateOrUpdate(ctx, "ai-rg", "ai2", armapplicationinsights.Component{
		Location: to.Ptr("eastus"), Kind: to.Ptr("web"), Properties: &armapplicationinsights.ComponentProperties{},
	}, nil); !e2e.IsResponseError(err, http.StatusBadRequest, "InvalidRequestContent") {
		t.Fatalf("no Application_Type: %v", err)
	}

	billing := f.NewComponentCurrentBillingFeaturesClient()
	b, err := billing.Get(ctx, "ai-rg", "ai1", nil)
	if err != nil || b.DataVolumeCap == nil || *b.DataVolumeCap.Cap != 100 {
		t.Fatalf("billing: %v %s", err, mustJSON(b))
	}
	b.DataVolumeCap.Cap = to.Ptr[float32](10)
	if _, err := billing.Update(ctx, "ai-rg", "ai1", b.ComponentBillingFeatures, nil); err != nil {
		t.Fatalf("update billing: %v", err)
	}
	if b, err := billing.Get(ctx, "ai-rg", "ai1", nil); err != nil || *b.DataVolumeCap.Cap != 10 {
		t.Fatalf("billing after update: %v", err)
	}

	tagged, err := components.UpdateTags(ctx, "ai-rg", "ai1", armapplicationinsights.TagsResource{Tags: map[string]*string{"team": to.Ptr("ml")}}, nil)
	if err != nil || *tagged.Tags["team"] != "ml" || *tagged.Properties.InstrumentationKey != *p.InstrumentationKey {
		t.Fatalf("update tags: %v", err)
	}
	if _, err := components.Delete(ctx, "ai-rg", "ai1", nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := components.Get(ctx, "ai-rg", "ai1", nil); !e2e.IsResponseError(err, http.StatusNotFound, "ResourceNotFound") {
		t.Fatalf("get after delete: %v", err)
	}
}
