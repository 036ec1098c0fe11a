package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

// TestKeyVaultThroughVirtualNetwork: a vault without public network
// access, a private endpoint to it (group id "vault") in a virtual
// network, the zone privatelink.vaultcore.azure.net linked to the network
// with a zone group on the endpoint: azsecrets through the network's
// proxy (its token from login.microsoftonline.com through the same proxy,
// publicly) sets and reads a secret (200, keyvault-private, the endpoint
// named in the flow record); through armlet's public proxy it is refused
// 403 ForbiddenByConnection (keyvault-public). The exposure report lists
// the vault's calls as private and public accordingly, the public one as
// already refused (its 401 challenge first serves nothing).
func TestKeyVaultThroughVirtualNetwork(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	const name = "kvvnet1"
	vault := privateVaultCalls(t, s, "kvvnet", name, "10.31")

	flows, _ := s.FlowRecords(t, "")
	classes := map[netmodel.PathClass]int{}
	for _, f := range flows {
		if !strings.HasPrefix(strings.ToLower(f.ResourceID), strings.ToLower(vault)) || !strings.HasPrefix(f.Operation, "Microsoft.KeyVault/vaults/secrets/") ||
			f.Status == http.StatusUnauthorized {
			continue
		}
		classes[f.Class]++
		switch {
		case f.Class == netmodel.KeyVaultPrivate && (f.Status != http.StatusOK || !strings.HasSuffix(f.PrivateEndpointID, "/privateEndpoints/pe-vault")):
			t.Errorf("a private call %s %s: %d through %q", f.Method, f.Path, f.Status, f.PrivateEndpointID)
		case f.Class == netmodel.KeyVaultPublic && (f.Status != http.StatusForbidden || f.ErrorCode != "ForbiddenByConnection"):
			t.Errorf("a public call %s %s: %d %s, want 403 ForbiddenByConnection", f.Method, f.Path, f.Status, f.ErrorCode)
		}
	}
	if classes[netmodel.KeyVaultPrivate] != 2 || classes[netmodel.KeyVaultPublic] != 1 {
		t.Errorf("flow classes of %s: %v, want 2 keyvault-private and 1 keyvault-public", name, classes)
	}

	v := s.VaultExposure(t, vault)
	// The client's first request, inside and outside, is a 401 challenge.
	private := 0
	for _, p := range v.Private {
		private += p.Statuses["200"]
	}
	if private != 2 || len(v.Public) != 1 || v.Public[0].Statuses["403"] != 1 || v.Public[0].Count != 2 ||
		!slices.Equal(v.Public[0].KeepPrivate, []string{report.KeepUsePrivateVault}) {
		t.Errorf("the vault's exposure: %d private calls served, public %+v", private, v.Public)
	}
}

// privateVaultCalls makes the vault name in a new resource group rg,
// without public network access and with an access policy for the
// bootstrap principal, reachable from a virtual network (10.X.0.0/16 for
// prefix "10.X") by a private endpoint and the zone
// privatelink.vaultcore.azure.net (privateLinkVNet); then, with
// azsecrets as the bootstrap principal, sets and reads a secret through
// the network's proxy and fails to read it through the public one (403
// ForbiddenByConnection). It returns the vault's ID.
func privateVaultCalls(t *testing.T, s *e2e.Armlet, rg, name, prefix string) string {
	t.Helper()
	ctx := t.Context()
	vault := s.CreateGroup(t, rg) + "/providers/Microsoft.KeyVault/vaults/" + name
	body := `{"location":"eastus","properties":{"tenantId":"` + s.Conn.TenantID + `","sku":{"family":"A","name":"standard"},` +
		`"publicNetworkAccess":"Disabled","accessPolicies":[{"tenantId":"` + s.Conn.TenantID + `","objectId":"` + s.Conn.ObjectID +
		`","permissions":{"secrets":["get","set"]}}]}}`
	if code, _, b := s.Do(t, http.MethodPut, vault+"?api-version=2024-11-01", body, nil); code >= 300 {
		t.Fatalf("PUT vault: %d %s", code, b)
	}
	vnet := privateLinkVNet(t, s, rg, prefix, vault, "vault", "privatelink.vaultcore.azure.net")
	inside := secretsThrough(t, clientThrough(t, s, vnetProxyOf(t, s, vnet)), s.Conn.TenantID, name, s.Conn.ClientID, s.Conn.ClientSecret)
	outside := publicCloudSecrets(t, s, name, s.Conn.ClientID, s.Conn.ClientSecret)
	if _, err := inside.SetSecret(ctx, "db", azsecrets.SetSecretParameters{Value: to.Ptr("private")}, nil); err != nil {
		t.Fatalf("set a secret inside the virtual network: %v", err)
	}
	if got, err := inside.GetSecret(ctx, "db", "", nil); err != nil || *got.Value != "private" {
		t.Fatalf("read it inside the virtual network: %v", err)
	}
	if _, err := outside.GetSecret(ctx, "db", "", nil); !forbiddenBy(err, "ForbiddenByConnection") {
		t.Errorf("read it through the public proxy: %v, want 403 ForbiddenByConnection", err)
	}
	return vault
}
