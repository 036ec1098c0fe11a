package keyvault

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestVaultRefusals: what a client gets wrong is an ARM error naming the
// member, with Azure Key Vault's codes and texts where they are known.
func TestVaultRefusals(t *testing.T) {
	v := newEnv(t)
	v.create(vaultPath, vault(""))
	kv := func(name string) string { return rgPath + "/providers/Microsoft.KeyVault/vaults/" + name }
	v.Must(http.MethodPut, "/subscriptions/"+otherSub+"/resourceGroups/rg2", "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	cases := []struct {
		name, path, body string
		status           int
		code, target     string
	}{
		{"starts with a digit", kv("1kv"), vault(""), 400, "InvalidResourceName", "name"},
		{"double hyphen", kv("kv--x"), vault(""), 400, "InvalidResourceName", "name"},
		{"too long", kv(strings.Repeat("k", 25)), vault(""), 400, "InvalidResourceName", "name"},
		{"no tenant", kv("kv2"), `{"location":"eastus","properties":{"sku":{"family":"A","name":"standard"}}}`, 400, "InvalidRequestContent", "properties.tenantId"},
		{"bad tenant", kv("kv2"), strings.Replace(vault(""), tenant, "contoso", 1), 400, "BadRequest", "properties.tenantId"},
		{"no sku", kv("kv2"), `{"location":"eastus","properties":{"tenantId":"` + tenant + `"}}`, 400, "InvalidRequestContent", "properties.sku"},
		{"sku without family", kv("kv2"), `{"location":"eastus","properties":{"tenantId":"` + tenant + `","sku":{"name":"standard"}}}`, 400, "InvalidRequestContent", "properties.sku.family"},
		{"bad sku", kv("kv2"), strings.Replace(vault(""), "standard", "gold", 1), 400, "InvalidRequestContent", "properties.sku.name"},
		{"unknown property", kv("kv2"), vault(`"enableSoftDeletion":true`), 400, "InvalidRequestContent", "properties.enableSoftDeletion"},
		{"bad permission", kv("kv2"), vault(`"accessPolicies":[` + policy(`"peek"`) + `]`), 400, "InvalidRequestContent", "properties.accessPolicies[0].permissions.secrets[0]"},
		{"policy without object", kv("kv2"), vault(`"accessPolicies":[{"tenantId":"` + tenant + `","permissions":{}}]`), 400, "InvalidRequestContent", "properties.accessPolicies[0].objectId"},
		{"retention too short", kv("kv2"), vault(`"softDeleteRetentionInDays":3`), 400, "BadRequest", "properties.softDeleteRetentionInDays"},
		{"soft delete off", kv("kv2"), vault(`"enableSoftDelete":false`), 400, "BadRequest", "properties.enableSoftDelete"},
		{"purge protection false", kv("kv2"), vault(`"enablePurgeProtection":false`), 400, "BadRequest", "properties.enablePurgeProtection"},
		{"sku at the top", kv("kv2"), `{"location":"eastus","sku":{"name":"standard"},"properties":{"tenantId":"` + tenant + `","sku":{"family":"A","name":"standard"}}}`, 400, "InvalidRequestContent", "sku"},
		{"name in use in another subscription", "/subscriptions/" + otherSub + "/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/KV1", vault(""), 409, "VaultAlreadyExists", ""},
		{"recover with nothing deleted", kv("kv3"), vault(`"createMode":"recover"`), 400, "SoftDeletedVaultDoesNotExist", "properties.createMode"},
	}
	for _, c := range cases {
		v.Refuse(t, c.name, http.MethodPut, c.path, api, c.body, c.status, c.code, c.target)
	}
	if list := v.Must(http.MethodGet, rgPath+"/providers/Microsoft.KeyVault/vaults", api, "", 200)["value"].([]any); len(list) != 1 {
		t.Fatalf("vaults = %v", list)
	}
}

// TestVaultLifecycle: a create shows Azure's generated properties, an
// update keeps what it omits, and the defaults follow the api-version.
func TestVaultLifecycle(t *testing.T) {
	v := newEnv(t)
	resp, err := v.Serve(http.MethodPut, vaultPath, api, vault(`"accessPolicies":[`+policy(`"Get","list"`)+`]`))
	if err != nil || resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("create = %v %v", resp, err)
	}
	v.Advance(2 * time.Second)
	got := v.Must(http.MethodGet, vaultPath, api, "", 200)
	want := map[string]any{
		"properties.vaultUri":                               "https://kv1.vault.azure.net/",
		"properties.provisioningState":                      "Succeeded",
		"properties.enableSoftDelete":                       true,
		"properties.softDeleteRetentionInDays":              float64(90),
		"properties.enableRbacAuthorization":                false,
		"properties.enabledForDeployment":                   false,
		"properties.publicNetworkAccess":                    "Enabled",
		"properties.sku.name":                               "standard",
		"properties.accessPolicies.0.permissions.secrets.0": "Get",
		"properties.accessPolicies.0.permissions.secrets.1": "list",
	}
	for p, w := range want {
		if g := walk(got, strings.Split(p, ".")...); g != w {
			t.Errorf("%s = %v, want %v", p, g, w)
		}
	}
	if _, ok := walk(got, "properties").(map[string]any)["enablePurgeProtection"]; ok {
		t.Errorf("enablePurgeProtection shown though never set")
	}
	upd := v.Must(http.MethodPut, vaultPath, api, vault(`"enabledForDeployment":true,"enablePurgeProtection":true`), 200)
	if walk(upd, "properties", "enabledForDeployment") != true || walk(upd, "properties", "accessPolicies", "0", "objectId") != objectID ||
		walk(upd, "properties", "enablePurgeProtection") != true {
		t.Fatalf("update = %v", upd)
	}
	v.Fail(http.MethodPatch, vaultPath, api, `{"properties":{"enablePurgeProtection":false}}`, 400, "BadRequest")
	patched := v.Must(http.MethodPatch, vaultPath, api, `{"properties":{"enableRbacAuthorization":true,"sku":{"family":"A","name":"premium"}},"tags":{"team":"ml"}}`, 200)
	if walk(patched, "properties", "enableRbacAuthorization") != true || walk(patched, "properties", "sku", "name") != "premium" || walk(patched, "tags", "team") != "ml" {
		t.Fatalf("patch = %v", patched)
	}
}

// TestRBACDefault: a vault created at 2026-02-01 or newer uses Azure RBAC
// unless the request says otherwise; before, access policies.
func TestRBACDefault(t *testing.T) {
	v := newEnv(t)
	for version, want := range map[string]bool{"2026-02-01": true, "2025-05-01": false} {
		path := rgPath + "/providers/Microsoft.KeyVault/vaults/kv" + strings.ReplaceAll(version, "-", "")
		got := v.Must(http.MethodPut, path, version, vault(""), 201)
		if walk(got, "properties", "enableRbacAuthorization") != want {
			t.Errorf("%s: enableRbacAuthorization = %v, want %v", version, walk(got, "properties", "enableRbacAuthorization"), want)
		}
	}
}

// TestAccessPolicies: add merges, remove takes away and drops an empty
// entry, replace sets; the answers are Azure's shape.
func TestAccessPolicies(t *testing.T) {
	v := newEnv(t)
	v.create(vaultPath, vault(`"accessPolicies":[`+policy(`"get"`)+`]`))
	policies := func() []any {
		return walk(v.Must(http.MethodGet, vaultPath, api, "", 200), "properties", "accessPolicies").([]any)
	}
	other := strings.Replace(policy(`"get"`), objectID, "99999999-2222-3333-4444-555555555555", 1)
	got := v.Must(http.MethodPut, vaultPath+"/accessPolicies/add", api, `{"properties":{"accessPolicies":[`+policy(`"GET","set"`)+`,`+other+`]}}`, 200)
	if walk(got, "type") != TypeAccessPolicies || walk(got, "name") != "add" || len(walk(got, "properties", "accessPolicies").([]any)) != 2 {
		t.Fatalf("add = %v", got)
	}
	list := policies()
	if len(list) != 2 || len(walk(list, "0", "permissions", "secrets").([]any)) != 2 {
		t.Fatalf("after add: %v", list)
	}
	v.Must(http.MethodPut, vaultPath+"/accessPolicies/remove", api, `{"properties":{"accessPolicies":[`+policy(`"set"`)+`]}}`, 200)
	if list := policies(); walk(list, "0", "permissions", "secrets", "0") != "get" || walk(list, "0", "permissions", "secrets", "1") != nil {
		t.Fatalf("after remove set: %v", list)
	}
	v.Must(http.MethodPut, vaultPath+"/accessPolicies/remove", api, `{"properties":{"accessPolicies":[`+policy(`"get"`)+`]}}`, 200)
	if list := policies(); len(list) != 1 || walk(list, "0", "objectId") != "99999999-2222-3333-4444-555555555555" {
		t.Fatalf("after removing the last permission: %v", list)
	}
	v.Must(http.MethodPut, vaultPath+"/accessPolicies/replace", api, `{"properties":{"accessPolicies":[]}}`, 200)
	if list := policies(); len(list) != 0 {
		t.Fatalf("after replace: %v", list)
	}
	v.Fail(http.MethodPut, vaultPath+"/accessPolicies/merge", api, `{"properties":{"accessPolicies":[]}}`, 400, "BadRequest")
	v.Fail(http.MethodPut, vaultPath+"/accessPolicies/add", api, `{"properties":{}}`, 400, "InvalidRequestContent")
	v.Fail(http.MethodGet, vaultPath+"/accessPolicies/add", api, "", 405, "MethodNotAllowed")
	v.Fail(http.MethodPut, rgPath+"/providers/Microsoft.KeyVault/vaults/nope/accessPolicies/add", api, `{"properties":{"accessPolicies":[]}}`, 404, "ParentResourceNotFound")
}

// TestSoftDelete: a deleted vault is kept where Azure serves it, holds its
// name (ConflictError here, VaultAlreadyExists elsewhere), comes back as it
// was with createMode recover, and goes for good by purge (refused under
// purge protection) or when its purge date passes; a resource group's
// delete soft-deletes its vaults too.
func TestSoftDelete(t *testing.T) {
	v := newEnv(t)
	v.create(vaultPath, vault(`"accessPolicies":[`+policy(`"get"`)+`],"softDeleteRetentionInDays":7`))
	v.Must(http.MethodDelete, vaultPath, api, "", 200)
	v.Fail(http.MethodGet, vaultPath, api, "", 404, "ResourceNotFound")
	dv := v.Must(http.MethodGet, deletedPath("kv1"), api, "", 200)
	if walk(dv, "id") != deletedPath("kv1") || walk(dv, "type") != TypeDeletedVaults || walk(dv, "properties", "vaultId") != vaultPath ||
		walk(dv, "properties", "location") != "eastus" || walk(dv, "properties", "purgeProtectionEnabled") != false {
		t.Fatalf("deleted vault = %v", dv)
	}
	if list := v.Must(http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.KeyVault/deletedVaults", api, "", 200)["value"].([]any); len(list) != 1 {
		t.Fatalf("deleted vaults = %v", list)
	}
	v.Fail(http.MethodGet, strings.Replace(deletedPath("kv1"), "eastus", "westus", 1), api, "", 404, "ResourceNotFound")
	if e := v.Fail(http.MethodPut, vaultPath, api, vault(""), 409, "ConflictError"); !strings.Contains(e.Message, "already exists in deleted state") {
		t.Errorf("message = %s", e.Message)
	}
	v.Must(http.MethodPut, "/subscriptions/"+otherSub+"/resourceGroups/rg2", "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	v.Fail(http.MethodPut, "/subscriptions/"+otherSub+"/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv1", api, vault(""), 409, "VaultAlreadyExists")
	check := v.Must(http.MethodPost, "/subscriptions/"+otherSub+"/providers/Microsoft.KeyVault/checkNameAvailability", api, `{"name":"kv1","type":"Microsoft.KeyVault/vaults"}`, 200)
	if check["nameAvailable"] != false || check["reason"] != "AlreadyExists" {
		t.Fatalf("check = %v", check)
	}
	v.Fail(http.MethodPut, "/subscriptions/"+sub+"/providers/Microsoft.KeyVault/deletedVaults/kv1", api, `{"properties":{}}`, 405, "MethodNotAllowed")
	v.Fail(http.MethodDelete, "/subscriptions/"+sub+"/providers/Microsoft.KeyVault/deletedVaults/kv1", api, "", 405, "MethodNotAllowed")

	// Recover brings back the policies, and the deleted vault is gone.
	got := v.Must(http.MethodPut, vaultPath, api, vault(`"createMode":"recover"`), 201)
	if walk(got, "properties", "accessPolicies", "0", "objectId") != objectID || walk(got, "properties", "createMode") != nil {
		t.Fatalf("recovered = %v", got)
	}
	v.Fail(http.MethodGet, deletedPath("kv1"), api, "", 404, "ResourceNotFound")

	// Purge: 202 with Location, gone at once, the name free again.
	v.Must(http.MethodDelete, vaultPath, api, "", 200)
	resp, err := v.Serve(http.MethodPost, deletedPath("kv1")+"/purge", api, "")
	if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("purge = %v %v", resp, err)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	v.Must(http.MethodGet, loc.Path, api, "", 202)
	v.Advance(2 * time.Second)
	v.Must(http.MethodGet, loc.Path, api, "", 200) // an empty 200: go-azure-sdk fails on 204 here
	v.Fail(http.MethodGet, deletedPath("kv1"), api, "", 404, "ResourceNotFound")
	v.Fail(http.MethodPost, deletedPath("kv1")+"/purge", api, "", 404, "ResourceNotFound")

	// Purge protection refuses a purge; the purge date frees the name.
	v.create(vaultPath, vault(`"enablePurgeProtection":true,"softDeleteRetentionInDays":7`))
	v.Must(http.MethodDelete, vaultPath, api, "", 200)
	v.Fail(http.MethodPost, deletedPath("kv1")+"/purge", api, "", 405, "MethodNotAllowed")
	v.Advance(7*24*time.Hour + time.Minute)
	v.Fail(http.MethodGet, deletedPath("kv1"), api, "", 404, "ResourceNotFound")
	v.create(vaultPath, vault(""))

	// A resource group's delete soft-deletes its vaults.
	v.Must(http.MethodDelete, rgPath, "2021-04-01", "", 202)
	v.Advance(2 * time.Second)
	if err := v.Engine.ReapDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	v.Must(http.MethodGet, deletedPath("kv1"), api, "", 200)
}

// TestPrivateEndpoint: a private endpoint reaches a vault's group vault at
// {name}.vault.azure.net, whose record a zone group writes in
// privatelink.vaultcore.azure.net.
func TestPrivateEndpoint(t *testing.T) {
	v := newEnv(t)
	v.create(vaultPath, vault(""))
	links := v.Must(http.MethodGet, vaultPath+"/privateLinkResources", api, "", 200)["value"].([]any)
	if len(links) != 1 || walk(links, "0", "properties", "groupId") != "vault" {
		t.Fatalf("privateLinkResources = %v", links)
	}
	net := rgPath + "/providers/Microsoft.Network"
	v.Must(http.MethodPut, net+"/virtualNetworks/vnet1", "2025-01-01", `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
		"subnets":[{"name":"pe","properties":{"addressPrefix":"10.0.1.0/24"}}]}}`, 201)
	v.Must(http.MethodPut, net+"/privateEndpoints/pe-kv", "2025-01-01", `{"location":"eastus","properties":{"subnet":{"id":"`+net+`/virtualNetworks/vnet1/subnets/pe"},
		"privateLinkServiceConnections":[{"name":"kv","properties":{"privateLinkServiceId":"`+vaultPath+`","groupIds":["vault"]}}]}}`, 201)
	v.Must(http.MethodPut, net+"/privateDnsZones/privatelink.vaultcore.azure.net", "2024-06-01", `{"location":"global"}`, 201)
	v.Must(http.MethodPut, net+"/privateEndpoints/pe-kv/privateDnsZoneGroups/default", "2025-01-01", `{"properties":{"privateDnsZoneConfigs":[{"name":"kv","properties":{"privateDnsZoneId":"`+net+`/privateDnsZones/privatelink.vaultcore.azure.net"}}]}}`, 201)
	v.Advance(2 * time.Second)
	pe := v.Must(http.MethodGet, net+"/privateEndpoints/pe-kv", "2025-01-01", "", 200)
	if walk(pe, "properties", "customDnsConfigs", "0", "fqdn") != "kv1.vault.azure.net" {
		t.Fatalf("customDnsConfigs = %v", walk(pe, "properties", "customDnsConfigs"))
	}
	v.Must(http.MethodGet, net+"/privateDnsZones/privatelink.vaultcore.azure.net/A/kv1", "2024-06-01", "", 200)
	got := v.Must(http.MethodGet, vaultPath, api, "", 200)
	if walk(got, "properties", "privateEndpointConnections", "0", "properties", "privateLinkServiceConnectionState", "status") != "Approved" {
		t.Fatalf("connections = %v", walk(got, "properties", "privateEndpointConnections"))
	}
}
