package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage/v2"
	"github.com/armlet/armlet/internal/e2e"
)

// TestStorageSDK drives the storage provider with azure-sdk-for-go's
// armstorage v2 (api-version 2025-01-01) over TLS: name availability, a
// long-running create, the account's generated properties, keys, an
// update, the four services, blob containers, Azure's refusals and
// delete.
func TestStorageSDK(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	const rg = "storage-rg"
	s.CreateGroup(t, rg)
	s.CreateGroup(t, "storage-rg2")
	f, err := armstorage.NewClientFactory(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	accounts := f.NewAccountsClient()

	free, err := accounts.CheckNameAvailability(ctx, armstorage.AccountCheckNameAvailabilityParameters{
		Name: to.Ptr("mlstore1"), Type: to.Ptr("Microsoft.Storage/storageAccounts"),
	}, nil)
	if err != nil || !*free.NameAvailable {
		t.Fatalf("check free name: %v %+v", err, free)
	}

	create := func(rg, name string) (armstorage.Account, error) {
		p, err := accounts.BeginCreate(ctx, rg, name, armstorage.AccountCreateParameters{
			Location: to.Ptr("eastus"),
			Kind:     to.Ptr(armstorage.KindStorageV2),
			SKU:      &armstorage.SKU{Name: to.Ptr(armstorage.SKUNameStandardLRS)},
			Properties: &armstorage.AccountPropertiesCreateParameters{
				MinimumTLSVersion:     to.Ptr(armstorage.MinimumTLSVersionTLS12),
				AllowBlobPublicAccess: to.Ptr(false),
				IsHnsEnabled:          to.Ptr(false),
				NetworkRuleSet:        &armstorage.NetworkRuleSet{DefaultAction: to.Ptr(armstorage.DefaultActionAllow)},
			},
		}, nil)
		if err != nil {
			return armstorage.Account{}, err
		}
		res, err := p.PollUntilDone(ctx, e2e.FastPoll)
		return res.Account, err
	}
	acct, err := create(rg, "mlstore1")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if *acct.Properties.ProvisioningState != armstorage.ProvisioningStateSucceeded ||
		*acct.Properties.PrimaryEndpoints.Blob != "https://mlstore1.blob.core.windows.net/" ||
		*acct.Properties.PrimaryEndpoints.Dfs != "https://mlstore1.dfs.core.windows.net/" ||
		*acct.SKU.Tier != armstorage.SKUTierStandard || acct.Properties.CreationTime == nil {
		t.Fatalf("account = %s", mustJSON(acct))
	}

	// The name is global: another group, and the availability check, see it.
	if _, err := create("storage-rg2", "mlstore1"); !e2e.IsResponseError(err, http.StatusConflict, "StorageAccountInAnotherResourceGroup") {
		t.Fatalf("name in another group: %v", err)
	}
	if _, err := create(rg, "Bad-Name"); !e2e.IsResponseError(err, http.StatusBadRequest, "AccountNameInvalid") {
		t.Fatalf("bad name: %v", err)
	}
	taken, err := accounts.CheckNameAvailability(ctx, armstorage.AccountCheckNameAvailabilityParameters{Name: to.Ptr("mlstore1")}, nil)
	if err != nil || *taken.NameAvailable || *taken.Reason != armstorage.ReasonAlreadyExists {
		t.Fatalf("check taken name: %v %+v", err, taken)
	}

	// Azure answers "FULL" where the spec's examples and the SDK's enum
	// say "Full".
	keys, err := accounts.ListKeys(ctx, rg, "mlstore1", nil)
	if err != nil || len(keys.Keys) != 2 || *keys.Keys[0].KeyName != "key1" || !strings.EqualFold(string(*keys.Keys[0].Permissions), string(armstorage.KeyPermissionFull)) {
		t.Fatalf("listKeys: %v %s", err, mustJSON(keys))
	}
	regen, err := accounts.RegenerateKey(ctx, rg, "mlstore1", armstorage.AccountRegenerateKeyParameters{KeyName: to.Ptr("key1")}, nil)
	if err != nil || *regen.Keys[0].Value == *keys.Keys[0].Value || *regen.Keys[1].Value != *keys.Keys[1].Value {
		t.Fatalf("regenerateKey: %v", err)
	}

	upd, err := accounts.Update(ctx, rg, "mlstore1", armstorage.AccountUpdateParameters{
		Tags:       map[string]*string{"workspace": to.Ptr("ws1")},
		Properties: &armstorage.AccountPropertiesUpdateParameters{PublicNetworkAccess: to.Ptr(armstorage.PublicNetworkAccessDisabled)},
	}, nil)
	if err != nil || *upd.Properties.PublicNetworkAccess != armstorage.PublicNetworkAccessDisabled || *upd.Tags["workspace"] != "ws1" {
		t.Fatalf("update: %v", err)
	}

	blob, err := f.NewBlobServicesClient().GetServiceProperties(ctx, rg, "mlstore1", nil)
	if err != nil || *blob.Name != "default" || blob.BlobServiceProperties.BlobServiceProperties.Cors == nil {
		t.Fatalf("blob service: %v %s", err, mustJSON(blob))
	}
	if _, err := f.NewBlobServicesClient().SetServiceProperties(ctx, rg, "mlstore1", armstorage.BlobServiceProperties{
		BlobServiceProperties: &armstorage.BlobServicePropertiesProperties{IsVersioningEnabled: to.Ptr(true)},
	}, nil); err != nil {
		t.Fatalf("set blob service: %v", err)
	}
	if _, err := f.NewFileServicesClient().GetServiceProperties(ctx, rg, "mlstore1", nil); err != nil {
		t.Fatalf("file service: %v", err)
	}
	if _, err := f.NewQueueServicesClient().GetServiceProperties(ctx, rg, "mlstore1", nil); err != nil {
		t.Fatalf("queue service: %v", err)
	}
	if _, err := f.NewTableServicesClient().GetServiceProperties(ctx, rg, "mlstore1", nil); err != nil {
		t.Fatalf("table service: %v", err)
	}

	containers := f.NewBlobContainersClient()
	if _, err := containers.Create(ctx, rg, "mlstore1", "azureml-blobstore", armstorage.BlobContainer{}, nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	if _, err := containers.Create(ctx, rg, "mlstore1", "public", armstorage.BlobContainer{
		ContainerProperties: &armstorage.ContainerProperties{PublicAccess: to.Ptr(armstorage.PublicAccessBlob)},
	}, nil); !e2e.IsResponseError(err, http.StatusConflict, "PublicAccessNotPermitted") {
		t.Fatalf("public container: %v", err)
	}
	c, err := containers.Get(ctx, rg, "mlstore1", "azureml-blobstore", nil)
	if err != nil || *c.ContainerProperties.PublicAccess != armstorage.PublicAccessNone || c.Etag == nil {
		t.Fatalf("get container: %v %s", err, mustJSON(c))
	}
	n := 0
	for pager := containers.NewListPager(rg, "mlstore1", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list containers: %v", err)
		}
		n += len(page.Value)
	}
	if n != 1 {
		t.Fatalf("containers = %d, want 1", n)
	}
	if _, err := containers.Delete(ctx, rg, "mlstore1", "azureml-blobstore", nil); err != nil {
		t.Fatalf("delete container: %v", err)
	}

	if _, err := accounts.Delete(ctx, rg, "mlstore1", nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := accounts.GetProperties(ctx, rg, "mlstore1", nil); !e2e.IsResponseError(err, http.StatusNotFound, "ResourceNotFound") {
		t.Fatalf("get after delete: %v", err)
	}
}

// TestWorkspaceUsesItsStorageAccount: a workspace linked to a storage
// account armlet holds uses it, as Azure does: listKeys' userStorageKey
// and the default datastore's secret are the account's key1 (after the
// account regenerates key1 listKeys shows the new one), and the default
// blob datastores' containers are made in the account. A workspace naming an account armlet does not hold keeps a
// key of its own.
func TestWorkspaceUsesItsStorageAccount(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	rg := s.CreateGroup(t, "linked")
	account := rg + "/providers/Microsoft.Storage/storageAccounts/linkedstore"
	do := func(method, path, body string, want int) map[string]any {
		t.Helper()
		code, _, raw := s.Do(t, method, path, body, nil)
		if code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, code, raw, want)
		}
		out := map[string]any{}
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return out
	}
	do("PUT", account+"?api-version=2023-05-01", `{"location":"eastus","sku":{"name":"Standard_LRS"},"kind":"StorageV2"}`, http.StatusAccepted)
	if _, err := s.AdvanceClock(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	key1 := func() string {
		t.Helper()
		keys := do("POST", account+"/listKeys?api-version=2023-05-01", "", http.StatusOK)["keys"].([]any)
		return keys[0].(map[string]any)["value"].(string)
	}
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/"
	do("PUT", ws+"linked?api-version=2024-04-01", `{"location":"eastus","properties":{"storageAccount":"`+account+`"}}`, http.StatusAccepted)
	do("PUT", ws+"unlinked?api-version=2024-04-01", `{"location":"eastus","properties":{"storageAccount":"`+rg+`/providers/Microsoft.Storage/storageAccounts/elsewhere"}}`, http.StatusAccepted)
	if _, err := s.AdvanceClock(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	userKey := func(name string) string {
		t.Helper()
		return do("POST", ws+name+"/listKeys?api-version=2024-04-01", "", http.StatusOK)["userStorageKey"].(string)
	}
	if got, want := userKey("linked"), key1(); got != want {
		t.Errorf("listKeys userStorageKey = %q, want the account's key1 %q", got, want)
	}
	secret := do("POST", ws+"linked/datastores/workspaceblobstore/listSecrets?api-version=2024-04-01", "", http.StatusOK)
	if secret["key"] != key1() {
		t.Errorf("workspaceblobstore's secret = %v, want the account's key1", secret)
	}
	// The default blob datastores' containers are made in the account.
	wsID := do("GET", ws+"linked?api-version=2024-04-01", "", http.StatusOK)["properties"].(map[string]any)["workspaceId"].(string)
	for _, c := range []string{"azureml-blobstore-" + wsID, "azureml"} {
		do("GET", account+"/blobServices/default/containers/"+c+"?api-version=2023-05-01", "", http.StatusOK)
	}
	do("POST", account+"/regenerateKey?api-version=2023-05-01", `{"keyName":"key1"}`, http.StatusOK)
	if got, want := userKey("linked"), key1(); got != want {
		t.Errorf("after the account regenerated key1, listKeys userStorageKey = %q, want %q", got, want)
	}
	if got := userKey("unlinked"); got == "" || got == key1() {
		t.Errorf("a workspace naming an account armlet does not hold: userStorageKey %q", got)
	}
}

// TestDependencySecretsNeedTheirAction: a Reader of the resource group
// reads a storage account and a container registry but gets 403
// AuthorizationFailed for their secrets (listKeys, listCredentials), and
// sees no key in what it may read; the owner gets them.
func TestDependencySecretsNeedTheirAction(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	rg := s.CreateGroup(t, "secrets")
	reader, cred := s.NewPrincipal(t, "reader")
	s.Assign(t, rg, "Reader", reader.ObjectID)
	asReader := map[string]string{"Authorization": "Bearer " + s.TokenOf(t, cred)}
	account := rg + "/providers/Microsoft.Storage/storageAccounts/secretstore"
	registry := rg + "/providers/Microsoft.ContainerRegistry/registries/secretacr"
	for path, body := range map[string]string{
		account + "?api-version=2023-05-01":  `{"location":"eastus","sku":{"name":"Standard_LRS"},"kind":"StorageV2"}`,
		registry + "?api-version=2023-07-01": `{"location":"eastus","sku":{"name":"Basic"},"properties":{"adminUserEnabled":true}}`,
	} {
		if code, _, b := s.Do(t, "PUT", path, body, nil); code >= 300 {
			t.Fatalf("PUT %s: %d %s", path, code, b)
		}
	}
	if _, err := s.AdvanceClock(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ read, secret string }{
		{account + "?api-version=2023-05-01", account + "/listKeys?api-version=2023-05-01"},
		{registry + "?api-version=2023-07-01", registry + "/listCredentials?api-version=2023-07-01"},
	} {
		code, _, body := s.Do(t, "GET", c.read, "", asReader)
		if code != http.StatusOK || strings.Contains(body, `"keys"`) || strings.Contains(body, `"passwords"`) {
			t.Errorf("Reader GET %s: %d %s", c.read, code, body)
		}
		if code, _, body := s.Do(t, "POST", c.secret, "", asReader); code != http.StatusForbidden || !strings.Contains(body, "AuthorizationFailed") {
			t.Errorf("Reader POST %s: %d %s, want 403 AuthorizationFailed", c.secret, code, body)
		}
		if code, _, body := s.Do(t, "POST", c.secret, "", nil); code != http.StatusOK {
			t.Errorf("owner POST %s: %d %s", c.secret, code, body)
		}
	}
}

// TestWorkspaceUsesItsRegistryAndInsights: a workspace linked to a
// container registry and an Application Insights component armlet holds
// hands out their secrets in listKeys, as Azure reads them from the
// resources: containerRegistryCredentials are the registry's admin user
// and passwords (a regenerated password shows at once), and
// appInsightsInstrumentationKey is the component's InstrumentationKey.
// With the registry's admin user disabled the registry has no passwords
// to give, and the workspace's own stand in.
func TestWorkspaceUsesItsRegistryAndInsights(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	rg := s.CreateGroup(t, "linkedkeys")
	acr := rg + "/providers/Microsoft.ContainerRegistry/registries/linkedacr1"
	la := rg + "/providers/Microsoft.OperationalInsights/workspaces/linked-law"
	ai := rg + "/providers/Microsoft.Insights/components/linked-ai"
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/linkedkeys"
	do := func(method, path, body string) map[string]any {
		t.Helper()
		code, _, raw := s.Do(t, method, path, body, nil)
		if code >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, code, raw)
		}
		out := map[string]any{}
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return out
	}
	do("PUT", acr+"?api-version=2025-11-01", `{"location":"eastus","sku":{"name":"Basic"},"properties":{"adminUserEnabled":true}}`)
	do("PUT", la+"?api-version=2025-07-01", `{"location":"eastus"}`)
	do("PUT", ai+"?api-version=2020-02-02", `{"location":"eastus","kind":"web","properties":{"Application_Type":"web","WorkspaceResourceId":"`+la+`"}}`)
	do("PUT", ws+"?api-version=2025-06-01", `{"location":"eastus","properties":{"containerRegistry":"`+acr+`","applicationInsights":"`+ai+`"}}`)
	if _, err := s.AdvanceClock(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	registryPasswords := func(body map[string]any) []string {
		t.Helper()
		var out []string
		list, _ := body["passwords"].([]any)
		for _, p := range list {
			out = append(out, p.(map[string]any)["value"].(string))
		}
		return out
	}
	check := func(when string, wantShared bool) {
		t.Helper()
		keys := do("POST", ws+"/listKeys?api-version=2025-06-01", "")
		creds, _ := keys["containerRegistryCredentials"].(map[string]any)
		got := registryPasswords(creds)
		code, _, raw := s.Do(t, "POST", acr+"/listCredentials?api-version=2025-11-01", "", nil)
		var acrCreds map[string]any
		_ = json.Unmarshal([]byte(raw), &acrCreds)
		want := registryPasswords(acrCreds)
		switch {
		case creds["username"] != "linkedacr1" || len(got) != 2:
			t.Errorf("%s: containerRegistryCredentials = %v", when, creds)
		case wantShared && (code != http.StatusOK || !slices.Equal(got, want)):
			t.Errorf("%s: the workspace's registry passwords %v, want the registry's %v", when, got, want)
		case !wantShared && (code == http.StatusOK || got[0] == ""):
			t.Errorf("%s: registry listCredentials %d %s; the workspace's passwords %v", when, code, raw, got)
		}
		instrumentationKey := do("GET", ai+"?api-version=2020-02-02", "")["properties"].(map[string]any)["InstrumentationKey"]
		if keys["appInsightsInstrumentationKey"] != instrumentationKey {
			t.Errorf("%s: appInsightsInstrumentationKey %v, want the component's %v", when, keys["appInsightsInstrumentationKey"], instrumentationKey)
		}
	}
	check("after create", true)
	do("POST", acr+"/regenerateCredential?api-version=2025-11-01", `{"name":"password2"}`)
	check("after the registry regenerated password2", true)
	do("PATCH", acr+"?api-version=2025-11-01", `{"properties":{"adminUserEnabled":false}}`)
	check("with the registry's admin user disabled", false)
}
