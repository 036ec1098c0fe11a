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

// computeFixture is an armlet with resource group "ml-rg" and workspace
// "ws1" (v1LegacyMode as given), and the Go SDK clients of the area.
type computeFixture struct {
	s          *e2e.Armlet
	computes   *armmachinelearning.ComputeClient
	workspaces *armmachinelearning.WorkspacesClient
	features   *armmachinelearning.WorkspaceFeaturesClient
}

func newComputeFixture(t *testing.T, legacy bool) *computeFixture {
	t.Helper()
	s := e2e.Start(t)
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	f := &computeFixture{s: s, workspaces: s.CreateWorkspace(t, "ml-rg", "ws1", legacy)}
	var err error
	if f.computes, err = armmachinelearning.NewComputeClient(sub, cred, s.ARMOptions()); err != nil {
		t.Fatal(err)
	}
	if f.features, err = armmachinelearning.NewWorkspaceFeaturesClient(sub, cred, s.ARMOptions()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *computeFixture) instanceState(t *testing.T, name string) armmachinelearning.ComputeInstanceState {
	t.Helper()
	got, err := f.computes.Get(context.Background(), "ml-rg", "ws1", name, nil)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	ci, ok := got.Properties.(*armmachinelearning.ComputeInstance)
	if !ok || ci.Properties == nil || ci.Properties.State == nil {
		t.Fatalf("%s decodes as %T without a state", name, got.Properties)
	}
	return *ci.Properties.State
}

// TestGoSDKComputes drives computes with armmachinelearning/v4's
// ComputeClient and its pollers, in a workspace in v1 legacy mode (rule L5
// exempts computes).
func TestGoSDKComputes(t *testing.T) {
	t.Parallel()
	f := newComputeFixture(t, true)
	ctx := context.Background()
	c := f.computes

	// Create an AmlCompute and a ComputeInstance.
	cp, err := c.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "cpu", armmachinelearning.ComputeResource{
		Properties: &armmachinelearning.AmlCompute{
			ComputeType: to.Ptr(armmachinelearning.ComputeTypeAmlCompute),
			Description: to.Ptr("cpu cluster"),
			Properties: &armmachinelearning.AmlComputeProperties{
				VMSize:        to.Ptr("STANDARD_D2_V2"),
				ScaleSettings: &armmachinelearning.ScaleSettings{MaxNodeCount: to.Ptr[int32](20), MinNodeCount: to.Ptr[int32](12)},
			},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin create AmlCompute: %v", err)
	}
	created, err := cp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("create AmlCompute: %v", err)
	}
	aml, ok := created.Properties.(*armmachinelearning.AmlCompute)
	if !ok || *aml.ProvisioningState != armmachinelearning.ProvisioningStateSucceeded || *created.Location != "eastus" ||
		*aml.Properties.VMSize != "STANDARD_D2_V2" || *aml.IsAttachedCompute || aml.CreatedOn == nil {
		t.Fatalf("created AmlCompute = %T %+v", created.Properties, aml)
	}

	ip, err := c.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "ci1", armmachinelearning.ComputeResource{
		Properties: &armmachinelearning.ComputeInstance{
			ComputeType: to.Ptr(armmachinelearning.ComputeTypeComputeInstance),
			Properties:  &armmachinelearning.ComputeInstanceProperties{VMSize: to.Ptr("STANDARD_DS3_V2")},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin create ComputeInstance: %v", err)
	}
	if _, err := ip.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create ComputeInstance: %v", err)
	}

	// List.
	var names []string
	pager := c.NewListPager("ml-rg", "ws1", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, r := range page.Value {
			names = append(names, *r.Name)
		}
	}
	if strings.Join(names, ",") != "ci1,cpu" {
		t.Errorf("listed %v, want ci1,cpu", names)
	}

	// Update the scale settings.
	up, err := c.BeginUpdate(ctx, "ml-rg", "ws1", "cpu", armmachinelearning.ClusterUpdateParameters{
		Properties: &armmachinelearning.ClusterUpdateProperties{Properties: &armmachinelearning.ScaleSettingsInformation{
			ScaleSettings: &armmachinelearning.ScaleSettings{MaxNodeCount: to.Ptr[int32](30), MinNodeCount: to.Ptr[int32](12), NodeIdleTimeBeforeScaleDown: to.Ptr("PT5M")},
		}},
	}, nil)
	if err != nil {
		t.Fatalf("begin update: %v", err)
	}
	updated, err := up.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	ss := updated.Properties.(*armmachinelearning.AmlCompute).Properties.ScaleSettings
	if *ss.MaxNodeCount != 30 || *ss.NodeIdleTimeBeforeScaleDown != "PT5M" {
		t.Errorf("scale settings after update = %+v", ss)
	}

	// listNodes pages through all 12 nodes.
	nodes := 0
	np := c.NewListNodesPager("ml-rg", "ws1", "cpu", nil)
	pages := 0
	for np.More() {
		page, err := np.NextPage(ctx)
		if err != nil {
			t.Fatalf("listNodes: %v", err)
		}
		pages++
		for _, n := range page.Nodes {
			if *n.NodeState != armmachinelearning.NodeStateIdle || n.PrivateIPAddress == nil {
				t.Errorf("node %+v", n)
			}
			nodes++
		}
	}
	if nodes != 12 || pages != 2 {
		t.Errorf("listNodes gave %d nodes in %d pages, want 12 in 2", nodes, pages)
	}

	// Stop and start the instance with the SDK's pollers.
	if got := f.instanceState(t, "ci1"); got != armmachinelearning.ComputeInstanceStateRunning {
		t.Errorf("state after create = %s", got)
	}
	stop, err := c.BeginStop(ctx, "ml-rg", "ws1", "ci1", nil)
	if err != nil {
		t.Fatalf("begin stop: %v", err)
	}
	// Stopping lasts 200 ms: a slow machine may already see Stopped.
	if got := f.instanceState(t, "ci1"); got != armmachinelearning.ComputeInstanceStateStopping && got != armmachinelearning.ComputeInstanceStateStopped {
		t.Errorf("state while stopping = %s", got)
	}
	if _, err := stop.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := f.instanceState(t, "ci1"); got != armmachinelearning.ComputeInstanceStateStopped {
		t.Errorf("state after stop = %s", got)
	}
	_, err = c.BeginStop(ctx, "ml-rg", "ws1", "ci1", nil)
	e2e.RequireResponseError(t, err, http.StatusConflict, "Conflict")
	_, err = c.BeginStart(ctx, "ml-rg", "ws1", "cpu", nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")
	start, err := c.BeginStart(ctx, "ml-rg", "ws1", "ci1", nil)
	if err != nil {
		t.Fatalf("begin start: %v", err)
	}
	if _, err := start.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("start: %v", err)
	}
	if got := f.instanceState(t, "ci1"); got != armmachinelearning.ComputeInstanceStateRunning {
		t.Errorf("state after start = %s", got)
	}

	// listKeys of an attached AKS compute.
	aksID := "/subscriptions/" + f.s.Conn.SubscriptionID + "/resourceGroups/ml-rg/providers/Microsoft.ContainerService/managedClusters/aks1"
	ap, err := c.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "aks", armmachinelearning.ComputeResource{
		Properties: &armmachinelearning.AKS{ComputeType: to.Ptr(armmachinelearning.ComputeTypeAKS), ResourceID: to.Ptr(aksID)},
	}, nil)
	if err != nil {
		t.Fatalf("begin create AKS: %v", err)
	}
	if _, err := ap.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create AKS: %v", err)
	}
	keys, err := c.ListKeys(ctx, "ml-rg", "ws1", "aks", nil)
	if err != nil {
		t.Fatalf("listKeys: %v", err)
	}
	if aks, ok := keys.ComputeSecretsClassification.(*armmachinelearning.AksComputeSecrets); !ok || aks.AdminKubeConfig == nil || !strings.Contains(*aks.UserKubeConfig, "kind: Config") {
		t.Errorf("listKeys = %#v", keys.ComputeSecretsClassification)
	}

	// Delete needs underlyingResourceAction; the SDK always sends it.
	code, _, body := f.s.Do(t, http.MethodDelete, "/subscriptions/"+f.s.Conn.SubscriptionID+
		"/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/cpu?api-version=2024-04-01", "", nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "underlyingResourceAction") {
		t.Errorf("delete without underlyingResourceAction: %d %s", code, body)
	}
	del, err := c.BeginDelete(ctx, "ml-rg", "ws1", "cpu", armmachinelearning.UnderlyingResourceActionDelete, nil)
	if err != nil {
		t.Fatalf("begin delete: %v", err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.Get(ctx, "ml-rg", "ws1", "cpu", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceNotFound")

	// The workspace is in legacy mode: its v2 children are refused while
	// computes were served. After v1LegacyMode false, computes still work.
	code, _, body = f.s.Do(t, http.MethodGet, "/subscriptions/"+f.s.Conn.SubscriptionID+
		"/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/datastores?api-version=2024-04-01", "", nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "UserError") || !strings.Contains(body, "v1LegacyMode") {
		t.Errorf("a v2 child of a legacy-mode workspace: %d %s", code, body)
	}
	wp, err := f.workspaces.BeginUpdate(ctx, "ml-rg", "ws1", armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{V1LegacyMode: to.Ptr(false)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	if got := f.instanceState(t, "ci1"); got != armmachinelearning.ComputeInstanceStateRunning {
		t.Errorf("state after leaving legacy mode = %s", got)
	}
}

// TestGoSDKWorkspaceOperations drives diagnose, prepareNotebook,
// listNotebookAccessToken, the outbound dependencies and the features
// pager with the Go SDK.
func TestGoSDKWorkspaceOperations(t *testing.T) {
	t.Parallel()
	f := newComputeFixture(t, false)
	ctx := context.Background()
	w := f.workspaces

	dp, err := w.BeginDiagnose(ctx, "ml-rg", "ws1", &armmachinelearning.WorkspacesClientBeginDiagnoseOptions{
		Parameters: &armmachinelearning.DiagnoseWorkspaceParameters{Value: &armmachinelearning.DiagnoseRequestProperties{
			Udr: map[string]any{}, Nsg: map[string]any{},
		}},
	})
	if err != nil {
		t.Fatalf("begin diagnose: %v", err)
	}
	diag, err := dp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("diagnose: %v", err)
	}
	if v := diag.Value; v == nil || v.UserDefinedRouteResults == nil || len(v.ContainerRegistryResults) != 1 ||
		*v.ContainerRegistryResults[0].Level != armmachinelearning.DiagnoseResultLevelInformation {
		t.Errorf("diagnose = %+v", diag.Value)
	}

	np, err := w.BeginPrepareNotebook(ctx, "ml-rg", "ws1", nil)
	if err != nil {
		t.Fatalf("begin prepareNotebook: %v", err)
	}
	nb, err := np.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("prepareNotebook: %v", err)
	}
	if nb.Fqdn == nil || !strings.HasPrefix(*nb.Fqdn, "ml-ws1-eastus-") || !strings.HasSuffix(*nb.Fqdn, ".eastus.notebooks.azure.net") || nb.ResourceID == nil {
		t.Errorf("notebook = %+v", nb.NotebookResourceInfo)
	}

	tok, err := w.ListNotebookAccessToken(ctx, "ml-rg", "ws1", nil)
	if err != nil {
		t.Fatalf("listNotebookAccessToken: %v", err)
	}
	if tok.AccessToken == nil || *tok.HostName != *nb.Fqdn || *tok.ExpiresIn != 3600 {
		t.Errorf("token = %+v", tok.NotebookAccessTokenResult)
	}

	deps, err := w.ListOutboundNetworkDependenciesEndpoints(ctx, "ml-rg", "ws1", nil)
	if err != nil {
		t.Fatalf("outbound dependencies: %v", err)
	}
	categories := map[string]bool{}
	for _, d := range deps.Value {
		categories[*d.Properties.Category] = len(d.Properties.Endpoints) > 0
	}
	if !categories["Azure Active Directory"] || !categories["Azure Machine Learning"] || !categories["Azure Storage"] {
		t.Errorf("outbound dependency categories = %v", categories)
	}

	var ids []string
	fp := f.features.NewListPager("ml-rg", "ws1", nil)
	for fp.More() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatalf("features: %v", err)
		}
		for _, ft := range page.Value {
			ids = append(ids, *ft.ID)
		}
	}
	if len(ids) < 2 || ids[0] != "automatedml_createeditexperimentsui" {
		t.Errorf("features = %v", ids)
	}
	_, err = w.ListNotebookAccessToken(ctx, "ml-rg", "nope", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "")
}
