package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	"github.com/armlet/armlet/internal/e2e"
)

// TestKeyVaultSDK drives the key vault provider with azure-sdk-for-go's
// armkeyvault v1.5 (api-version 2024-11-01) over TLS: a long-running
// create, access policies, an update, soft delete with the name held, a
// recover, and a purge that the SDK's poller follows to the end.
func TestKeyVaultSDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	const rg = "kv-rg"
	s.CreateGroup(t, rg)
	vaults, err := armkeyvault.NewVaultsClient(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	tenant := s.Conn.TenantID
	objectID := s.Conn.ObjectID

	check, err := vaults.CheckNameAvailability(ctx, armkeyvault.VaultCheckNameAvailabilityParameters{
		Name: to.Ptr("mlvault1"), Type: to.Ptr("Microsoft.KeyVault/vaults"),
	}, nil)
	if err != nil || !*check.NameAvailable {
		t.Fatalf("check name: %v %+v", err, check)
	}
	create := func(mode *armkeyvault.CreateMode) (armkeyvault.Vault, error) {
		p, err := vaults.BeginCreateOrUpdate(ctx, rg, "mlvault1", armkeyvault.VaultCreateOrUpdateParameters{
			Location: to.Ptr("eastus"),
			Properties: &armkeyvault.VaultProperties{
				TenantID:   to.Ptr(tenant),
				SKU:        &armkeyvault.SKU{Family: to.Ptr(armkeyvault.SKUFamilyA), Name: to.Ptr(armkeyvault.SKUNameStandard)},
				CreateMode: mode,
				AccessPolicies: []*armkeyvault.AccessPolicyEntry{{
					TenantID: to.Ptr(tenant), ObjectID: to.Ptr(objectID),
					Permissions: &armkeyvault.Permissions{Secrets: []*armkeyvault.SecretPermissions{to.Ptr(armkeyvault.SecretPermissionsGet)}},
				}},
			},
		}, nil)
		if err != nil {
			return armkeyvault.Vault{}, err
		}
		res, err := p.PollUntilDone(ctx, e2e.FastPoll)
		return res.Vault, err
	}
	v, err := create(nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if *v.Properties.VaultURI != "https://mlvault1.vault.azure.net/" || *v.Properties.ProvisioningState != armkeyvault.VaultProvisioningStateSucceeded ||
		!*v.Properties.EnableSoftDelete || *v.Properties.SoftDeleteRetentionInDays != 90 {
		t.Fatalf("vault = %s", mustJSON(v))
	}

	if _, err := vaults.UpdateAccessPolicy(ctx, rg, "mlvault1", armkeyvault.AccessPolicyUpdateKindAdd, armkeyvault.VaultAccessPolicyParameters{
		Properties: &armkeyvault.VaultAccessPolicyProperties{AccessPolicies: []*armkeyvault.AccessPolicyEntry{{
			TenantID: to.Ptr(tenant), ObjectID: to.Ptr(objectID),
			Permissions: &armkeyvault.Permissions{Secrets: []*armkeyvault.SecretPermissions{to.Ptr(armkeyvault.SecretPermissionsList)}},
		}}},
	}, nil); err != nil {
		t.Fatalf("add access policy: %v", err)
	}
	upd, err := vaults.Update(ctx, rg, "mlvault1", armkeyvault.VaultPatchParameters{
		Properties: &armkeyvault.VaultPatchProperties{EnabledForDeployment: to.Ptr(true)},
	}, nil)
	if err != nil || !*upd.Properties.EnabledForDeployment || len(upd.Properties.AccessPolicies[0].Permissions.Secrets) != 2 {
		t.Fatalf("update: %v %s", err, mustJSON(upd))
	}

	if _, err := vaults.Delete(ctx, rg, "mlvault1", nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	deleted, err := vaults.GetDeleted(ctx, "mlvault1", "eastus", nil)
	if err != nil || *deleted.Properties.VaultID != *v.ID {
		t.Fatalf("get deleted: %v %s", err, mustJSON(deleted))
	}
	if _, err := create(nil); !e2e.IsResponseError(err, http.StatusConflict, "ConflictError") {
		t.Fatalf("create over a deleted vault: %v", err)
	}
	recovered, err := create(to.Ptr(armkeyvault.CreateModeRecover))
	if err != nil || len(recovered.Properties.AccessPolicies[0].Permissions.Secrets) != 2 {
		t.Fatalf("recover: %v %s", err, mustJSON(recovered))
	}

	if _, err := vaults.Delete(ctx, rg, "mlvault1", nil); err != nil {
		t.Fatalf("delete again: %v", err)
	}
	n := 0
	for pager := vaults.NewListDeletedPager(nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list deleted: %v", err)
		}
		n += len(page.Value)
	}
	if n != 1 {
		t.Fatalf("deleted vaults = %d, want 1", n)
	}
	purge, err := vaults.BeginPurgeDeleted(ctx, "mlvault1", "eastus", nil)
	if err != nil {
		t.Fatalf("begin purge: %v", err)
	}
	if _, err := purge.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if _, err := vaults.GetDeleted(ctx, "mlvault1", "eastus", nil); !e2e.IsResponseError(err, http.StatusNotFound, "ResourceNotFound") {
		t.Fatalf("get after purge: %v", err)
	}
	if _, err := create(nil); err != nil {
		t.Fatalf("create after purge: %v", err)
	}
}
