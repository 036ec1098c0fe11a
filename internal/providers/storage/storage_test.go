package storage

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAccountRefusals: what a client gets wrong is an ARM error naming
// the member, with Azure Storage's codes where it has them.
func TestAccountRefusals(t *testing.T) {
	v := newEnv(t)
	v.create(acctPath, account("Standard_LRS", "StorageV2", ""))
	v.Must(http.MethodPut, "/subscriptions/"+otherSub+"/resourceGroups/rg2", "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	v.Must(http.MethodPut, "/subscriptions/"+sub+"/resourceGroups/rg3", "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	sa := func(name string) string { return rgPath + "/providers/Microsoft.Storage/storageAccounts/" + name }
	cases := []struct {
		name, path, body string
		status           int
		code, target     string
	}{
		{"upper-case name", sa("Acct2"), account("Standard_LRS", "StorageV2", ""), 400, "AccountNameInvalid", "name"},
		{"short name", sa("ab"), account("Standard_LRS", "StorageV2", ""), 400, "AccountNameInvalid", "name"},
		{"long name", sa(strings.Repeat("a", 25)), account("Standard_LRS", "StorageV2", ""), 400, "AccountNameInvalid", "name"},
		{"hyphen", sa("ab-cd"), account("Standard_LRS", "StorageV2", ""), 400, "AccountNameInvalid", "name"},
		{"no sku", sa("acct2"), `{"location":"eastus","kind":"StorageV2"}`, 400, "InvalidRequestContent", "sku"},
		{"no kind", sa("acct2"), `{"location":"eastus","sku":{"name":"Standard_LRS"}}`, 400, "InvalidRequestContent", "kind"},
		{"bad sku", sa("acct2"), account("Standard_XYZ", "StorageV2", ""), 400, "InvalidValuesForRequestParameters", "sku"},
		{"bad kind", sa("acct2"), account("Standard_LRS", "StorageV3", ""), 400, "InvalidValuesForRequestParameters", "kind"},
		{"no location", sa("acct2"), `{"sku":{"name":"Standard_LRS"},"kind":"StorageV2"}`, 400, "LocationRequired", "location"},
		{"unknown property", sa("acct2"), account("Standard_LRS", "StorageV2", `"isHnsEnable":true`), 400, "InvalidRequestContent", "properties.isHnsEnable"},
		{"bad TLS version", sa("acct2"), account("Standard_LRS", "StorageV2", `"minimumTlsVersion":"TLS9"`), 400, "InvalidRequestContent", "properties.minimumTlsVersion"},
		{"bool as string", sa("acct2"), account("Standard_LRS", "StorageV2", `"allowBlobPublicAccess":"no"`), 400, "InvalidRequestContent", "properties.allowBlobPublicAccess"},
		{"acls without default action", sa("acct2"), account("Standard_LRS", "StorageV2", `"networkAcls":{"bypass":"AzureServices"}`), 400, "InvalidRequestContent", "properties.networkAcls.defaultAction"},
		{"bad bypass flag", sa("acct2"), account("Standard_LRS", "StorageV2", `"networkAcls":{"bypass":"Everything","defaultAction":"Deny"}`), 400, "InvalidRequestContent", "properties.networkAcls.bypass"},
		{"subnet rule not a subnet", sa("acct2"), account("Standard_LRS", "StorageV2", `"networkAcls":{"defaultAction":"Deny","virtualNetworkRules":[{"id":"/subscriptions/`+sub+`/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"}]}`), 400, "LinkedInvalidPropertyId", "properties.networkAcls.virtualNetworkRules[0].id"},
		{"managedBy", sa("acct2"), `{"location":"eastus","sku":{"name":"Standard_LRS"},"kind":"StorageV2","managedBy":"x"}`, 400, "InvalidRequestContent", "managedBy"},
		{"bad identity type", sa("acct2"), `{"location":"eastus","sku":{"name":"Standard_LRS"},"kind":"StorageV2","identity":{"type":"Magic"}}`, 400, "InvalidRequestContent", "identity.type"},
		{"name in another group", "/subscriptions/" + sub + "/resourceGroups/rg3/providers/Microsoft.Storage/storageAccounts/acct1", account("Standard_LRS", "StorageV2", ""), 409, "StorageAccountInAnotherResourceGroup", ""},
		{"name in another subscription", "/subscriptions/" + otherSub + "/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/acct1", account("Standard_LRS", "StorageV2", ""), 409, "StorageAccountAlreadyTaken", ""},
		{"tier change", acctPath, account("Premium_LRS", "StorageV2", ""), 400, "InvalidValuesForRequestParameters", "sku"},
		{"kind downgrade", acctPath, account("Standard_LRS", "Storage", ""), 400, "PropertyChangeNotAllowed", "kind"},
		{"HNS change", acctPath, account("Standard_LRS", "StorageV2", `"isHnsEnabled":true`), 400, "PropertyChangeNotAllowed", "properties.isHnsEnabled"},
		{"old api-version", sa("acct2") + "?api-version=2017-10-01", account("Standard_LRS", "StorageV2", ""), 400, "NoRegisteredProviderFound", ""},
		// 2019-04-01 has accounts (azure-ai-ml's template) but not the
		// file service, which came with 2019-06-01.
		{"file service before 2019-06-01", acctPath + "/fileServices/default?api-version=2019-04-01", `{"properties":{}}`, 400, "NoRegisteredProviderFound", ""},
	}
	for _, c := range cases {
		v.Refuse(t, c.name, http.MethodPut, c.path, api, c.body, c.status, c.code, c.target)
	}
	if e := v.Fail(http.MethodPut, rgPath+"/providers/Microsoft.Storage/storageAccounts/Acct2", api, account("Standard_LRS", "StorageV2", ""), 400, "AccountNameInvalid"); !strings.Contains(e.Message, "between 3 and 24 characters") {
		t.Errorf("message = %s", e.Message)
	}
	// Nothing but acct1 was made.
	if list := v.Must(http.MethodGet, "/subscriptions/"+sub+"/providers/Microsoft.Storage/storageAccounts", api, "", 200)["value"].([]any); len(list) != 1 {
		t.Fatalf("accounts = %v", list)
	}
}

// TestAccountLifecycle: a create is long-running with Location, the
// account shows Azure's generated properties, updates are synchronous,
// keys are kept until regenerated, and delete answers 200 then 204.
func TestAccountLifecycle(t *testing.T) {
	v := newEnv(t)
	got := v.create(acctPath, account("Standard_RAGRS", "StorageV2", `"networkAcls":{"defaultAction":"Deny","bypass":"azureservices,logging","ipRules":[{"value":"203.0.113.0/24"}]}`))
	want := map[string]any{
		"kind":                                        "StorageV2",
		"sku.name":                                    "Standard_RAGRS",
		"sku.tier":                                    "Standard",
		"properties.primaryEndpoints.blob":            "https://acct1.blob.core.windows.net/",
		"properties.primaryEndpoints.dfs":             "https://acct1.dfs.core.windows.net/",
		"properties.primaryEndpoints.web":             "https://acct1.web.core.windows.net/",
		"properties.secondaryEndpoints.blob":          "https://acct1-secondary.blob.core.windows.net/",
		"properties.primaryLocation":                  "eastus",
		"properties.secondaryLocation":                "westus",
		"properties.statusOfPrimary":                  "available",
		"properties.minimumTlsVersion":                "TLS1_2",
		"properties.allowBlobPublicAccess":            false,
		"properties.supportsHttpsTrafficOnly":         true,
		"properties.publicNetworkAccess":              "Enabled",
		"properties.isHnsEnabled":                     false,
		"properties.accessTier":                       "Hot",
		"properties.networkAcls.bypass":               "AzureServices, Logging",
		"properties.networkAcls.defaultAction":        "Deny",
		"properties.networkAcls.ipRules.0.value":      "203.0.113.0/24",
		"properties.encryption.keySource":             "Microsoft.Storage",
		"properties.encryption.services.blob.keyType": "Account",
		"properties.provisioningState":                "Succeeded",
	}
	for p, w := range want {
		if g := walk(got, strings.Split(p, ".")...); g != w {
			t.Errorf("%s = %v, want %v", p, g, w)
		}
	}
	for _, p := range []string{"creationTime", "keyCreationTime.key1", "keyCreationTime.key2"} {
		if s, _ := walk(got, append([]string{"properties"}, strings.Split(p, ".")...)...).(string); s == "" {
			t.Errorf("properties.%s missing", p)
		}
	}
	if conns, ok := walk(got, "properties", "privateEndpointConnections").([]any); !ok || len(conns) != 0 {
		t.Errorf("privateEndpointConnections = %v, want []", walk(got, "properties", "privateEndpointConnections"))
	}
	// An older api-version does not show what it did not have.
	old := v.Must(http.MethodGet, acctPath, "2019-06-01", "", 200)
	if _, ok := walk(old, "properties").(map[string]any)["publicNetworkAccess"]; ok {
		t.Errorf("2019-06-01 shows publicNetworkAccess")
	}

	keys := v.Must(http.MethodPost, acctPath+"/listKeys", api, "", 200)
	k1, k2 := walk(keys, "keys", "0", "value").(string), walk(keys, "keys", "1", "value").(string)
	if len(k1) != 88 || k1 == k2 || walk(keys, "keys", "0", "keyName") != "key1" || walk(keys, "keys", "1", "permissions") != "FULL" {
		t.Fatalf("keys = %v", keys)
	}
	if again := v.Must(http.MethodPost, acctPath+"/listKeys?api-version="+api+"&$expand=kerb", "", "", 200); walk(again, "keys", "0", "value") != k1 {
		t.Fatalf("listKeys changed the keys")
	}
	// The keys are never in the GET.
	if b, _ := json.Marshal(got); strings.Contains(string(b), k1) {
		t.Fatalf("GET shows a key")
	}
	regen := v.Must(http.MethodPost, acctPath+"/regenerateKey", api, `{"keyName":"KEY2"}`, 200)
	if walk(regen, "keys", "0", "value") != k1 || walk(regen, "keys", "1", "value") == k2 {
		t.Fatalf("regenerateKey key2 = %v", regen)
	}
	v.Fail(http.MethodPost, acctPath+"/regenerateKey", api, `{"keyName":"key3"}`, 400, "InvalidValuesForRequestParameters")
	v.Fail(http.MethodPost, acctPath+"/regenerateKey", api, `{}`, 400, "InvalidRequestContent")
	v.Fail(http.MethodPost, acctPath+"/failover", api, "", 400, "InvalidResourceType")

	// An update is synchronous and keeps what it omits; PATCH merges.
	upd := v.Must(http.MethodPut, acctPath, api, account("Standard_GRS", "StorageV2", `"publicNetworkAccess":"Disabled"`), 200)
	if walk(upd, "properties", "publicNetworkAccess") != "Disabled" || walk(upd, "properties", "networkAcls", "defaultAction") != "Deny" ||
		walk(upd, "sku", "name") != "Standard_GRS" || walk(upd, "properties", "secondaryEndpoints") != nil {
		t.Fatalf("update = %v", upd)
	}
	patched := v.Must(http.MethodPatch, acctPath, api, `{"properties":{"allowBlobPublicAccess":true},"tags":{"team":"ml"}}`, 200)
	if walk(patched, "properties", "allowBlobPublicAccess") != true || walk(patched, "tags", "team") != "ml" || walk(patched, "properties", "publicNetworkAccess") != "Disabled" {
		t.Fatalf("patch = %v", patched)
	}
	if k := v.Must(http.MethodPost, acctPath+"/listKeys", api, "", 200); walk(k, "keys", "0", "value") != k1 {
		t.Fatalf("an update changed the keys")
	}

	v.Must(http.MethodDelete, acctPath, api, "", 200)
	v.Fail(http.MethodGet, acctPath, api, "", 404, "ResourceNotFound")
	v.Must(http.MethodDelete, acctPath, api, "", 204)
	// The name is free again, in another subscription too.
	v.Must(http.MethodPut, "/subscriptions/"+otherSub+"/resourceGroups/rg2", "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	v.create("/subscriptions/"+otherSub+"/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/acct1", account("Standard_LRS", "Storage", ""))
}

// TestEndpointsByKind: each kind shows the endpoints of its services.
func TestEndpointsByKind(t *testing.T) {
	v := newEnv(t)
	cases := []struct {
		name, sku, kind string
		endpoints       []string
	}{
		{"gpv1", "Standard_LRS", "Storage", []string{"blob", "file", "queue", "table"}},
		{"blockblob", "Premium_LRS", "BlockBlobStorage", []string{"blob", "dfs", "web"}},
		{"files", "Premium_ZRS", "FileStorage", []string{"file"}},
	}
	for _, c := range cases {
		got := v.create(rgPath+"/providers/Microsoft.Storage/storageAccounts/"+c.name, account(c.sku, c.kind, ""))
		eps := walk(got, "properties", "primaryEndpoints").(map[string]any)
		if len(eps) != len(c.endpoints) {
			t.Errorf("%s: endpoints %v, want %v", c.kind, eps, c.endpoints)
		}
		for _, s := range c.endpoints {
			if eps[s] != "https://"+c.name+"."+s+".core.windows.net/" {
				t.Errorf("%s: %s endpoint = %v", c.kind, s, eps[s])
			}
		}
	}
}

// TestServicesAndContainers: the four services exist with the account and
// answer defaults; a PUT of one changes what it sends; containers follow
// Azure's name rules and public access needs the account's consent.
func TestServicesAndContainers(t *testing.T) {
	v := newEnv(t)
	v.create(acctPath, account("Standard_LRS", "StorageV2", ""))
	for _, s := range []string{"blobServices", "fileServices", "queueServices", "tableServices"} {
		got := v.Must(http.MethodGet, acctPath+"/"+s+"/default", api, "", 200)
		if walk(got, "type") != TypeAccounts+"/"+s || walk(got, "sku", "name") != "Standard_LRS" || walk(got, "properties", "cors", "corsRules") == nil {
			t.Errorf("%s = %v", s, got)
		}
		if list := v.Must(http.MethodGet, acctPath+"/"+s, api, "", 200)["value"].([]any); len(list) != 1 {
			t.Errorf("%s list = %v", s, list)
		}
	}
	blob := v.Must(http.MethodPut, acctPath+"/blobServices/default", api, `{"properties":{"isVersioningEnabled":true}}`, 200)
	if walk(blob, "properties", "isVersioningEnabled") != true || walk(blob, "properties", "deleteRetentionPolicy", "enabled") != false {
		t.Fatalf("blob service after PUT = %v", blob)
	}
	v.Fail(http.MethodPut, acctPath+"/blobServices/default", api, `{"properties":{"versioning":true}}`, 400, "InvalidRequestContent")
	v.Fail(http.MethodPut, acctPath+"/blobServices/other", api, `{"properties":{}}`, 400, "InvalidResourceName")
	v.Fail(http.MethodDelete, acctPath+"/blobServices/default", api, "", 405, "MethodNotAllowed")

	containers := acctPath + "/blobServices/default/containers/"
	c := v.Must(http.MethodPut, containers+"azureml", api, `{}`, 201)
	if walk(c, "properties", "publicAccess") != "None" || walk(c, "properties", "leaseState") != "Available" || walk(c, "etag") == nil {
		t.Fatalf("container = %v", c)
	}
	v.Must(http.MethodPut, containers+"azureml", api, `{"properties":{"metadata":{"owner":"ml"}}}`, 200)
	for _, bad := range []string{"ab", "Upper", "a--b", "-ab", strings.Repeat("a", 64)} {
		v.Fail(http.MethodPut, containers+bad, api, `{}`, 400, "InvalidResourceName")
	}
	v.Fail(http.MethodPut, containers+"public", api, `{"properties":{"publicAccess":"Blob"}}`, 409, "PublicAccessNotPermitted")
	v.Must(http.MethodPatch, acctPath, api, `{"properties":{"allowBlobPublicAccess":true}}`, 200)
	v.Must(http.MethodPut, containers+"public", api, `{"properties":{"publicAccess":"blob"}}`, 201)
	if list := v.Must(http.MethodGet, acctPath+"/blobServices/default/containers", api, "", 200)["value"].([]any); len(list) != 2 {
		t.Fatalf("containers = %v", list)
	}
	v.Must(http.MethodDelete, containers+"public", api, "", 200)
	v.Must(http.MethodDelete, containers+"public", api, "", 204)
	v.Fail(http.MethodPut, rgPath+"/providers/Microsoft.Storage/storageAccounts/nope/blobServices/default/containers/c1", api, `{}`, 404, "ParentResourceNotFound")

	// Deleting the account takes its services and containers.
	v.Must(http.MethodDelete, acctPath, api, "", 200)
	v.create(acctPath, account("Standard_LRS", "StorageV2", ""))
	v.Fail(http.MethodGet, containers+"azureml", api, "", 404, "ResourceNotFound")
	if got := v.Must(http.MethodGet, acctPath+"/blobServices/default", api, "", 200); walk(got, "properties", "isVersioningEnabled") != nil {
		t.Fatalf("a new account has the old one's blob service: %v", got)
	}
}

// TestCheckNameAvailability: the subscription-level action answers as a
// PUT of the name would fare.
func TestCheckNameAvailability(t *testing.T) {
	v := newEnv(t)
	v.create(acctPath, account("Standard_LRS", "StorageV2", ""))
	check := "/subscriptions/" + otherSub + "/providers/Microsoft.Storage/checkNameAvailability"
	cases := []struct {
		name      string
		available bool
		reason    string
	}{
		{"freename", true, ""},
		{"acct1", false, "AlreadyExists"},
		{"ACCT1", false, "AccountNameInvalid"},
		{"a", false, "AccountNameInvalid"},
	}
	for _, c := range cases {
		got := v.Must(http.MethodPost, check, api, `{"name":"`+c.name+`","type":"Microsoft.Storage/storageAccounts"}`, 200)
		if got["nameAvailable"] != c.available || (c.reason != "" && got["reason"] != c.reason) {
			t.Errorf("%s: %v", c.name, got)
		}
	}
	v.Fail(http.MethodPost, check, api, `{"name":"x"}`, 400, "InvalidRequestContent")
	v.Fail(http.MethodPost, check, api, `{"name":"x","type":"Microsoft.Storage/other"}`, 400, "InvalidRequestContent")
	v.Fail(http.MethodPost, check, "2017-01-01", `{"name":"x","type":"Microsoft.Storage/storageAccounts"}`, 400, "NoRegisteredProviderFound")
	v.Fail(http.MethodPost, "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Storage/checkNameAvailability", api,
		`{"name":"x","type":"Microsoft.Storage/storageAccounts"}`, 404, "SubscriptionNotFound")
}

// TestPrivateEndpoints: a private endpoint reaches an account's blob
// service with Azure's FQDN, a private DNS zone group writes its record
// in privatelink.blob.core.windows.net, and the account lists the
// connection.
func TestPrivateEndpoints(t *testing.T) {
	v := newEnv(t)
	v.create(acctPath, account("Standard_LRS", "StorageV2", ""))
	links := v.Must(http.MethodGet, acctPath+"/privateLinkResources", api, "", 200)["value"].([]any)
	if len(links) != 6 || walk(links, "0", "properties", "requiredZoneNames", "0") != "privatelink.blob.core.windows.net" {
		t.Fatalf("privateLinkResources = %v", links)
	}
	net := rgPath + "/providers/Microsoft.Network"
	v.Must(http.MethodPut, net+"/virtualNetworks/vnet1", netAPI, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
		"subnets":[{"name":"pe","properties":{"addressPrefix":"10.0.1.0/24"}}]}}`, 201)
	pe := `{"location":"eastus","properties":{"subnet":{"id":"` + net + `/virtualNetworks/vnet1/subnets/pe"},
		"privateLinkServiceConnections":[{"name":"blob","properties":{"privateLinkServiceId":"` + acctPath + `","groupIds":["blob"]}}]}}`
	v.Must(http.MethodPut, net+"/privateEndpoints/pe-blob", netAPI, pe, 201)
	v.Fail(http.MethodPut, net+"/privateEndpoints/pe-bad", netAPI, strings.Replace(pe, `["blob"]`, `["sql"]`, 1), 400, "PrivateEndpointBadRequest")
	v.Must(http.MethodPut, net+"/privateDnsZones/privatelink.blob.core.windows.net", "2024-06-01", `{"location":"global"}`, 201)
	v.Must(http.MethodPut, net+"/privateEndpoints/pe-blob/privateDnsZoneGroups/default", netAPI, `{"properties":{"privateDnsZoneConfigs":[{"name":"blob","properties":{"privateDnsZoneId":"`+net+`/privateDnsZones/privatelink.blob.core.windows.net"}}]}}`, 201)
	v.Advance(2e9)
	got := v.Must(http.MethodGet, net+"/privateEndpoints/pe-blob", netAPI, "", 200)
	if walk(got, "properties", "customDnsConfigs", "0", "fqdn") != "acct1.blob.core.windows.net" {
		t.Fatalf("customDnsConfigs = %v", walk(got, "properties", "customDnsConfigs"))
	}
	rec := v.Must(http.MethodGet, net+"/privateDnsZones/privatelink.blob.core.windows.net/A/acct1", "2024-06-01", "", 200)
	if walk(rec, "properties", "aRecords", "0", "ipv4Address") != walk(got, "properties", "customDnsConfigs", "0", "ipAddresses", "0") {
		t.Fatalf("A record = %v", rec)
	}
	acct := v.Must(http.MethodGet, acctPath, api, "", 200)
	if walk(acct, "properties", "privateEndpointConnections", "0", "properties", "privateLinkServiceConnectionState", "status") != "Approved" ||
		walk(acct, "properties", "privateEndpointConnections", "0", "properties", "privateEndpoint", "id") != net+"/privateEndpoints/pe-blob" {
		t.Fatalf("connections = %v", walk(acct, "properties", "privateEndpointConnections"))
	}
}
