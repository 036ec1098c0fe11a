package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/e2e"
)

// TestWorkspaceEndpointHidesDatastoreSecrets registers v1 datastores with
// secrets in every section over HTTPS and checks that no secret value
// appears anywhere in the raw body of a plain GET, the list or the default
// datastore, while includeSecret=true still shows them.
func TestWorkspaceEndpointHidesDatastoreSecrets(t *testing.T) {
	s := e2e.Start(t)
	s.CreateWorkspace(t, "rg", "ws1", false)
	ds := "/datastore/v1.0/subscriptions/" + s.Conn.SubscriptionID +
		"/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	bodies := map[string]string{
		"blob": `{"dataStoreType":"AzureBlob","azureStorageSection":{"accountName":"a","containerName":"c","credentialType":"AccountKey",
			"credential":"LEAK-credential","accountKey":"LEAK-accountKey","sasToken":"LEAK-sasToken"}}`,
		"gen2": `{"dataStoreType":"AzureDataLakeGen2","azureStorageSection":{"accountName":"a","containerName":"fs",
			"clientCredentials":{"clientId":"cid","clientSecret":"LEAK-gen2-clientSecret","certificate":"LEAK-gen2-certificate"}}}`,
		"lake": `{"dataStoreType":"AzureDataLake","azureDataLakeSection":{"storeName":"s","clientSecret":"LEAK-adls-clientSecret"}}`,
		"sql":  `{"dataStoreType":"AzureSqlDatabase","azureSqlDatabaseSection":{"serverName":"s","userId":"u","userPassword":"LEAK-sql-userPassword"}}`,
		"pg":   `{"dataStoreType":"AzurePostgreSql","azurePostgreSqlSection":{"serverName":"s","userPassword":"LEAK-pg-userPassword"}}`,
		"my":   `{"dataStoreType":"AzureMySql","AzureMySqlSection":{"ServerName":"s","UserPassword":"LEAK-my-userPassword"}}`,
		"hdfs": `{"dataStoreType":"Hdfs","hdfsSection":{"namenodeAddress":"nn","credentialValue":"LEAK-hdfs-credentialValue"}}`,
	}
	for name, body := range bodies {
		if code, _, resp := s.Do(t, http.MethodPut, ds+"/datastores/"+name, body, nil); code != http.StatusOK || strings.Contains(resp, "LEAK-") {
			t.Fatalf("PUT %s: %d %s", name, code, resp)
		}
	}
	if code, _, resp := s.Do(t, http.MethodPut, ds+"/default/gen2", "", nil); code != http.StatusOK {
		t.Fatalf("PUT default: %d %s", code, resp)
	}
	reads := []string{ds + "/datastores", ds + "/default"}
	for name := range bodies {
		reads = append(reads, ds+"/datastores/"+name)
	}
	for _, path := range reads {
		code, _, resp := s.Do(t, http.MethodGet, path, "", nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, resp)
		}
		if strings.Contains(resp, "LEAK-") {
			t.Errorf("GET %s shows a secret: %s", path, resp)
		}
	}
	code, _, resp := s.Do(t, http.MethodGet, ds+"/datastores/gen2?includeSecret=true", "", nil)
	if code != http.StatusOK || !strings.Contains(resp, "LEAK-gen2-clientSecret") {
		t.Errorf("includeSecret=true: %d %s", code, resp)
	}
}
