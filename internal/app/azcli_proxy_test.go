package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// TestAzureCLIPublicCloudThroughProxy: the Azure CLI (Debian's 2.45) with
// its built-in AzureCloud and nothing set but HTTPS_PROXY,
// REQUESTS_CA_BUNDLE and a configuration directory of its own: no cloud
// registered, no endpoint changed. MSAL's instance discovery and the
// tenant's OpenID configuration at login.microsoftonline.com, a service
// principal login, az group create, a workspace created at 2021-07-01 and
// the seed's PATCH of v1LegacyMode with az rest at management.azure.com, a
// key vault and its secret set and read with az rest at
// https://{vault}.vault.azure.net (a token for Key Vault's resource).
// Every request of the CLI's reached armlet through the proxy: each flow
// record of its writes names the proxy's listener, so a client that found
// armlet any other way would fail the test.
//
// Debian's azure-cli 2.45 ships `az keyvault secret` without the SDK it
// imports (azure.keyvault.v7_0), whatever it talks to; the test runs it and
// requires it to work only when it is not that failure.
func TestAzureCLIPublicCloudThroughProxy(t *testing.T) {
	t.Parallel()
	s, az := azureCLIInGroup(t, "proxy-rg")
	rg := "https://management.azure.com/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/proxy-rg/providers/"
	ws := rg + "Microsoft.MachineLearningServices/workspaces/proxy-ws"
	az.Run("rest", "--method", "put", "--url", ws+"?api-version=2021-07-01", "--body", `{"location":"eastus"}`)
	if got := az.JSON("rest", "--method", "get", "--url", ws+"?api-version=2024-04-01"); walkProps(got, "v1LegacyMode") != true {
		t.Fatalf("a workspace created at 2021-07-01: v1LegacyMode %v, want true", walkProps(got, "v1LegacyMode"))
	}
	az.Run("rest", "--method", "patch", "--url", ws+"?api-version=2025-04-01", "--body", `{"properties":{"v1LegacyMode":false}}`)
	if got := az.JSON("rest", "--method", "get", "--url", ws+"?api-version=2025-04-01"); walkProps(got, "v1LegacyMode") != false {
		t.Errorf("after the seed's PATCH: v1LegacyMode %v, want false", walkProps(got, "v1LegacyMode"))
	}

	vault := rg + "Microsoft.KeyVault/vaults/proxykv1"
	az.JSON("rest", "--method", "put", "--url", vault+"?api-version=2023-07-01", "--body",
		`{"location":"eastus","properties":{"tenantId":"`+s.Conn.TenantID+`","sku":{"family":"A","name":"standard"},`+
			`"accessPolicies":[{"tenantId":"`+s.Conn.TenantID+`","objectId":"`+s.Conn.ObjectID+`","permissions":{"secrets":["get","set","list"]}}]}}`)
	secret := "https://proxykv1.vault.azure.net/secrets/cli-secret?api-version=7.4"
	set := az.JSON("rest", "--method", "put", "--url", secret, "--resource", "https://vault.azure.net", "--body", `{"value":"from-the-cli"}`)
	if id, _ := set["id"].(string); !strings.HasPrefix(id, "https://proxykv1.vault.azure.net/secrets/cli-secret/") {
		t.Fatalf("set a secret with az rest: %v", set)
	}
	if got := az.JSON("rest", "--method", "get", "--url", secret, "--resource", "https://vault.azure.net"); got["value"] != "from-the-cli" {
		t.Fatalf("read the secret with az rest: %v", got)
	}
	_, stderr, err := az.Try("keyvault", "secret", "set", "--vault-name", "proxykv1", "-n", "cli-secret2", "--value", "v2", "-o", "json")
	switch {
	case err != nil && strings.Contains(stderr, "azure.keyvault.v7_0"):
		t.Logf("az keyvault secret set: this azure-cli lacks its Key Vault SDK (%s); az rest stood in", strings.TrimSpace(lineWith(stderr, "v7_0")))
	case err != nil:
		t.Errorf("az keyvault secret set: %v\n%s", err, stderr)
	default:
		if out := az.Run("keyvault", "secret", "show", "--vault-name", "proxykv1", "-n", "cli-secret2", "--query", "value", "-o", "tsv"); strings.TrimSpace(out) != "v2" {
			t.Errorf("az keyvault secret show = %q", out)
		}
	}

	proxy := strings.TrimPrefix(s.Conn.HTTPSProxy, "http://")
	flows, _ := s.FlowRecords(t, "")
	want := map[string]netmodel.PathClass{
		"Microsoft.AAD/token/action":                             netmodel.ARMPublic,
		"Microsoft.Resources/subscriptions/resourceGroups/write": netmodel.ARMPublic,
		"Microsoft.MachineLearningServices/workspaces/write":     netmodel.ARMPublic,
		"Microsoft.KeyVault/vaults/write":                        netmodel.ARMPublic,
		"Microsoft.KeyVault/vaults/secrets/setSecret/action":     netmodel.KeyVaultPublic,
		"Microsoft.KeyVault/vaults/secrets/getSecret/action":     netmodel.KeyVaultPublic,
		"Microsoft.AAD/openidConfiguration/read":                 netmodel.ARMPublic,
	}
	seen := map[string]bool{}
	for _, f := range flows {
		class, ok := want[f.Operation]
		if !ok || f.Status >= 400 {
			continue
		}
		// The harness's own token requests (for the admin API) go to the
		// main listener; every other request is the CLI's.
		if f.Listener != proxy && strings.HasPrefix(f.Operation, "Microsoft.AAD/") {
			continue
		}
		if f.Listener != proxy || f.Class != class {
			t.Errorf("%s %s reached armlet at %s as %s, want through the proxy %s as %s", f.Method, f.Path, f.Listener, f.Class, proxy, class)
		}
		seen[f.Operation] = true
	}
	for op := range want {
		if !seen[op] {
			t.Errorf("no successful flow record of %s", op)
		}
	}
	for _, f := range flows {
		if f.Operation == "Microsoft.KeyVault/vaults/secrets/setSecret/action" && f.Status == http.StatusOK {
			for _, p := range f.Metadata.Body {
				if p.Name == "value" && p.Value != netmodel.Redacted {
					t.Errorf("the secret's value in a flow record: %+v", p)
				}
			}
		}
	}
}

// azureCLIInGroup starts armlet and returns it with the Azure CLI through
// its proxy only (AzureCLIThroughProxy), its cloud checked to be the
// built-in AzureCloud, logged in as the bootstrap service principal, and
// the resource group rg made with az group create in eastus.
func azureCLIInGroup(t *testing.T, rg string) (*e2e.Armlet, *e2e.AzureCLI) {
	t.Helper()
	s := e2e.Start(t)
	az := s.AzureCLIThroughProxy(t)
	cloud := az.JSON("cloud", "show")
	endpoints, _ := cloud["endpoints"].(map[string]any)
	if cloud["name"] != "AzureCloud" || endpoints["resourceManager"] != "https://management.azure.com/" ||
		endpoints["activeDirectory"] != "https://login.microsoftonline.com" {
		t.Fatalf("the CLI's cloud is not the built-in AzureCloud: %v", cloud)
	}
	if login := az.LoginBootstrap(); !strings.Contains(login, s.Conn.SubscriptionID) || !strings.Contains(login, `"AzureCloud"`) {
		t.Fatalf("az login through the proxy:\n%s", login)
	}
	if got := az.JSON("group", "create", "-n", rg, "-l", "eastus"); got["name"] != rg {
		t.Fatalf("az group create = %v", got)
	}
	return s, az
}

// walkProps is body.properties[name].
func walkProps(body map[string]any, name string) any {
	props, _ := body["properties"].(map[string]any)
	return props[name]
}

// lineWith is the first line of s that holds sub.
func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}
