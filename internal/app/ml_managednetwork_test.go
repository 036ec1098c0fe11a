package app_test

import (
	"context"
	"net/http"
	"sort"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/e2e"
)

// TestGoSDKManagedNetwork drives the workspace managed network with the
// unmodified armmachinelearning/v4 clients: ManagedNetworkSettingsRuleClient
// (create poller, list pager, get, delete poller),
// ManagedNetworkProvisionsClient (provision poller) and WorkspacesClient,
// whose GET shows the same rules. The workspace is in v1 legacy mode: the
// managed network is the workspace's own configuration and is not gated.
func TestGoSDKManagedNetwork(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	const rg, wsName = "mn-rg", "mnws"

	s.CreateGroup(t, rg)
	workspaces, err := armmachinelearning.NewWorkspacesClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	rules, err := armmachinelearning.NewManagedNetworkSettingsRuleClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	provisions, err := armmachinelearning.NewManagedNetworkProvisionsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	storage := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Storage/storageAccounts/mnstore"
	other := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Storage/storageAccounts/datalake"

	wp, err := workspaces.BeginCreateOrUpdate(ctx, rg, wsName, armmachinelearning.Workspace{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{
			StorageAccount: to.Ptr(storage),
			V1LegacyMode:   to.Ptr(true),
			ManagedNetwork: &armmachinelearning.ManagedNetworkSettings{
				IsolationMode: to.Ptr(armmachinelearning.IsolationModeAllowOnlyApprovedOutbound),
				OutboundRules: map[string]armmachinelearning.OutboundRuleClassification{
					"pypi": &armmachinelearning.FqdnOutboundRule{Type: to.Ptr(armmachinelearning.RuleTypeFQDN), Destination: to.Ptr("pypi.org")},
				},
			},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin create workspace: %v", err)
	}
	if _, err := wp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create workspace: %v", err)
	}

	// A rule PUT: the SDK's poller follows the Location to its end, an
	// empty 200 (a rule has no provisioningState that would tell
	// Terraform's poller it is done), and the rule is then read.
	cp, err := rules.BeginCreateOrUpdate(ctx, rg, wsName, "datalake", armmachinelearning.OutboundRuleBasicResource{
		Properties: &armmachinelearning.PrivateEndpointOutboundRule{
			Type: to.Ptr(armmachinelearning.RuleTypePrivateEndpoint),
			Destination: &armmachinelearning.PrivateEndpointDestination{
				ServiceResourceID: to.Ptr(other), SubresourceTarget: to.Ptr("dfs"), SparkEnabled: to.Ptr(true),
			},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin create rule: %v", err)
	}
	if result, err := cp.PollUntilDone(ctx, e2e.FastPoll); err != nil || result.Properties != nil {
		t.Fatalf("create rule: %+v %v, want an empty result", result, err)
	}
	created, err := rules.Get(ctx, rg, wsName, "datalake", nil)
	if err != nil {
		t.Fatalf("get the created rule: %v", err)
	}
	pe, ok := created.Properties.(*armmachinelearning.PrivateEndpointOutboundRule)
	if !ok || *created.Name != "datalake" || *created.Type != "Microsoft.MachineLearningServices/workspaces/outboundRules" ||
		*pe.Destination.ServiceResourceID != other || *pe.Category != armmachinelearning.RuleCategoryUserDefined ||
		*pe.Status != armmachinelearning.RuleStatusInactive {
		t.Fatalf("created rule = %+v %#v", created, created.Properties)
	}

	// The list pager, the rule GET and the workspace GET agree.
	listed := mnetListRules(ctx, t, rules, rg, wsName)
	wantNames := []string{
		"__SYS_PE_mnstore_blob", "__SYS_PE_mnstore_file", "__SYS_ST_AzureActiveDirectory", "__SYS_ST_AzureFrontDoor_FirstParty",
		"__SYS_ST_AzureMachineLearning", "__SYS_ST_AzureResourceManager", "__SYS_ST_BatchNodeManagement_eastus", "datalake", "pypi",
	}
	if got := mnetSortedNames(listed); !mnetEqualStrings(got, wantNames) {
		t.Fatalf("listed rules = %v, want %v", got, wantNames)
	}
	if r := listed["__SYS_ST_AzureActiveDirectory"].GetOutboundRule(); *r.Category != armmachinelearning.RuleCategoryRequired {
		t.Errorf("required rule category = %s", *r.Category)
	}
	got, err := rules.Get(ctx, rg, wsName, "pypi", nil)
	if err != nil {
		t.Fatalf("get rule: %v", err)
	}
	if fq, ok := got.Properties.(*armmachinelearning.FqdnOutboundRule); !ok || *fq.Destination != "pypi.org" {
		t.Errorf("get rule = %#v", got.Properties)
	}
	mnetAssertSameRules(ctx, t, workspaces, rg, wsName, listed)

	// Provisioning: the network and its rules become Active.
	pp, err := provisions.BeginProvisionManagedNetwork(ctx, rg, wsName, &armmachinelearning.ManagedNetworkProvisionsClientBeginProvisionManagedNetworkOptions{
		Body: &armmachinelearning.ManagedNetworkProvisionOptions{IncludeSpark: to.Ptr(true)},
	})
	if err != nil {
		t.Fatalf("begin provision: %v", err)
	}
	prov, err := pp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	if *prov.Status != armmachinelearning.ManagedNetworkStatusActive || !*prov.SparkReady {
		t.Errorf("provision result = %+v", prov.ManagedNetworkProvisionStatus)
	}
	ws, err := workspaces.Get(ctx, rg, wsName, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := ws.Properties.ManagedNetwork.Status; *st.Status != armmachinelearning.ManagedNetworkStatusActive || !*st.SparkReady {
		t.Errorf("managed network status = %+v", st)
	}
	listed = mnetListRules(ctx, t, rules, rg, wsName)
	for name, r := range listed {
		if s := *r.GetOutboundRule().Status; s != armmachinelearning.RuleStatusActive {
			t.Errorf("rule %s after provisioning: %s", name, s)
		}
	}
	if sp := *listed["datalake"].(*armmachinelearning.PrivateEndpointOutboundRule).Destination.SparkStatus; sp != armmachinelearning.RuleStatusActive {
		t.Errorf("datalake sparkStatus = %s", sp)
	}
	mnetAssertSameRules(ctx, t, workspaces, rg, wsName, listed)

	// DELETE: the poller ends when the rule is gone.
	dp, err := rules.BeginDelete(ctx, rg, wsName, "pypi", nil)
	if err != nil {
		t.Fatalf("begin delete rule: %v", err)
	}
	if _, err := dp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete rule: %v", err)
	}
	_, err = rules.Get(ctx, rg, wsName, "pypi", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ResourceNotFound")
	listed = mnetListRules(ctx, t, rules, rg, wsName)
	if _, ok := listed["pypi"]; ok || len(listed) != len(wantNames)-1 {
		t.Errorf("after delete: %v", mnetSortedNames(listed))
	}
	mnetAssertSameRules(ctx, t, workspaces, rg, wsName, listed)

	// Refusals surface as azcore.ResponseError.
	_, err = rules.BeginDelete(ctx, rg, wsName, "__SYS_PE_mnstore_blob", nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")
	_, err = rules.BeginCreateOrUpdate(ctx, rg, wsName, "no", armmachinelearning.OutboundRuleBasicResource{
		Properties: &armmachinelearning.FqdnOutboundRule{Type: to.Ptr(armmachinelearning.RuleTypeFQDN), Destination: to.Ptr("x.org")},
	}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "InvalidResourceName")
	_, err = workspaces.BeginUpdate(ctx, rg, wsName, armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{
			ManagedNetwork: &armmachinelearning.ManagedNetworkSettings{IsolationMode: to.Ptr(armmachinelearning.IsolationModeDisabled)},
		},
	}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")
}

func mnetListRules(ctx context.Context, t *testing.T, c *armmachinelearning.ManagedNetworkSettingsRuleClient, rg, ws string) map[string]armmachinelearning.OutboundRuleClassification {
	t.Helper()
	out := map[string]armmachinelearning.OutboundRuleClassification{}
	pager := c.NewListPager(rg, ws, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list rules: %v", err)
		}
		for _, r := range page.Value {
			out[*r.Name] = r.Properties
		}
	}
	return out
}

// mnetAssertSameRules checks that the workspace GET shows exactly the rules
// listed, with the same type, category and status.
func mnetAssertSameRules(ctx context.Context, t *testing.T, c *armmachinelearning.WorkspacesClient, rg, ws string, listed map[string]armmachinelearning.OutboundRuleClassification) {
	t.Helper()
	got, err := c.Get(ctx, rg, ws, nil)
	if err != nil {
		t.Fatalf("get workspace: %v", err)
	}
	inWS := got.Properties.ManagedNetwork.OutboundRules
	if !mnetEqualStrings(mnetSortedNames(inWS), mnetSortedNames(listed)) {
		t.Fatalf("workspace shows %v, outboundRules %v", mnetSortedNames(inWS), mnetSortedNames(listed))
	}
	for name, r := range listed {
		a, b := r.GetOutboundRule(), inWS[name].GetOutboundRule()
		if *a.Type != *b.Type || *a.Category != *b.Category || *a.Status != *b.Status {
			t.Errorf("rule %s: outboundRules %s/%s/%s, workspace %s/%s/%s", name, *a.Type, *a.Category, *a.Status, *b.Type, *b.Category, *b.Status)
		}
	}
}

func mnetSortedNames(m map[string]armmachinelearning.OutboundRuleClassification) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mnetEqualStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
