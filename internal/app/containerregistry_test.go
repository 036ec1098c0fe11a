package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerregistry/armcontainerregistry/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	"github.com/armlet/armlet/internal/e2e"
)

// TestManagedIdentitySDK drives user-assigned identities with armmsi
// (api-version 2024-11-30): ids made at creation and kept by an update.
func TestManagedIdentitySDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	s.CreateGroup(t, "msi-rg")
	ids, err := armmsi.NewUserAssignedIdentitiesClient(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	id, err := ids.CreateOrUpdate(ctx, "msi-rg", "ml-identity", armmsi.Identity{Location: to.Ptr("eastus")}, nil)
	if err != nil || id.Properties.PrincipalID == nil || id.Properties.ClientID == nil || *id.Properties.TenantID != s.Conn.TenantID {
		t.Fatalf("create: %v %s", err, mustJSON(id))
	}
	upd, err := ids.Update(ctx, "msi-rg", "ml-identity", armmsi.IdentityUpdate{Tags: map[string]*string{"team": to.Ptr("ml")}}, nil)
	if err != nil || *upd.Properties.PrincipalID != *id.Properties.PrincipalID || *upd.Tags["team"] != "ml" {
		t.Fatalf("update: %v %s", err, mustJSON(upd))
	}
	if _, err := ids.Delete(ctx, "msi-rg", "ml-identity", nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := ids.Get(ctx, "msi-rg", "ml-identity", nil); !e2e.IsResponseError(err, http.StatusNotFound, "ResourceNotFound") {
		t.Fatalf("get after delete: %v", err)
	}
}

// TestContainerRegistrySDK drives registries with armcontainerregistry v2
// (api-version 2025-11-01): name availability, a long-running create with
// a user-assigned identity (armmsi), the login server, the admin
// credentials and their refusal while the admin user is off, a
// long-running update and delete.
func TestContainerRegistrySDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	s.CreateGroup(t, "acr-rg")
	ids, err := armmsi.NewUserAssignedIdentitiesClient(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	uai, err := ids.CreateOrUpdate(ctx, "acr-rg", "acr-identity", armmsi.Identity{Location: to.Ptr("eastus")}, nil)
	if err != nil {
		t.Fatalf("identity: %v", err)
	}
	registries, err := armcontainerregistry.NewRegistriesClient(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	check, err := registries.CheckNameAvailability(ctx, armcontainerregistry.RegistryNameCheckRequest{
		Name: to.Ptr("MlRegistry1"), Type: to.Ptr("Microsoft.ContainerRegistry/registries"),
	}, nil)
	if err != nil || !*check.NameAvailable {
		t.Fatalf("check: %v %s", err, mustJSON(check))
	}
	p, err := registries.BeginCreate(ctx, "acr-rg", "MlRegistry1", armcontainerregistry.Registry{
		Location: to.Ptr("eastus"),
		SKU:      &armcontainerregistry.SKU{Name: to.Ptr(armcontainerregistry.SKUNameBasic)},
		Identity: &armcontainerregistry.IdentityProperties{
			Type:                   to.Ptr(armcontainerregistry.ResourceIdentityTypeUserAssigned),
			UserAssignedIdentities: map[string]*armcontainerregistry.UserIdentityProperties{*uai.ID: {}},
		},
	}, nil)
	if err != nil {
		t.Fatalf("begin create: %v", err)
	}
	reg, err := p.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	user := reg.Identity.UserAssignedIdentities[*uai.ID]
	if *reg.Properties.LoginServer != "mlregistry1.azurecr.io" || *reg.Properties.AdminUserEnabled || user == nil ||
		*user.PrincipalID != *uai.Properties.PrincipalID {
		t.Fatalf("registry = %s", mustJSON(reg))
	}
	if _, err := registries.ListCredentials(ctx, "acr-rg", "MlRegistry1", nil); !e2e.IsResponseError(err, http.StatusBadRequest, "UnAuthorizedForCredentialOperations") {
		t.Fatalf("credentials with the admin user off: %v", err)
	}
	up, err := registries.BeginUpdate(ctx, "acr-rg", "MlRegistry1", armcontainerregistry.RegistryUpdateParameters{
		Properties: &armcontainerregistry.RegistryPropertiesUpdateParameters{AdminUserEnabled: to.Ptr(true)},
	}, nil)
	if err != nil {
		t.Fatalf("begin update: %v", err)
	}
	if _, err := up.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("update: %v", err)
	}
	creds, err := registries.ListCredentials(ctx, "acr-rg", "MlRegistry1", nil)
	if err != nil || *creds.Username != "MlRegistry1" || len(creds.Passwords) != 2 {
		t.Fatalf("credentials: %v %s", err, mustJSON(creds))
	}
	regen, err := registries.RegenerateCredential(ctx, "acr-rg", "MlRegistry1", armcontainerregistry.RegenerateCredentialParameters{
		Name: to.Ptr(armcontainerregistry.PasswordNamePassword),
	}, nil)
	if err != nil || *regen.Passwords[0].Value == *creds.Passwords[0].Value {
		t.Fatalf("regenerate: %v", err)
	}
	taken, err := registries.CheckNameAvailability(ctx, armcontainerregistry.RegistryNameCheckRequest{
		Name: to.Ptr("mlregistry1"), Type: to.Ptr("Microsoft.ContainerRegistry/registries"),
	}, nil)
	if err != nil || *taken.NameAvailable || !strings.Contains(*taken.Message, "in use") {
		t.Fatalf("check taken: %v %s", err, mustJSON(taken))
	}
	del, err := registries.BeginDelete(ctx, "acr-rg", "MlRegistry1", nil)
	if err != nil {
		t.Fatalf("begin delete: %v", err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete: %v", err)
	}
}
