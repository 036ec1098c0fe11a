package machinelearning

import (
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/engine"
)

// TestDefaultDatastores checks the four datastores a workspace comes with,
// whether a client or a seed file made it, on its storage account or a
// derived one.
func TestDefaultDatastores(t *testing.T) {
	const derived = "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/"
	tests := []struct {
		name       string
		make       func(v *env)
		apiVersion string // of the reads
		account    string // "" for the derived one
		storageID  string
	}{
		{"client PUT with a storage account", func(v *env) { v.createWorkspace("ws1", newest, baseBody) }, newest, "store1", storageID},
		{"client PUT without one", func(v *env) { v.createWorkspace("ws1", newest, `{"location":"eastus"}`) }, newest, "", ""},
		{"client PUT at a legacy api-version", func(v *env) { v.createWorkspace("ws1", "2021-07-01", baseBody) }, "", "store1", storageID},
		{"seeded", func(v *env) { v.importResource(wsBase+"ws1", newest, baseBody) }, newest, "store1", storageID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			tt.make(v)
			ws := v.resource(wsBase + "ws1")
			wsID := ws.Properties["workspaceId"].(string)
			var keys workspaceKeys
			ws.GetData(dataKeys, &keys)
			account := tt.account
			if account == "" {
				account = "ws1" + strings.ReplaceAll(wsID, "-", "")[:10]
			}
			if _, pending := ws.Internal.Data[dataDefaultDatastores]; pending {
				t.Errorf("the workspace is still marked for its default datastores")
			}
			want := map[string]map[string]any{
				"workspaceblobstore":        {"datastoreType": "AzureBlob", "containerName": "azureml-blobstore-" + wsID, "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity"},
				"workspaceartifactstore":    {"datastoreType": "AzureBlob", "containerName": "azureml", "serviceDataAccessAuthIdentity": "None"},
				"workspacefilestore":        {"datastoreType": "AzureFile", "fileShareName": "azureml-filestore-" + wsID, "serviceDataAccessAuthIdentity": "None"},
				"workspaceworkingdirectory": {"datastoreType": "AzureFile", "serviceDataAccessAuthIdentity": "None"},
			}
			for name, w := range want {
				ds := v.resource(wsBase + "ws1/datastores/" + name)
				p := ds.Properties
				for k, wv := range w {
					if p[k] != wv {
						t.Errorf("%s: %s = %v, want %v", name, k, p[k], wv)
					}
				}
				if p["accountName"] != account || p["endpoint"] != "core.windows.net" || p["protocol"] != "https" {
					t.Errorf("%s: account %v, endpoint %v, protocol %v; want %s, core.windows.net, https", name, p["accountName"], p["endpoint"], p["protocol"], account)
				}
				if name == "workspaceworkingdirectory" && !strings.HasPrefix(p["fileShareName"].(string), "code-") {
					t.Errorf("%s: fileShareName = %v, want code-{guid}", name, p["fileShareName"])
				}
				var secrets map[string]any
				ds.GetData(dataDatastoreSecrets, &secrets)
				if secrets["secretsType"] != "AccountKey" || secrets["key"] != keys.UserStorageKey {
					t.Errorf("%s: secrets = %v, want the workspace's userStorageKey", name, secrets)
				}
			}
			blob := v.resource(wsBase + "ws1/datastores/workspaceblobstore").Properties
			if tt.storageID != "" && (blob["resourceGroup"] != "rg" || blob["subscriptionId"] != testSub) {
				t.Errorf("workspaceblobstore: resourceGroup %v, subscriptionId %v", blob["resourceGroup"], blob["subscriptionId"])
			}
			if tt.apiVersion == "" {
				return // v1 legacy mode: the v2 API refuses to show them
			}
			if got := v.assetsNames(wsBase + "ws1/datastores?isDefault=true"); len(got) != 1 || got[0] != defaultDatastoreName {
				t.Errorf("default datastores = %v", got)
			}
			// Uploads go to the same account.
			v.Must(http.MethodPut, wsBase+"ws1/codes/c/versions/1", newest, `{"properties":{"codeUri":"https://example.com/c"}}`, http.StatusCreated)
			up := v.Must(http.MethodPost, wsBase+"ws1/codes/c/versions/1/startPendingUpload", newest, "", http.StatusOK)
			wantID := tt.storageID
			if wantID == "" {
				wantID = derived + account
			}
			if got := up["blobReferenceForConsumption"].(map[string]any)["storageAccountArmId"]; got != wantID {
				t.Errorf("startPendingUpload storageAccountArmId = %v, want %s", got, wantID)
			}
		})
	}
}

// TestDefaultDatastoresOnlyAtCreation checks that a default datastore a
// client deleted stays deleted when the workspace is written again.
func TestDefaultDatastoresOnlyAtCreation(t *testing.T) {
	v := assetsEnv(t)
	v.Must(http.MethodDelete, assetsWS+"/datastores/workspacefilestore", newest, "", http.StatusOK)
	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"description":"again"}}`, http.StatusOK)
	v.Must(http.MethodPut, wsBase+"ws1", newest, baseBody, http.StatusAccepted)
	v.Fail(http.MethodGet, assetsWS+"/datastores/workspacefilestore", newest, "", http.StatusNotFound, "ResourceNotFound")
}

// TestDefaultDatastoresMarkLeftStored: a workspace an older armlet
// stored still marked for its datastores (it made them after the
// workspace, and stopped in between) gets the missing ones at its next
// write, and the ones it has are left as they are.
func TestDefaultDatastoresMarkLeftStored(t *testing.T) {
	v := assetsEnv(t)
	v.Must(http.MethodDelete, assetsWS+"/datastores/workspacefilestore", newest, "", http.StatusOK)
	v.Must(http.MethodPatch, assetsWS+"/datastores/workspaceartifactstore", newest, `{"properties":{"description":"mine"}}`, http.StatusOK)
	if _, err := v.e.Update(t.Context(), mustID(t, assetsWS), func(r *engine.Resource) error {
		r.SetData(dataDefaultDatastores, true)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v.Must(http.MethodPatch, assetsWS, newest, `{"properties":{"description":"again"}}`, http.StatusOK)
	v.Must(http.MethodGet, assetsWS+"/datastores/workspacefilestore", newest, "", http.StatusOK)
	if got := v.resource(assetsWS + "/datastores/workspaceartifactstore").Properties["description"]; got != "mine" {
		t.Errorf("workspaceartifactstore's description = %v, want the client's (left alone)", got)
	}
	if _, pending := v.resource(assetsWS).Internal.Data[dataDefaultDatastores]; pending {
		t.Errorf("the workspace is still marked for its default datastores")
	}
}
