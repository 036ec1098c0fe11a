package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/google/uuid"
)

// rbacDenied checks err is Azure's 403 AuthorizationFailed naming the
// principal and the missing action.
func rbacDenied(t *testing.T, err error, p e2e.Principal, action string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || re.ErrorCode != "AuthorizationFailed" {
		t.Fatalf("want 403 AuthorizationFailed for %s, got %v", action, err)
	}
	want := "The client '" + p.ClientID + "' with object id '" + p.ObjectID + "' does not have authorization to perform action '" + action + "' over scope '"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("403 message does not name the client and action %s:\n%v", action, err)
	}
}

func rbacWorkspaces(t *testing.T, s *e2e.Armlet, cred azcore.TokenCredential) *armmachinelearning.WorkspacesClient {
	c, err := armmachinelearning.NewWorkspacesClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRBACGoSDK: a second principal with Reader on a resource group can
// read but not create a workspace; with AzureML Data Scientist on the
// workspace it can create jobs but not computes. Role assignments are made
// with armauthorization/v2.
func TestRBACGoSDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	s.CreateWorkspace(t, "rbac-rg", "ws1", false)
	rgScope := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/rbac-rg"
	wsScope := rgScope + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"

	reader, readerCred := s.NewPrincipal(t, "reader")
	ws := rbacWorkspaces(t, s, readerCred)
	// No role yet: even a read is refused.
	_, err := ws.Get(ctx, "rbac-rg", "ws1", nil)
	rbacDenied(t, err, reader, "Microsoft.MachineLearningServices/workspaces/read")

	s.Assign(t, rgScope, "Reader", reader.ObjectID)
	if got, err := ws.Get(ctx, "rbac-rg", "ws1", nil); err != nil || *got.Name != "ws1" {
		t.Fatalf("reader GET workspace: %v", err)
	}
	_, err = ws.BeginCreateOrUpdate(ctx, "rbac-rg", "ws2", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	rbacDenied(t, err, reader, "Microsoft.MachineLearningServices/workspaces/write")
	// The workspace endpoint checks the same assignments: Reader reads run
	// history but cannot write it.
	history := "/history/v1.0" + wsScope + "/experiments"
	auth := map[string]string{"Authorization": "Bearer " + s.TokenOf(t, readerCred)}
	if code, _, body := s.Do(t, http.MethodGet, history, "", auth); code != http.StatusOK {
		t.Fatalf("reader GET run history: %d %s", code, body)
	}
	code, _, body := s.Do(t, http.MethodPatch, history+"/e1/runs/r1", `{}`, auth)
	if code != http.StatusForbidden || !strings.Contains(body, "Microsoft.MachineLearningServices/workspaces/experiments/runs/write") {
		t.Fatalf("reader PATCH a run: %d %s", code, body)
	}
	// Reader at the group does not reach another group.
	groups, _ := armresources.NewResourceGroupsClient(s.Conn.SubscriptionID, readerCred, s.ARMOptions())
	_, err = groups.Get(ctx, "other-rg", nil)
	rbacDenied(t, err, reader, "Microsoft.Resources/subscriptions/resourceGroups/read")

	scientist, sciCred := s.NewPrincipal(t, "scientist")
	s.Assign(t, wsScope, "AzureML Data Scientist", scientist.ObjectID)
	jobs, err := armmachinelearning.NewJobsClient(s.Conn.SubscriptionID, sciCred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.CreateOrUpdate(ctx, "rbac-rg", "ws1", "train1", commandJob(nil), nil); err != nil {
		t.Fatalf("data scientist creates a job: %v", err)
	}
	if _, err := jobs.Get(ctx, "rbac-rg", "ws1", "train1", nil); err != nil {
		t.Fatalf("data scientist reads a job: %v", err)
	}
	computes, err := armmachinelearning.NewComputeClient(s.Conn.SubscriptionID, sciCred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = computes.BeginCreateOrUpdate(ctx, "rbac-rg", "ws1", "cpu", armmachinelearning.ComputeResource{
		Properties: &armmachinelearning.AmlCompute{
			ComputeType: to.Ptr(armmachinelearning.ComputeTypeAmlCompute),
			Properties:  &armmachinelearning.AmlComputeProperties{VMSize: to.Ptr("STANDARD_D2_V2")},
		},
	}, nil)
	rbacDenied(t, err, scientist, "Microsoft.MachineLearningServices/workspaces/computes/write")
	// Nor may it change the workspace itself.
	_, err = rbacWorkspaces(t, s, sciCred).BeginCreateOrUpdate(ctx, "rbac-rg", "ws1", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	rbacDenied(t, err, scientist, "Microsoft.MachineLearningServices/workspaces/write")

	// The decisions are kept with the flow records.
	denied := rbacDecision(t, s, "denied", "Microsoft.MachineLearningServices/workspaces/computes/write")
	if !strings.Contains(denied.Reason, scientist.ObjectID) {
		t.Errorf("denial reason: %v", denied)
	}
	allowed := rbacDecision(t, s, "allowed", "Microsoft.MachineLearningServices/workspaces/jobs/write")
	if refs := allowed.Refs; len(refs) != 2 || !strings.Contains(refs[1], "f6c7c914-8db3-469d-8ca1-694a8f32e121") {
		t.Errorf("allowed decision refs: %v", allowed)
	}
}

// rbacDecision finds an RBAC decision with the outcome and action in the
// flow records.
func rbacDecision(t *testing.T, s *e2e.Armlet, outcome, action string) decision.Decision {
	t.Helper()
	flows, _ := s.FlowRecords(t, "")
	for _, f := range flows {
		for _, d := range f.Decisions {
			if d.Kind == "rbac" && d.Outcome == outcome && d.Action == action {
				return d
			}
		}
	}
	t.Fatalf("no rbac decision %s %s in the flow records", outcome, action)
	return decision.Decision{}
}

// TestRBACAudit: with --rbac=audit a principal without roles is let
// through, and the denial is recorded as audited.
func TestRBACAudit(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.RBAC = config.RBACAudit }))
	_, cred := s.NewPrincipal(t, "norole")
	groups, err := armresources.NewResourceGroupsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(context.Background(), "audited-rg", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatalf("audit mode refused: %v", err)
	}
	rbacDecision(t, s, "audited", "Microsoft.Resources/subscriptions/resourceGroups/write")
}

// azRoleAssign assigns role (by name) to the service principal
// principalID at scope with az role assignment create
// --assignee-object-id ... --assignee-principal-type ServicePrincipal
// and returns the assignment's properties. Where the installed package's
// `az role` is broken it makes the command's two calls, with its
// api-versions, through az rest at armBase (ARM's URL the CLI uses), and
// says so with viaRest.
func azRoleAssign(t *testing.T, az *e2e.AzureCLI, armBase, scope, role, principalID string) (assignment map[string]any, viaRest bool) {
	t.Helper()
	out, errOut, err := az.Try("role", "assignment", "create", "--assignee-object-id", principalID,
		"--assignee-principal-type", "ServicePrincipal", "--role", role, "--scope", scope, "-o", "json")
	switch {
	case err == nil:
		if err := json.Unmarshal([]byte(out), &assignment); err != nil {
			t.Fatalf("az role assignment create: %v\n%s", err, out)
		}
		return assignment, false
	case strings.Contains(errOut, "'RoleAssignmentsOperations' object has no attribute 'config'"):
		// Debian's azure-cli 2.45 ships azure-mgmt-authorization 3.0.0,
		// whose operation groups have no .config: every `az role`
		// command fails in the client before sending a request.
		t.Log("az role assignment create is broken in this azure-cli package (client-side AttributeError); using az rest with the same calls")
	default:
		t.Fatalf("az role assignment create: %v\n%s\n%s", err, out, errOut)
	}
	base := strings.TrimSuffix(armBase, "/") + scope + "/providers/Microsoft.Authorization/"
	defs := az.JSON("rest", "--method", "get", "--url", base+"roleDefinitions?api-version=2018-01-01-preview&$filter=roleName%20eq%20'"+url.PathEscape(role)+"'")
	list, _ := defs["value"].([]any)
	if len(list) != 1 {
		t.Fatalf("role definitions named %s: %v", role, defs)
	}
	roleID := list[0].(map[string]any)["id"].(string)
	body := `{"properties":{"roleDefinitionId":"` + roleID + `","principalId":"` + principalID + `","principalType":"ServicePrincipal"}}`
	created := az.JSON("rest", "--method", "put", "--url", base+"roleAssignments/"+uuid.NewString()+"?api-version=2020-04-01-preview", "--body", body)
	assignment, _ = created["properties"].(map[string]any)
	return assignment, true
}

// TestRBACAzureCLI assigns Reader on a resource group with the Azure CLI
// 2.45 (az role assignment create --assignee-object-id ...
// --assignee-principal-type ServicePrincipal, or, where the installed
// package's `az role` is broken, the same requests through az rest), then
// checks the principal reads but cannot write.
func TestRBACAzureCLI(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	az := s.AzureCLI(t)
	az.Login()
	az.Run("group", "create", "-n", "cli-rbac-rg", "-l", "eastus")
	scope := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/cli-rbac-rg"
	p, cred := s.NewPrincipal(t, "cli-reader")
	a, viaRest := azRoleAssign(t, az, s.Conn.ARMEndpoint, scope, "Reader", p.ObjectID)
	if viaRest {
		base := strings.TrimSuffix(s.Conn.ARMEndpoint, "/") + scope + "/providers/Microsoft.Authorization/"
		body := `{"properties":{"roleDefinitionId":"` + a["roleDefinitionId"].(string) + `","principalId":"` + p.ObjectID + `","principalType":"ServicePrincipal"}}`
		// The same assignment under another name: 409 RoleAssignmentExists.
		_, dupErr, err := az.Try("rest", "--method", "put", "--url", base+"roleAssignments/"+uuid.NewString()+"?api-version=2020-04-01-preview", "--body", body)
		if err == nil || !strings.Contains(dupErr, "RoleAssignmentExists") {
			t.Fatalf("duplicate assignment through az rest: %v %s", err, dupErr)
		}
		// atScope() list, as az role assignment list --scope sends it.
		listed := az.JSON("rest", "--method", "get", "--url", base+"roleAssignments?api-version=2020-04-01-preview&$filter=atScope()")
		if n := len(listed["value"].([]any)); n != 2 { // the bootstrap Owner at the root and this one
			t.Fatalf("atScope() list: %v", listed)
		}
	}
	if a == nil || !strings.HasSuffix(a["roleDefinitionId"].(string), "/acdd72a7-3385-48ef-bd42-f606fba81ae7") || a["principalId"] != p.ObjectID || a["scope"] != scope {
		t.Fatalf("role assignment = %v", a)
	}
	groups, err := armresources.NewResourceGroupsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := groups.Get(ctx, "cli-rbac-rg", nil); err != nil {
		t.Fatalf("reader GET group: %v", err)
	}
	_, err = rbacWorkspaces(t, s, cred).BeginCreateOrUpdate(ctx, "cli-rbac-rg", "ws", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	rbacDenied(t, err, p, "Microsoft.MachineLearningServices/workspaces/write")
}
