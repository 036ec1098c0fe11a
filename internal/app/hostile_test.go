package app_test

// Findings of a hostile review, each over real TLS with real tokens: a
// client that goes away mid-request, token requests for audiences armlet
// does not serve, a role assignment whose body names another scope than its
// URI, and malformed query strings and paths.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/armlet/armlet/internal/authz"
	"github.com/google/uuid"
)

// TestRoleAssignmentScope: a role assignment PUT whose body's
// properties.scope names another scope than the URI is refused with Azure's
// 400 InvalidCreateRoleAssignmentRequest; the same scope in another casing,
// and no scope at all, are accepted, and so is a GET-modify-PUT round trip.
func TestRoleAssignmentScope(t *testing.T) {
	t.Parallel()
	s := startArmlet(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.conn.SubscriptionID
	rg := sub + "/resourceGroups/ras-rg"
	if st, _, b := s.do(t, http.MethodPut, rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != http.StatusCreated {
		t.Fatalf("create group: %d %s", st, b)
	}
	cred := s.credential(t, s.conn.ClientID, s.conn.ClientSecret)
	client, err := armauthorization.NewRoleAssignmentsClient(s.conn.SubscriptionID, cred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	reader := sub + "/providers/Microsoft.Authorization/roleDefinitions/" + authz.RoleReader
	params := func(principal string, scope *string) armauthorization.RoleAssignmentCreateParameters {
		return armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr(reader), PrincipalID: to.Ptr(principal),
			PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal), Scope: scope,
		}}
	}
	// Above the URI's scope (an escalation), below it, beside it, the
	// tenant root, and no resource id at all.
	refused := []string{
		sub,
		rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1",
		sub + "/resourceGroups/other-rg",
		"/",
		"Microsoft.ContainerRegistry/registries/myacr",
	}
	for _, scope := range refused {
		name := uuid.NewString()
		_, err := client.Create(ctx, rg, name, params(uuid.NewString(), to.Ptr(scope)), nil)
		assertResponseError(t, err, http.StatusBadRequest, "InvalidCreateRoleAssignmentRequest")
		want := "The request to create role assignment '" + name + "' is not valid. Role assignment scope '" + scope +
			"' must match the scope specified on the URI '" + rg + "'."
		if !strings.Contains(err.Error(), want) {
			t.Errorf("body scope %s: %v\nwant message %q", scope, err, want)
		}
		if _, err := client.Get(ctx, rg, name, nil); err == nil {
			t.Errorf("the refused assignment with scope %s was stored", scope)
		}
	}
	// The URI's scope in other casing: accepted, stored at the URI's scope.
	created, err := client.Create(ctx, rg, uuid.NewString(), params(uuid.NewString(), to.Ptr(strings.ToLower(rg))), nil)
	if err != nil {
		t.Fatalf("body scope in lower case: %v", err)
	}
	if *created.Properties.Scope != rg {
		t.Errorf("scope = %s, want %s", *created.Properties.Scope, rg)
	}
	// No scope: accepted. Then GET, and PUT what came back.
	name := uuid.NewString()
	if _, err := client.Create(ctx, rg, name, params(uuid.NewString(), nil), nil); err != nil {
		t.Fatalf("no body scope: %v", err)
	}
	got, err := client.Get(ctx, rg, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Create(ctx, rg, name, armauthorization.RoleAssignmentCreateParameters{Properties: got.Properties}, nil); err != nil {
		t.Errorf("GET-modify-PUT: %v", err)
	}
}
