package machinelearning

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// TestRegistryBlobReferenceSAS: getBlobReferenceSAS answers a read SAS for
// the blob, with the registry's storage account, and checks the registry,
// the api-version, the method and the body.
func TestRegistryBlobReferenceSAS(t *testing.T) {
	v := registryEnv(t, Options{})
	reg := v.createRegistry(regPath, newest, `{"location":"eastus"}`)
	storage := walk(reg, "properties", "regionDetails", "0", "storageAccountDetails", "0", "systemCreatedStorageAccount", "armResourceId", "resourceId")
	ref := regPath + "/datareferences/d1/versions/1"
	const blob = "https://acct.blob.core.windows.net/c/LocalUpload/x/data.csv"

	got := v.Must(http.MethodPost, ref, newest, `{"assetId":"azureml://registries/reg1/data/d1/versions/1","blobUri":"`+blob+`"}`, http.StatusOK)
	b, _ := got["blobReferenceForConsumption"].(map[string]any)
	if b == nil || b["blobUri"] != blob || storage == nil || b["storageAccountArmId"] != storage || walk(b, "credential", "credentialType") != "SAS" {
		t.Fatalf("answer = %v (storage %v)", got, storage)
	}
	sas, _ := walk(b, "credential", "sasUri").(string)
	u, err := url.Parse(sas)
	if err != nil || !strings.HasPrefix(sas, blob+"?") || u.Query().Get("sp") != "r" || u.Query().Get("sr") != "b" || u.Query().Get("sig") == "" {
		t.Fatalf("sasUri = %q, want a read SAS of the blob", sas)
	}

	tests := []struct {
		name, method, path, version, body string
		status                            int
		code                              string
	}{
		{"no blobUri", http.MethodPost, ref, newest, `{"assetId":"a"}`, 400, arm.CodeInvalidRequestContent},
		{"blobUri not https", http.MethodPost, ref, newest, `{"blobUri":"http://acct.blob.core.windows.net/c/b"}`, 400, arm.CodeUserError},
		{"blobUri relative", http.MethodPost, ref, newest, `{"blobUri":"c/b"}`, 400, arm.CodeUserError},
		{"blobUri with a query", http.MethodPost, ref, newest, `{"blobUri":"https://acct.blob.core.windows.net/c/b?sig=x"}`, 400, arm.CodeUserError},
		{"blobUri with an empty query", http.MethodPost, ref, newest, `{"blobUri":"https://acct.blob.core.windows.net/c/b?"}`, 400, arm.CodeUserError},
		{"blobUri with a fragment", http.MethodPost, ref, newest, `{"blobUri":"https://acct.blob.core.windows.net/c/b#sig=x"}`, 400, arm.CodeUserError},
		{"unknown member", http.MethodPost, ref, newest, `{"blobUri":"` + blob + `","x":1}`, 400, arm.CodeInvalidRequestContent},
		{"not JSON", http.MethodPost, ref, newest, `{`, 400, arm.CodeInvalidRequestContent},
		{"GET", http.MethodGet, ref, newest, ``, 405, arm.CodeMethodNotAllowed},
		{"api-version before registries", http.MethodPost, ref, "2022-10-01", `{"blobUri":"` + blob + `"}`, 400, arm.CodeNoRegisteredProvider},
		{"missing registry", http.MethodPost, regBase + "nope/datareferences/d1/versions/1", newest, `{"blobUri":"` + blob + `"}`, 404, arm.CodeResourceNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.Fail(tc.method, tc.path, tc.version, tc.body, tc.status, tc.code)
		})
	}
}

// TestRegistryBlob: only a blob of the registry's storage account in one
// of the registry's own containers is signed with the account's key.
func TestRegistryBlob(t *testing.T) {
	regID, err := resourceid.Parse(regPath)
	if err != nil {
		t.Fatal(err)
	}
	reg := &engine.Resource{ID: regID}
	storage, err := resourceid.Parse("/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/Store1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		uri, container, blob string
		ok                   bool
	}{
		{"https://store1.blob.core.windows.net/reg1-models/LocalUpload/u/model.bin", "reg1-models", "LocalUpload/u/model.bin", true},
		{"https://STORE1.blob.core.windows.net/reg1-codes/a%20b/c.py", "reg1-codes", "a b/c.py", true},
		{"https://store1.blob.core.windows.net/reg1-data/d", "reg1-data", "d", true},
		{"https://store1.blob.core.windows.net/reg1-models/", "", "", false},                 // the container, no blob
		{"https://store1.blob.core.windows.net/reg1-models", "", "", false},                  // idem
		{"https://store1.blob.core.windows.net/private/secret.txt", "", "", false},           // another container
		{"https://store1.blob.core.windows.net/reg1-widgets/x", "", "", false},               // no such asset kind
		{"https://store1.blob.core.windows.net/reg10-models/x", "", "", false},               // another registry's
		{"https://store2.blob.core.windows.net/reg1-models/x", "", "", false},                // another account
		{"https://store1.blob.core.windows.net:444/reg1-models/x", "", "", false},            // another port
		{"https://store1.blob.core.windows.net.evil.example/reg1-models/x", "", "", false},   // another host
		{"https://store1.dfs.core.windows.net/reg1-models/x", "", "", false},                 // another service
		{"https://store1.blob.core.windows.net/reg1-models%2Fx/../private/y", "", "", false}, // encoded separator
	} {
		u, err := url.Parse(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		c, b, ok := registryBlob(reg, storage, u)
		if c != tc.container || b != tc.blob || ok != tc.ok {
			t.Errorf("registryBlob(%s) = %q %q %v, want %q %q %v", tc.uri, c, b, ok, tc.container, tc.blob, tc.ok)
		}
	}
}
