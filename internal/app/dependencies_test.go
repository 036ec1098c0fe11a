package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// TestDependenciesExportImport: a workspace's dependencies (storage
// account and container, key vault and a deleted one, Log Analytics
// workspace, Application Insights component, user-assigned identity,
// container registry) come back from an export through a reset and an
// import as they were, with the keys, passwords and generated ids a GET
// does not show or a create would make anew.
func TestDependenciesExportImport(t *testing.T) {
	t.Parallel()
	a := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.InMemory = false }))
	rg := "/subscriptions/" + a.Conn.SubscriptionID + "/resourceGroups/deps-rg"
	sa := rg + "/providers/Microsoft.Storage/storageAccounts/depsstore1"
	kv := rg + "/providers/Microsoft.KeyVault/vaults/deps-kv1"
	la := rg + "/providers/Microsoft.OperationalInsights/workspaces/deps-law"
	ai := rg + "/providers/Microsoft.Insights/components/deps-ai"
	uai := rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deps-id"
	acr := rg + "/providers/Microsoft.ContainerRegistry/registries/depsacr1"
	deleted := "/subscriptions/" + a.Conn.SubscriptionID + "/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/deps-kv2"
	vault := `{"location":"eastus","properties":{"tenantId":"` + a.Conn.TenantID + `","sku":{"family":"A","name":"standard"}}}`
	puts := []struct{ path, api, body string }{
		{rg, "2021-04-01", `{"location":"eastus"}`},
		{sa, "2025-08-01", `{"location":"eastus","sku":{"name":"Standard_LRS"},"kind":"StorageV2"}`},
		{sa + "/blobServices/default/containers/azureml", "2025-08-01", `{}`},
		{kv, "2024-11-01", vault},
		{strings.Replace(kv, "kv1", "kv2", 1), "2024-11-01", vault},
		{la, "2025-07-01", `{"location":"eastus"}`},
		{ai, "2020-02-02", `{"location":"eastus","kind":"web","properties":{"Application_Type":"web","WorkspaceResourceId":"` + la + `"}}`},
		{uai, "2024-11-30", `{"location":"eastus"}`},
		{acr, "2025-11-01", `{"location":"eastus","sku":{"name":"Basic"},"identity":{"type":"UserAssigned","userAssignedIdentities":{"` + uai + `":{}}},"properties":{"adminUserEnabled":true}}`},
	}
	for _, p := range puts {
		if st, _, body := a.Do(t, http.MethodPut, p.path+"?api-version="+p.api, p.body, nil); st >= 300 {
			t.Fatalf("PUT %s: %d %s", p.path, st, body)
		}
	}
	if st, _, body := a.Do(t, http.MethodDelete, strings.Replace(kv, "kv1", "kv2", 1)+"?api-version=2024-11-01", "", nil); st != http.StatusOK {
		t.Fatalf("delete kv2: %d %s", st, body)
	}
	a.Do(t, http.MethodPost, "/_armlet/clock/advance", `{"duration":"1m"}`, nil)

	// What each resource shows, secrets included, before and after.
	reads := []struct{ method, path, api string }{
		{http.MethodGet, sa, "2025-08-01"},
		{http.MethodGet, sa + "/blobServices/default", "2025-08-01"},
		{http.MethodPost, sa + "/listKeys", "2025-08-01"},
		{http.MethodGet, sa + "/blobServices/default/containers/azureml", "2025-08-01"},
		{http.MethodGet, kv, "2024-11-01"},
		{http.MethodGet, deleted, "2024-11-01"},
		{http.MethodPost, la + "/sharedKeys", "2020-08-01"},
		{http.MethodGet, la, "2025-07-01"},
		{http.MethodGet, ai, "2020-02-02"},
		{http.MethodGet, uai, "2024-11-30"},
		{http.MethodGet, acr, "2025-11-01"},
		{http.MethodPost, acr + "/listCredentials", "2025-11-01"},
	}
	read := func() map[string]string {
		out := map[string]string{}
		for _, r := range reads {
			st, _, body := a.Do(t, r.method, r.path+"?api-version="+r.api, "", nil)
			if st != http.StatusOK {
				t.Fatalf("%s %s: %d %s", r.method, r.path, st, body)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "etag") // a revision of the store
			b, _ := json.Marshal(m)
			out[r.method+" "+r.path] = string(b)
		}
		return out
	}
	before := read()

	st, _, exported := a.Do(t, http.MethodGet, "/_armlet/export", "", nil)
	if st != http.StatusOK {
		t.Fatalf("export: %d %s", st, exported)
	}
	if st, _, body := a.Do(t, http.MethodPost, "/_armlet/reset", `{"confirm":true}`, nil); st != http.StatusOK {
		t.Fatalf("reset: %d %s", st, body)
	}
	if st, _, _ := a.Do(t, http.MethodGet, deleted+"?api-version=2024-11-01", "", nil); st != http.StatusNotFound {
		t.Fatalf("the deleted vault survived the reset: %d", st)
	}
	if st, _, body := a.Do(t, http.MethodPost, "/_armlet/import", exported, nil); st != http.StatusOK {
		t.Fatalf("import: %d %s", st, body)
	}
	after := read()
	for k, b := range before {
		if after[k] != b {
			t.Errorf("%s changed through export and import:\n before %s\n after  %s", k, b, after[k])
		}
	}
}
