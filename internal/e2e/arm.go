package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/uuid"
)

// Principal is a service principal made through the admin API.
type Principal struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	ObjectID     string `json:"objectId"`
}

// NewPrincipal creates a principal with no role (POST /_armlet/principals)
// and returns it with its credential.
func (a *Armlet) NewPrincipal(t testing.TB, name string) (Principal, azcore.TokenCredential) {
	t.Helper()
	status, _, body := a.Do(t, http.MethodPost, "/_armlet/principals", `{"name":"`+name+`"}`, nil)
	if status != http.StatusCreated {
		t.Fatalf("create principal: %d %s", status, body)
	}
	var p Principal
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.ObjectID == "" {
		t.Fatalf("principal: %v %s", err, body)
	}
	return p, a.CredentialOf(t, p)
}

// Assign gives a built-in role, found by name with the Go SDK's
// RoleDefinitionsClient and a $filter, to principal principalID at scope
// with RoleAssignmentsClient.Create, as the bootstrap principal; it checks
// that the same assignment again is refused with RoleAssignmentExists.
func (a *Armlet) Assign(t testing.TB, scope, role, principalID string) armauthorization.RoleAssignment {
	t.Helper()
	ctx := context.Background()
	cred := a.Credential(t)
	defs, err := armauthorization.NewRoleDefinitionsClient(cred, a.ARMOptions())
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
	assignments, err := armauthorization.NewRoleAssignmentsClient(a.Conn.SubscriptionID, cred, a.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	params := armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: found[0].ID, PrincipalID: to.Ptr(principalID), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
	}}
	created, err := assignments.Create(ctx, scope, uuid.NewString(), params, nil)
	if err != nil {
		t.Fatalf("create role assignment: %v", err)
	}
	if !strings.EqualFold(*created.Properties.Scope, scope) || *created.Properties.PrincipalID != principalID {
		t.Fatalf("created assignment: %+v", created.Properties)
	}
	// The same role for the same principal at the same scope again: 409.
	_, err = assignments.Create(ctx, scope, uuid.NewString(), params, nil)
	if !IsResponseError(err, http.StatusConflict, "RoleAssignmentExists") {
		t.Fatalf("duplicate assignment: %v", err)
	}
	return created.RoleAssignment
}

// CreateGroup creates resource group name in eastus with the Go SDK, as
// the bootstrap principal, and returns its ID.
func (a *Armlet) CreateGroup(t testing.TB, name string) string {
	t.Helper()
	groups, err := armresources.NewResourceGroupsClient(a.Conn.SubscriptionID, a.Credential(t), a.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(context.Background(), name, armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatalf("create resource group: %v", err)
	}
	return "/subscriptions/" + a.Conn.SubscriptionID + "/resourceGroups/" + name
}

// CreateWorkspace creates resource group rg and, with the Go SDK's
// poller, workspace name in it with the given v1LegacyMode, as the
// bootstrap principal; it returns the bootstrap principal's workspaces
// client.
func (a *Armlet) CreateWorkspace(t testing.TB, rg, name string, legacy bool) *armmachinelearning.WorkspacesClient {
	t.Helper()
	ctx := context.Background()
	a.CreateGroup(t, rg)
	ws, err := armmachinelearning.NewWorkspacesClient(a.Conn.SubscriptionID, a.Credential(t), a.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := ws.BeginCreateOrUpdate(ctx, rg, name, armmachinelearning.Workspace{
		Location:   to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{V1LegacyMode: to.Ptr(legacy)},
	}, nil)
	if err != nil {
		t.Fatalf("begin create workspace: %v", err)
	}
	if _, err := p.PollUntilDone(ctx, FastPoll); err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	return ws
}

// IsResponseError reports whether err is an *azcore.ResponseError with
// the status and, unless code is "", the error code.
func IsResponseError(err error, status int, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == status && (code == "" || re.ErrorCode == code)
}

// RequireResponseError fails the test unless err is an
// *azcore.ResponseError with the status and, unless code is "", the
// error code.
func RequireResponseError(t testing.TB, err error, status int, code string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v, want *azcore.ResponseError %d %s", err, status, code)
	}
	if re.StatusCode != status || (code != "" && re.ErrorCode != code) {
		t.Fatalf("error = %d %s, want %d %s (%v)", re.StatusCode, re.ErrorCode, status, code, err)
	}
}
