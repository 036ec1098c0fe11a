package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/config"
	"github.com/google/uuid"
)

// rbacPrincipal is a service principal made through the admin API.
type rbacPrincipal struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	ObjectID     string `json:"objectId"`
}

// rbacNewPrincipal creates a principal with no role (POST /_armlet/principals).
func rbacNewPrincipal(t *testing.T, s *testServer, name string) (rbacPrincipal, azcore.TokenCredential) {
	t.Helper()
	status, _, body := s.do(t, http.MethodPost, "/_armlet/principals", `{"name":"`+name+`"}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("create principal: %d %s", status, body)
	}
	var p rbacPrincipal
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.ObjectID == "" {
		t.Fatalf("principal: %v %s", err, body)
	}
	return p, s.credential(t, p.ClientID, p.ClientSecret)
}

// rbacAssign gives a built-in role, found by name with RoleDefinitionsClient
// and a $filter, to a principal at scope with RoleAssignmentsClient.Create.
func rbacAssign(t *testing.T, s *testServer, scope, role, principal string) armauthorization.RoleAssignment {
	t.Helper()
	ctx := context.Background()
	cred := s.credential(t, s.conn.ClientID, s.conn.ClientSecret)
	defs, err := armauthorization.NewRoleDefinitionsClient(cred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	var found []*armauthorization.RoleDefinition
	pager := defs.NewListPager(scope, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq '" + role + "'")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list role definitions: %v", err)
		}
		found = append(found, page.Value...)
	}
	if len(found) != 1 || *found[0].Properties.RoleName != role || *found[0].Properties.RoleType != "BuiltInRole" {
		t.Fatalf("role definitions named %q: %d", role, len(found))
	}
	assignments, err := armauthorization.NewRoleAssignmentsClient(s.conn.SubscriptionID, cred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	params := armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: found[0].ID, PrincipalID: to.Ptr(principal), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
	}}
	created, err := assignments.Create(ctx, scope, uuid.NewString(), params, nil)
	if err != nil {
		t.Fatalf("create role assignment: %v", err)
	}
	if !strings.EqualFold(*created.Properties.Scope, scope) || *created.Properties.PrincipalID != principal {
		t.Fatalf("created assignment: %+v", created.Properties)
	}
	// The same role for the same principal at the same scope again: 409.
	_, err = assignments.Create(ctx, scope, uuid.NewString(), params, nil)
	if code := rbacErrorCode(err); code != "RoleAssignmentExists" {
		t.Fatalf("duplicate assignment: %v", err)
	}
	return created.RoleAssignment
}

// rbacToken gets an ARM access token from cred.
func rbacToken(t *testing.T, s *testServer, cred azcore.TokenCredential) string {
	t.Helper()
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{s.conn.Audience + ".default"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func rbacErrorCode(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// rbacDenied checks err is Azure's 403 AuthorizationFailed naming the
// principal and the missing action.
func rbacDenied(t *testing.T, err error, p rbacPrincipal, action string) {
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

func rbacWorkspaces(t *testing.T, s *testServer, cred azcore.TokenCredential) *armmachinelearning.WorkspacesClient {
	c, err := armmachinelearning.NewWorkspacesClient(s.conn.SubscriptionID, cred, s.armOptions())
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
	s := startArmlet(t)
	ctx := context.Background()
	owner := s.credential(t, s.conn.ClientID, s.conn.ClientSecret)
	createMLWorkspace(t, s, owner, "rbac-rg", false)
	rgScope := "/subscriptions/" + s.conn.SubscriptionID + "/resourceGroups/rbac-rg"
	wsScope := rgScope + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"

	reader, readerCred := rbacNewPrincipal(t, s, "reader")
	ws := rbacWorkspaces(t, s, readerCred)
	// No role yet: even a read is refused.
	_, err := ws.Get(ctx, "rbac-rg", "ws1", nil)
	rbacDenied(t, err, reader, "Microsoft.MachineLearningServices/workspaces/read")

	rbacAssign(t, s, rgScope, "Reader", reader.ObjectID)
	if got, err := ws.Get(ctx, "rbac-rg", "ws1", nil); err != nil || *got.Name != "ws1" {
		t.Fatalf("reader GET workspace: %v", err)
	}
	_, err = ws.BeginCreateOrUpdate(ctx, "rbac-rg", "ws2", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	rbacDenied(t, err, reader, "Microsoft.MachineLearningServices/workspaces/write")
	// The workspace endpoint checks the same assignments: Reader reads run
	// history but cannot write it.
	history := "/history/v1.0" + wsScope + "/experiments"
	auth := map[string]string{"Authorization": "Bearer " + rbacToken(t, s, readerCred)}
	if code, _, body := s.do(t, http.MethodGet, history, "", auth); code != http.StatusOK {
		t.Fatalf("reader GET run history: %d %s", code, body)
	}
	code, _, body := s.do(t, http.MethodPatch, history+"/e1/runs/r1", `{}`, auth)
	if code != http.StatusForbidden || !strings.Contains(body, "Microsoft.MachineLearningServices/workspaces/experiments/runs/write") {
		t.Fatalf("reader PATCH a run: %d %s", code, body)
	}
	// Reader at the group does not reach another group.
	groups, _ := armresources.NewResourceGroupsClient(s.conn.SubscriptionID, readerCred, s.armOptions())
	_, err = groups.Get(ctx, "other-rg", nil)
	rbacDenied(t, err, reader, "Microsoft.Resources/subscriptions/resourceGroups/read")

	scientist, sciCred := rbacNewPrincipal(t, s, "scientist")
	rbacAssign(t, s, wsScope, "AzureML Data Scientist", scientist.ObjectID)
	jobs, err := armmachinelearning.NewJobsClient(s.conn.SubscriptionID, sciCred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.CreateOrUpdate(ctx, "rbac-rg", "ws1", "train1", commandJob(nil), nil); err != nil {
		t.Fatalf("data scientist creates a job: %v", err)
	}
	if _, err := jobs.Get(ctx, "rbac-rg", "ws1", "train1", nil); err != nil {
		t.Fatalf("data scientist reads a job: %v", err)
	}
	computes, err := armmachinelearning.NewComputeClient(s.conn.SubscriptionID, sciCred, s.armOptions())
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
	if !strings.Contains(denied["reason"].(string), scientist.ObjectID) {
		t.Errorf("denial reason: %v", denied)
	}
	allowed := rbacDecision(t, s, "allowed", "Microsoft.MachineLearningServices/workspaces/jobs/write")
	if refs, _ := allowed["refs"].([]any); len(refs) != 2 || !strings.Contains(refs[1].(string), "f6c7c914-8db3-469d-8ca1-694a8f32e121") {
		t.Errorf("allowed decision refs: %v", allowed)
	}
}

// rbacDecision finds an RBAC decision with the outcome and action in the
// flow records.
func rbacDecision(t *testing.T, s *testServer, outcome, action string) map[string]any {
	t.Helper()
	status, _, body := s.do(t, http.MethodGet, "/_armlet/flows", "", nil)
	if status != http.StatusOK {
		t.Fatalf("flows: %d %s", status, body)
	}
	var flows struct {
		Value []struct {
			Decisions []map[string]any `json:"decisions"`
		} `json:"value"`
	}
	if err := json.Unmarshal([]byte(body), &flows); err != nil {
		t.Fatal(err)
	}
	for _, f := range flows.Value {
		for _, d := range f.Decisions {
			if d["kind"] == "rbac" && d["outcome"] == outcome && d["action"] == action {
				return d
			}
		}
	}
	t.Fatalf("no rbac decision %s %s in the flow records", outcome, action)
	return nil
}

// TestRBACAudit: with --rbac=audit a principal without roles is let
// through, and the denial is recorded as audited.
func TestRBACAudit(t *testing.T) {
	t.Parallel()
	s := startArmlet(t, func(c *config.Config) { c.RBAC = config.RBACAudit })
	_, cred := rbacNewPrincipal(t, s, "norole")
	groups, err := armresources.NewResourceGroupsClient(s.conn.SubscriptionID, cred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(context.Background(), "audited-rg", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatalf("audit mode refused: %v", err)
	}
	rbacDecision(t, s, "audited", "Microsoft.Resources/subscriptions/resourceGroups/write")
}

// TestRBACAzureCLI assigns Reader on a resource group with the Azure CLI
// 2.45 (az role assignment create --assignee-object-id ...
// --assignee-principal-type ServicePrincipal, or, where the installed
// package's `az role` is broken, the same requests through az rest), then
// checks the principal reads but cannot write.
func TestRBACAzureCLI(t *testing.T) {
	t.Parallel()
	s := startArmlet(t)
	az := newAzCLI(t, s)
	az.run("cloud", "register", "-n", "armlet", "--endpoint-resource-manager", s.conn.ARMEndpoint)
	az.run("cloud", "set", "-n", "armlet")
	az.run("login", "--service-principal", "-u", s.conn.ClientID, "-p", s.conn.ClientSecret, "--tenant", s.conn.TenantID)
	az.run("group", "create", "-n", "cli-rbac-rg", "-l", "eastus")
	scope := "/subscriptions/" + s.conn.SubscriptionID + "/resourceGroups/cli-rbac-rg"
	p, cred := rbacNewPrincipal(t, s, "cli-reader")
	args := []string{"role", "assignment", "create", "--assignee-object-id", p.ObjectID,
		"--assignee-principal-type", "ServicePrincipal", "--role", "Reader", "--scope", scope, "-o", "json"}
	out, errOut, err := az.try(args...)
	var a map[string]any
	switch {
	case err == nil:
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("az role assignment create: %v\n%s", err, out)
		}
	case strings.Contains(errOut, "'RoleAssignmentsOperations' object has no attribute 'config'"):
		// Debian's azure-cli 2.45 ships azure-mgmt-authorization 3.0.0,
		// whose operation groups have no .config: every `az role`
		// command fails in the client before sending a request. Make the
		// same two calls the command makes, with its api-versions, through
		// az rest.
		t.Log("az role assignment create is broken in this azure-cli package (client-side AttributeError); using az rest with the same calls")
		base := strings.TrimSuffix(s.conn.ARMEndpoint, "/") + scope + "/providers/Microsoft.Authorization/"
		defs := az.json("rest", "--method", "get", "--url", base+"roleDefinitions?api-version=2018-01-01-preview&$filter=roleName%20eq%20'Reader'")
		list, _ := defs["value"].([]any)
		if len(list) != 1 {
			t.Fatalf("role definitions named Reader: %v", defs)
		}
		roleID := list[0].(map[string]any)["id"].(string)
		body := `{"properties":{"roleDefinitionId":"` + roleID + `","principalId":"` + p.ObjectID + `","principalType":"ServicePrincipal"}}`
		name := uuid.NewString()
		created := az.json("rest", "--method", "put", "--url", base+"roleAssignments/"+name+"?api-version=2020-04-01-preview", "--body", body)
		a, _ = created["properties"].(map[string]any)
		// The same assignment under another name: 409 RoleAssignmentExists.
		_, dupErr, err := az.try("rest", "--method", "put", "--url", base+"roleAssignments/"+uuid.NewString()+"?api-version=2020-04-01-preview", "--body", body)
		if err == nil || !strings.Contains(dupErr, "RoleAssignmentExists") {
			t.Fatalf("duplicate assignment through az rest: %v %s", err, dupErr)
		}
		// atScope() list, as az role assignment list --scope sends it.
		listed := az.json("rest", "--method", "get", "--url", base+"roleAssignments?api-version=2020-04-01-preview&$filter=atScope()")
		if n := len(listed["value"].([]any)); n != 2 { // the bootstrap Owner at the root and this one
			t.Fatalf("atScope() list: %v", listed)
		}
	default:
		t.Fatalf("az role assignment create: %v\n%s\n%s", err, out, errOut)
	}
	if a == nil || !strings.HasSuffix(a["roleDefinitionId"].(string), "/acdd72a7-3385-48ef-bd42-f606fba81ae7") || a["principalId"] != p.ObjectID || a["scope"] != scope {
		t.Fatalf("role assignment = %v", a)
	}
	groups, err := armresources.NewResourceGroupsClient(s.conn.SubscriptionID, cred, s.armOptions())
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
