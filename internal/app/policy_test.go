package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/armlet/armlet/internal/e2e"
)

// polBuiltInPNA is the built-in "Azure Machine Learning workspaces should
// disable public network access" (Audit, Deny, Disabled; default Audit).
const (
	polBuiltInPNAName = "438c38d2-3772-465a-a9cc-7a6666a275ce"
	polBuiltInPNA     = "/providers/Microsoft.Authorization/policyDefinitions/" + polBuiltInPNAName
)

func polWorkspace(ctx context.Context, ws *armmachinelearning.WorkspacesClient, rg, name string, pna armmachinelearning.PublicNetworkAccess) error {
	p, err := ws.BeginCreateOrUpdate(ctx, rg, name, armmachinelearning.Workspace{
		Location:   to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{PublicNetworkAccess: to.Ptr(pna)},
	}, nil)
	if err != nil {
		return err
	}
	_, err = p.PollUntilDone(ctx, e2e.FastPoll)
	return err
}

// TestPolicyDenyWithGoSDK assigns the built-in public network access
// policy with effect Deny at a resource group through armpolicy v0.9.0;
// the Azure ML Go SDK then cannot create a workspace with public network
// access Enabled there (403 RequestDisallowedByPolicy with the policy's
// details) but can create one with it Disabled, and can still create an
// open one in another resource group.
func TestPolicyDenyWithGoSDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	rg := s.CreateGroup(t, "pol-deny")
	s.CreateGroup(t, "pol-other")
	assignments, err := armpolicy.NewAssignmentsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	created, err := assignments.Create(ctx, rg, "deny-public-ws", armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		DisplayName:        to.Ptr("No public workspaces"),
		PolicyDefinitionID: to.Ptr(polBuiltInPNA),
		Parameters:         map[string]*armpolicy.ParameterValuesValue{"effect": {Value: "Deny"}},
	}}, nil)
	if err != nil {
		t.Fatalf("create assignment: %v", err)
	}
	if got := *created.Properties.Scope; got != rg {
		t.Fatalf("assignment scope %q", got)
	}
	if *created.Properties.EnforcementMode != armpolicy.EnforcementModeDefault {
		t.Fatalf("enforcement mode %v", *created.Properties.EnforcementMode)
	}
	defs, err := armpolicy.NewDefinitionsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	builtIn, err := defs.GetBuiltIn(ctx, "438c38d2-3772-465a-a9cc-7a6666a275ce", nil)
	if err != nil || *builtIn.Properties.PolicyType != armpolicy.PolicyTypeBuiltIn {
		t.Fatalf("get built-in: %v", err)
	}

	ws, err := armmachinelearning.NewWorkspacesClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	err = polWorkspace(ctx, ws, "pol-deny", "open", armmachinelearning.PublicNetworkAccessEnabled)
	if !e2e.IsResponseError(err, http.StatusForbidden, "RequestDisallowedByPolicy") {
		t.Fatalf("open workspace: %v", err)
	}
	if !strings.Contains(err.Error(), "Resource 'open' was disallowed by policy.") || !strings.Contains(err.Error(), "PolicyViolation") ||
		!strings.Contains(err.Error(), "deny-public-ws") || !strings.Contains(err.Error(), "properties.publicNetworkAccess") {
		t.Fatalf("refusal lacks the policy details:\n%v", err)
	}
	if err := polWorkspace(ctx, ws, "pol-deny", "closed", armmachinelearning.PublicNetworkAccessDisabled); err != nil {
		t.Fatalf("closed workspace: %v", err)
	}
	if err := polWorkspace(ctx, ws, "pol-other", "open", armmachinelearning.PublicNetworkAccessEnabled); err != nil {
		t.Fatalf("open workspace outside the assignment's scope: %v", err)
	}
	// The decision is kept with the request's flow record.
	st, _, body := s.Do(t, http.MethodGet, "/_armlet/flows?limit=500", "", nil)
	if st != http.StatusOK || !strings.Contains(body, `"kind":"policy","outcome":"denied"`) || !strings.Contains(body, "decided by field 'Microsoft.MachineLearningServices/workspaces/publicNetworkAccess'") {
		t.Fatalf("no policy denial explained in the flow records: %d %.2000s", st, body)
	}
	// The activity log has the Policy event, and the access report says why.
	now := time.Now().UTC()
	filter := url.QueryEscape("eventTimestamp ge '" + now.Add(-time.Hour).Format(time.RFC3339) + "' and eventTimestamp le '" + now.Add(time.Hour).Format(time.RFC3339) + "'")
	st, _, body = s.Do(t, http.MethodGet, "/subscriptions/"+s.Conn.SubscriptionID+"/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter="+filter, "", nil)
	if st != http.StatusOK || !strings.Contains(body, "Microsoft.Authorization/policies/deny/action") {
		t.Errorf("activity log has no policy deny event: %d %.2000s", st, body)
	}
	st, _, body = s.Do(t, http.MethodGet, "/_armlet/reports/access?deniedOnly=true", "", nil)
	if st != http.StatusOK || !strings.Contains(body, "deny-public-ws") || !strings.Contains(body, `"outcome":"denied"`) {
		t.Errorf("access report does not explain the denial: %d %.2000s", st, body)
	}
}

// TestPolicyAuditWithAzureCLI assigns the same built-in with its default
// effect (Audit) using the Azure CLI 2.45; an open workspace is created
// and shows up as NonCompliant in policyStates (armpolicyinsights v0.8.0),
// and becomes Compliant once closed and re-evaluated.
func TestPolicyAuditWithAzureCLI(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	az := s.AzureCLI(t)
	az.Login()
	ctx := context.Background()
	cred := s.Credential(t)
	rg := s.CreateGroup(t, "pol-audit")
	// The Azure CLI 2.45 looks a --policy that is not a subscription-level
	// ID up by name (first in the subscription, then among the built-ins),
	// so built-ins are named by their GUID.
	a := az.JSON("policy", "assignment", "create", "--name", "audit-public-ws", "--policy", polBuiltInPNAName, "--scope", rg)
	if a["id"] != rg+"/providers/Microsoft.Authorization/policyAssignments/audit-public-ws" {
		t.Fatalf("az policy assignment create: %v", a)
	}
	// Over the existing assignment: Azure answers 201 to every policy
	// assignment PUT, and the CLI refuses anything else ("invalid status").
	a = az.JSON("policy", "assignment", "create", "--name", "audit-public-ws", "--policy", polBuiltInPNAName, "--scope", rg,
		"--display-name", "audit open workspaces")
	if a["displayName"] != "audit open workspaces" {
		t.Fatalf("az policy assignment create over an existing one: %v", a)
	}
	// The built-ins are listed with the subscription's own definitions.
	az.Run("policy", "definition", "create", "--name", "custom-audit", "--mode", "Indexed",
		"--rules", `{"if":{"field":"type","equals":"Microsoft.MachineLearningServices/workspaces"},"then":{"effect":"audit"}}`)
	listed := az.Run("policy", "definition", "list", "--query", "[].[name, policyType]", "-o", "tsv")
	if !strings.Contains(listed, polBuiltInPNAName+"\tBuiltIn") || !strings.Contains(listed, "custom-audit\tCustom") {
		t.Fatalf("az policy definition list shows:\n%s\nwant the built-in %s and custom-audit", listed, polBuiltInPNAName)
	}
	ws, err := armmachinelearning.NewWorkspacesClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := polWorkspace(ctx, ws, "pol-audit", "open", armmachinelearning.PublicNetworkAccessEnabled); err != nil {
		t.Fatalf("audit must not refuse: %v", err)
	}
	if err := polWorkspace(ctx, ws, "pol-audit", "closed", armmachinelearning.PublicNetworkAccessDisabled); err != nil {
		t.Fatal(err)
	}
	states, err := armpolicyinsights.NewPolicyStatesClient(cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	nonCompliant := func() []string {
		var ids []string
		pager := states.NewListQueryResultsForResourceGroupPager(armpolicyinsights.PolicyStatesResourceLatest, s.Conn.SubscriptionID, "pol-audit",
			&armpolicyinsights.QueryOptions{Filter: to.Ptr("complianceState eq 'NonCompliant'")}, nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("query policy states: %v", err)
			}
			for _, st := range page.Value {
				if *st.PolicyAssignmentName != "audit-public-ws" || *st.PolicyDefinitionAction != "audit" {
					t.Fatalf("state %+v", st)
				}
				ids = append(ids, *st.ResourceID)
			}
		}
		return ids
	}
	open := rg + "/providers/Microsoft.MachineLearningServices/workspaces/open"
	if ids := nonCompliant(); len(ids) != 1 || !strings.EqualFold(ids[0], open) {
		t.Fatalf("non-compliant resources %v, want [%s]", ids, open)
	}
	sum, err := states.SummarizeForSubscription(ctx, armpolicyinsights.PolicyStatesSummaryResourceTypeLatest, s.Conn.SubscriptionID, nil, nil)
	if err != nil {
		t.Fatalf("summarize: %v", err)
	}
	if r := sum.Value[0].Results; *r.NonCompliantResources != 1 || *r.NonCompliantPolicies != 1 {
		t.Fatalf("summary %+v", *r)
	}
	// Close the workspace and ask for an evaluation.
	if err := polWorkspace(ctx, ws, "pol-audit", "open", armmachinelearning.PublicNetworkAccessDisabled); err != nil {
		t.Fatal(err)
	}
	st, _, body := s.Do(t, http.MethodPost, "/subscriptions/"+s.Conn.SubscriptionID+"/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?api-version=2019-10-01", "", nil)
	if st != http.StatusAccepted {
		t.Fatalf("triggerEvaluation: %d %s", st, body)
	}
	if ids := nonCompliant(); len(ids) != 0 {
		t.Fatalf("still non-compliant: %v", ids)
	}
}

// TestPolicyErrors: bad policy JSON, unknown aliases and bad scopes get ARM
// errors, through the Go SDK, the Azure CLI and raw REST.
func TestPolicyErrors(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	defs, err := armpolicy.NewDefinitionsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	rule := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ rule, code string }{
		{`{"if":{"field":"Microsoft.MachineLearningServices/workspaces/publicNetworkAccez","equals":"Enabled"},"then":{"effect":"deny"}}`, "InvalidPolicyAlias"},
		{`{"if":{"field":"type","equalz":"x"},"then":{"effect":"deny"}}`, "InvalidPolicyRule"},
		{`{"if":{"field":"type","equals":"x"},"then":{"effect":"refuse"}}`, "InvalidPolicyEffect"},
		{`{"if":{"field":"type","equals":"x"},"then":{}}`, "InvalidPolicyRule"},
	} {
		_, err := defs.CreateOrUpdate(ctx, "bad", armpolicy.Definition{Properties: &armpolicy.DefinitionProperties{
			Mode: to.Ptr("Indexed"), PolicyRule: rule(c.rule)}}, nil)
		if !e2e.IsResponseError(err, http.StatusBadRequest, c.code) {
			t.Fatalf("rule %s: %v, want 400 %s", c.rule, err, c.code)
		}
	}
	az := s.AzureCLI(t)
	az.Login()
	_, stderr, err := az.Try("policy", "definition", "create", "--name", "bad", "--mode", "Indexed",
		"--rules", `{"if":{"field":"tags['env']","notAnOperator":"x"},"then":{"effect":"audit"}}`)
	if err == nil || !strings.Contains(stderr, "InvalidPolicyRule") {
		t.Fatalf("az policy definition create with a bad rule: %v\n%s", err, stderr)
	}
	_, stderr, err = az.Try("policy", "assignment", "create", "--name", "x", "--policy", polBuiltInPNAName,
		"--scope", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/missing")
	if err == nil || !strings.Contains(stderr, "ResourceGroupNotFound") {
		t.Fatalf("az policy assignment create at a missing resource group: %v\n%s", err, stderr)
	}
	for _, c := range []struct{ path, code string }{
		{"/providers/Microsoft.Authorization/policyAssignments/x", "InvalidPolicyScope"},
		{"/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/missing/providers/Microsoft.Authorization/policyAssignments/x", "ResourceGroupNotFound"},
		{"/providers/Microsoft.Management/managementGroups/not-my-tenant/providers/Microsoft.Authorization/policyAssignments/x", "ManagementGroupNotFound"},
	} {
		st, _, body := s.Do(t, http.MethodPut, c.path+"?api-version=2022-06-01", `{"properties":{"policyDefinitionId":"`+polBuiltInPNA+`"}}`, nil)
		if st/100 != 4 || !strings.Contains(body, `"code":"`+c.code+`"`) {
			t.Fatalf("PUT %s: %d %s, want %s", c.path, st, body, c.code)
		}
	}
}
