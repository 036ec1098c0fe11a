package machinelearning

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine/enginetest"
)

// registryAssetVersions is a valid version body of each asset kind.
var registryAssetVersions = map[string]string{
	"codes":        `{"properties":{"codeUri":"https://acct.blob.core.windows.net/c/src"}}`,
	"environments": `{"properties":{"image":"mcr.microsoft.com/azureml/base:1"}}`,
	"components":   `{"properties":{"componentSpec":{"name":"train","type":"command"}}}`,
	"models":       `{"properties":{"modelUri":"azureml://datastores/d/paths/m"}}`,
	"data":         `{"properties":{"dataType":"uri_file","dataUri":"https://acct.blob.core.windows.net/c/f.csv"}}`,
}

// lro sends a request that must answer status with the polling header
// (Azure-AsyncOperation or Location), then lets the operation finish.
func (v *env) lro(method, path, body string, status int, header string) map[string]any {
	v.t.Helper()
	resp, err := v.Serve(method, path, newest, body)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.Status != status || resp.Header.Get(header) == "" {
		v.t.Fatalf("%s %s: status %d, %s %q; want %d with it", method, path, resp.Status, header, resp.Header.Get(header), status)
	}
	v.Advance(2 * time.Second)
	return asJSON(v.t, resp.Body)
}

// TestRegistryAssets: every asset kind under a registry, with the
// registry's long-running PUT and DELETE.
func TestRegistryAssets(t *testing.T) {
	v := registryEnv(t, Options{})
	v.createRegistry(regPath, newest, `{"location":"eastus"}`)
	for _, k := range assetKinds {
		t.Run(k.segment, func(t *testing.T) {
			v.in(t)
			base := regPath + "/" + k.segment + "/"
			body := registryAssetVersions[k.segment]
			// The version's PUT makes the container.
			created := v.lro(http.MethodPut, base+"a1/versions/1", body, http.StatusCreated, "Azure-AsyncOperation")
			if walk(created, "properties", "provisioningState") == "Succeeded" {
				t.Errorf("a long-running create shows Succeeded at once: %v", created)
			}
			got := v.Must(http.MethodGet, base+"a1/versions/1", newest, "", http.StatusOK)
			// (A data version has no provisioningState at 2024-04-01.)
			if ps := walk(got, "properties", "provisioningState"); ps != nil && ps != "Succeeded" || walk(got, "type") != TypeRegistries+"/"+k.segment+"/versions" {
				t.Errorf("version = %v", got)
			}
			if c := v.Must(http.MethodGet, base+"a1", newest, "", http.StatusOK); walk(c, "properties", "latestVersion") != "1" {
				t.Errorf("container = %v", c)
			}
			// An update is long-running too (200 with Azure-AsyncOperation);
			// a change to what a version is is refused.
			upd := strings.Replace(body, `{"properties":{`, `{"properties":{"description":"d2",`, 1)
			v.lro(http.MethodPut, base+"a1/versions/1", upd, http.StatusOK, "Azure-AsyncOperation")
			changed := strings.Replace(body, `{"properties":{`, `{"properties":{"isAnonymous":true,`, 1)
			v.Fail(http.MethodPut, base+"a1/versions/1", newest, changed, http.StatusConflict, arm.CodeUserError)
			// Containers of their own, archived, and the list filters.
			container := `{"properties":{"description":"c"}}`
			if k.segment == "data" {
				container = `{"properties":{"dataType":"uri_file"}}`
			}
			v.lro(http.MethodPut, base+"a2", container, http.StatusCreated, "Azure-AsyncOperation")
			archived := strings.Replace(container, `{"properties":{`, `{"properties":{"isArchived":true,`, 1)
			v.lro(http.MethodPut, base+"a2", archived, http.StatusOK, "Azure-AsyncOperation")
			if got := v.assetsNames(regPath + "/" + k.segment); strings.Join(got, ",") != "a1" {
				t.Errorf("active containers = %v", got)
			}
			if got := v.assetsNames(regPath + "/" + k.segment + "?listViewType=All"); strings.Join(got, ",") != "a1,a2" {
				t.Errorf("all containers = %v", got)
			}
			v.lro(http.MethodPut, base+"a1/versions/2", body, http.StatusCreated, "Azure-AsyncOperation")
			if got := v.assetsNames(base + "a1/versions?$orderBy=version%20desc&$top=1"); strings.Join(got, ",") != "2" {
				t.Errorf("newest version = %v", got)
			}
			v.lro(http.MethodDelete, base+"a1/versions/2", "", http.StatusAccepted, "Location")
			v.Fail(http.MethodGet, base+"a1/versions/2", newest, "", http.StatusNotFound, arm.CodeResourceNotFound)
			v.lro(http.MethodDelete, base+"a1", "", http.StatusAccepted, "Location")
			v.Fail(http.MethodGet, base+"a1/versions/1", newest, "", http.StatusNotFound, arm.CodeParentResourceNotFound)
		})
	}
	v.in(t)
	v.Fail(http.MethodPut, regBase+"nope/codes/c/versions/1", newest, registryAssetVersions["codes"], http.StatusNotFound, arm.CodeParentResourceNotFound)
	v.Fail(http.MethodPut, regPath+"/codes/-c/versions/1", newest, registryAssetVersions["codes"], http.StatusBadRequest, arm.CodeInvalidResourceName)
	v.Fail(http.MethodPut, regPath+"/data/d/versions/1", newest, `{"properties":{"dataType":"uri_file"}}`, http.StatusBadRequest, arm.CodeInvalidRequestContent)
}

// TestRegistryStartPendingUpload: code, data and model versions of a
// registry hand out a blob in the storage account of its location.
func TestRegistryStartPendingUpload(t *testing.T) {
	v := registryEnv(t, Options{})
	reg := v.createRegistry(regPath, newest, `{"location":"eastus"}`)
	storage := walk(reg, "properties", "regionDetails", "0", "storageAccountDetails", "0", "systemCreatedStorageAccount").(map[string]any)
	account := storage["storageAccountName"].(string)
	tests := []struct {
		kind   string
		status int
	}{
		{"codes", 200}, {"data", 200}, {"models", 200}, {"environments", 400}, {"components", 400},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			v.in(t)
			path := regPath + "/" + tt.kind + "/up/versions/1"
			v.lro(http.MethodPut, path, registryAssetVersions[tt.kind], http.StatusCreated, "Azure-AsyncOperation")
			if tt.status != 200 {
				v.Fail(http.MethodPost, path+"/startPendingUpload", newest, `{}`, tt.status, arm.CodeInvalidResourceType)
				return
			}
			got := v.Must(http.MethodPost, path+"/startPendingUpload", newest, `{"pendingUploadId":"u1","pendingUploadType":"TemporaryBlobReference"}`, http.StatusOK)
			blob, _ := walk(got, "blobReferenceForConsumption", "blobUri").(string)
			sas, _ := walk(got, "blobReferenceForConsumption", "credential", "sasUri").(string)
			if got["pendingUploadId"] != "u1" || got["pendingUploadType"] != "TemporaryBlobReference" ||
				blob != "https://"+account+".blob.core.windows.net/reg1-"+tt.kind+"/LocalUpload/u1/" || !strings.HasPrefix(sas, blob+"?") ||
				walk(got, "blobReferenceForConsumption", "storageAccountArmId") != walk(storage, "armResourceId", "resourceId") {
				t.Errorf("startPendingUpload = %v", got)
			}
		})
	}
}

// TestPublish: a workspace's asset versions published into a registry.
func TestPublish(t *testing.T) {
	v := registryEnv(t, Options{})
	v.createWorkspace("ws1", newest, baseBody)
	v.createRegistry(regPath, newest, `{"location":"eastus"}`)
	for kind, body := range registryAssetVersions {
		v.Must(http.MethodPut, assetsWS+"/"+kind+"/src/versions/3", newest, body, http.StatusCreated)
	}
	publish := func(kind, body string) (int, string) {
		t.Helper()
		resp, err := v.Serve(http.MethodPost, assetsWS+"/"+kind+"/src/versions/3/publish", newest, body)
		if err != nil {
			t.Fatalf("publish %s: %v", kind, err)
		}
		return resp.Status, resp.Header.Get("Location")
	}
	for _, k := range assetKinds {
		t.Run(k.segment, func(t *testing.T) {
			v.in(t)
			status, loc := publish(k.segment, `{"registryName":"REG1","destinationName":"shared","destinationVersion":"1"}`)
			if status != http.StatusAccepted || loc == "" {
				t.Fatalf("publish: %d Location %q, want 202 with Location", status, loc)
			}
			v.Advance(2 * time.Second)
			v.Must(http.MethodGet, strings.TrimPrefix(loc, enginetest.BaseURL), "", "", http.StatusOK)
			src := v.Must(http.MethodGet, assetsWS+"/"+k.segment+"/src/versions/3", newest, "", http.StatusOK)
			dst := v.Must(http.MethodGet, regPath+"/"+k.segment+"/shared/versions/1", newest, "", http.StatusOK)
			for _, member := range []string{"codeUri", "image", "componentSpec", "modelUri", "dataUri", "dataType"} {
				if s, d := walk(src, "properties", member), walk(dst, "properties", member); s != nil && asString(s) != asString(d) {
					t.Errorf("%s: %v in the workspace, %v in the registry", member, s, d)
				}
			}
			v.Must(http.MethodGet, regPath+"/"+k.segment+"/shared", newest, "", http.StatusOK)
			// The defaults: the source's name and version.
			if status, _ := publish(k.segment, `{"registryName":"reg1"}`); status != http.StatusAccepted {
				t.Fatalf("publish with defaults: %d", status)
			}
			v.Must(http.MethodGet, regPath+"/"+k.segment+"/src/versions/3", newest, "", http.StatusOK)
		})
	}
	refusals := []struct {
		name, body string
		status     int
		code       string
		target     string
	}{
		{"version exists", `{"registryName":"reg1","destinationName":"shared","destinationVersion":"1"}`, 409, arm.CodeUserError, "destinationVersion"},
		{"no registry", `{"registryName":"nope"}`, 404, arm.CodeResourceNotFound, "registryName"},
		{"no registryName", `{"destinationName":"x"}`, 400, arm.CodeInvalidRequestContent, "body.registryName"},
		{"unknown member", `{"registryName":"reg1","colour":"red"}`, 400, arm.CodeInvalidRequestContent, "body.colour"},
		{"bad destination name", `{"registryName":"reg1","destinationName":"-x"}`, 400, arm.CodeUserError, "destinationName"},
		{"bad destination version", `{"registryName":"reg1","destinationVersion":"1/2"}`, 400, arm.CodeUserError, "destinationVersion"},
	}
	for _, tt := range refusals {
		v.Refuse(t, tt.name, http.MethodPost, assetsWS+"/models/src/versions/3/publish", newest, tt.body, tt.status, tt.code, tt.target)
	}
	v.in(t)
	v.Fail(http.MethodPost, assetsWS+"/models/src/versions/9/publish", newest, `{"registryName":"reg1"}`, http.StatusNotFound, arm.CodeResourceNotFound)
	v.Fail(http.MethodPost, regPath+"/models/src/versions/3/publish", newest, `{"registryName":"reg1"}`, http.StatusBadRequest, arm.CodeInvalidResourceType)
}

// asString is v in JSON, for comparing generic JSON values.
func asString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
