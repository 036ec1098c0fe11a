package workspaceapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDatastoreSecretsHidden registers a v1 datastore of every section
// with its secrets at every depth, in several casings, and checks that a
// GET, the list and the default datastore show none of the secret values
// anywhere in the body, keep the members that are not secrets, and that
// includeSecret=true shows the secrets again (they are stored, not lost).
func TestDatastoreSecretsHidden(t *testing.T) {
	tests := []struct {
		name string
		body string
		// secrets are the values that must not appear without includeSecret.
		secrets []string
		// kept are dotted paths (as sent) that must still be shown.
		kept []string
	}{
		{
			name: "blob account key",
			body: `{"dataStoreType":"AzureBlob","azureStorageSection":{"accountName":"acct","containerName":"c",
				"credentialType":"AccountKey","credential":"SECRET-blob-credential","accountKey":"SECRET-blob-accountKey",
				"sasToken":"SECRET-blob-sasToken","isSas":false,"protocol":"https","endpoint":"core.windows.net"}}`,
			secrets: []string{"SECRET-blob-credential", "SECRET-blob-accountKey", "SECRET-blob-sasToken"},
			kept: []string{"azureStorageSection.accountName", "azureStorageSection.credentialType", "azureStorageSection.isSas",
				"azureStorageSection.protocol"},
		},
		{
			name: "adls gen2 client credentials one level down",
			body: `{"dataStoreType":"AzureDataLakeGen2","azureStorageSection":{"accountName":"acct","containerName":"fs",
				"credentialType":"ClientCredentials","clientCredentials":{"clientId":"cid","tenantId":"tid",
				"clientSecret":"SECRET-gen2-clientSecret","certificate":"SECRET-gen2-certificate","thumbprint":"AB12",
				"isCertAuth":false,"resourceUri":"https://storage.azure.com/","authorityUrl":"https://login.microsoftonline.com"}}}`,
			secrets: []string{"SECRET-gen2-clientSecret", "SECRET-gen2-certificate"},
			kept: []string{"azureStorageSection.clientCredentials.clientId", "azureStorageSection.clientCredentials.tenantId",
				"azureStorageSection.clientCredentials.thumbprint", "azureStorageSection.clientCredentials.isCertAuth",
				"azureStorageSection.credentialType"},
		},
		{
			name: "adls gen1",
			body: `{"dataStoreType":"AzureDataLake","azureDataLakeSection":{"storeName":"lake","clientId":"cid","tenantId":"tid",
				"clientSecret":"SECRET-adls-clientSecret","certificate":"SECRET-adls-certificate","thumbprint":"CD34","credentialType":"ServicePrincipal"}}`,
			secrets: []string{"SECRET-adls-clientSecret", "SECRET-adls-certificate"},
			kept:    []string{"azureDataLakeSection.storeName", "azureDataLakeSection.clientId", "azureDataLakeSection.thumbprint", "azureDataLakeSection.credentialType"},
		},
		{
			name: "sql database",
			body: `{"dataStoreType":"AzureSqlDatabase","azureSqlDatabaseSection":{"serverName":"srv","databaseName":"db",
				"credentialType":"SqlAuthentication","userId":"admin","userPassword":"SECRET-sql-userPassword",
				"clientId":"cid","clientSecret":"SECRET-sql-clientSecret","certificate":"SECRET-sql-certificate"}}`,
			secrets: []string{"SECRET-sql-userPassword", "SECRET-sql-clientSecret", "SECRET-sql-certificate"},
			kept:    []string{"azureSqlDatabaseSection.serverName", "azureSqlDatabaseSection.userId", "azureSqlDatabaseSection.credentialType"},
		},
		{
			name: "postgresql",
			body: `{"dataStoreType":"AzurePostgreSql","azurePostgreSqlSection":{"serverName":"srv","databaseName":"db","userId":"pg",
				"userPassword":"SECRET-pg-userPassword","clientSecret":"SECRET-pg-clientSecret","certificate":"SECRET-pg-certificate",
				"portNumber":"5432","enableSsl":true}}`,
			secrets: []string{"SECRET-pg-userPassword", "SECRET-pg-clientSecret", "SECRET-pg-certificate"},
			kept:    []string{"azurePostgreSqlSection.userId", "azurePostgreSqlSection.portNumber", "azurePostgreSqlSection.enableSsl"},
		},
		{
			name: "mysql",
			body: `{"dataStoreType":"AzureMySql","azureMySqlSection":{"serverName":"srv","databaseName":"db","userId":"my",
				"userPassword":"SECRET-my-userPassword","clientSecret":"SECRET-my-clientSecret","certificate":"SECRET-my-certificate"}}`,
			secrets: []string{"SECRET-my-userPassword", "SECRET-my-clientSecret", "SECRET-my-certificate"},
			kept:    []string{"azureMySqlSection.userId", "azureMySqlSection.serverName"},
		},
		{
			name: "hdfs kerberos",
			body: `{"dataStoreType":"Hdfs","hdfsSection":{"protocol":"https","namenodeAddress":"nn:9000","hdfsServerCertificate":"PUBLIC-CERT",
				"kerberosRealm":"EXAMPLE.COM","kerberosKdcAddress":"kdc","kerberosPrincipal":"alice",
				"credentialType":"KerberosPassword","credentialValue":"SECRET-hdfs-credentialValue"}}`,
			secrets: []string{"SECRET-hdfs-credentialValue"},
			kept: []string{"hdfsSection.hdfsServerCertificate", "hdfsSection.kerberosPrincipal", "hdfsSection.credentialType",
				"hdfsSection.namenodeAddress"},
		},
		{
			name: "any casing",
			body: `{"DataStoreType":"azurefile","AzureStorageSection":{"AccountName":"acct","ContainerName":"share",
				"CREDENTIAL":"SECRET-case-credential","AccountKey":"SECRET-case-accountKey","SASTOKEN":"SECRET-case-sasToken",
				"ClientCredentials":{"ClientId":"cid","ClientSecret":"SECRET-case-clientSecret","Certificate":"SECRET-case-certificate"}}}`,
			secrets: []string{"SECRET-case-credential", "SECRET-case-accountKey", "SECRET-case-sasToken", "SECRET-case-clientSecret", "SECRET-case-certificate"},
			kept:    []string{"AzureStorageSection.AccountName", "AzureStorageSection.ClientCredentials.ClientId"},
		},
		{
			name: "safety net outside the schema",
			body: `{"dataStoreType":"Custom","customSection":{"datastoreType":"lakehouse","properties":{"password":"SECRET-net-password",
				"connectionString":"SECRET-net-connectionString","endpoint":"https://x"},
				"credentials":{"secrets":{"key":"SECRET-net-v2key"}},"items":[{"name":"a","key":"SECRET-net-arraykey"}]},
				"secret":"SECRET-net-toplevel","azureSqlDatabaseSection":{"extra":{"userPassword":"SECRET-net-misplaced"}}}`,
			secrets: []string{"SECRET-net-password", "SECRET-net-connectionString", "SECRET-net-v2key", "SECRET-net-arraykey",
				"SECRET-net-toplevel", "SECRET-net-misplaced"},
			kept: []string{"customSection.datastoreType", "customSection.properties.endpoint", "azureSqlDatabaseSection.extra"},
		},
		{
			name:    "glusterfs has no secret",
			body:    `{"dataStoreType":"GlusterFs","glusterFsSection":{"serverAddress":"10.0.0.5","volumeName":"vol"}}`,
			secrets: nil,
			kept:    []string{"glusterFsSection.serverAddress", "glusterFsSection.volumeName"},
		},
	}
	h := newHarness(t)
	h.workspace(t, "ws1", "Enabled")
	ds := "/datastore/v1.0" + wsPath + "ws1"
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "ds" + string(rune('a'+i))
			put := h.ok(t, "PUT", ds+"/datastores/"+name, tt.body, 200)
			get := h.ok(t, "GET", ds+"/datastores/"+name, "", 200)
			h.ok(t, "PUT", ds+"/default/"+name, "", 200)
			def := h.ok(t, "GET", ds+"/default", "", 200)
			for what, body := range map[string]map[string]any{"PUT": put, "GET": get, "GET default": def} {
				raw := marshal(t, body)
				for _, s := range tt.secrets {
					if strings.Contains(raw, s) {
						t.Errorf("%s shows %s: %s", what, s, raw)
					}
				}
				for _, p := range tt.kept {
					if _, ok := at(body, p); !ok {
						t.Errorf("%s lost %s: %s", what, p, raw)
					}
				}
			}
			withSecret := marshal(t, h.ok(t, "GET", ds+"/datastores/"+name+"?includeSecret=true", "", 200))
			for _, s := range tt.secrets {
				if !strings.Contains(withSecret, s) {
					t.Errorf("includeSecret=true does not show %s: %s", s, withSecret)
				}
			}
		})
	}
	list := marshal(t, h.ok(t, "GET", ds+"/datastores", "", 200))
	for _, tt := range tests {
		for _, s := range tt.secrets {
			if strings.Contains(list, s) {
				t.Errorf("the list shows %s", s)
			}
		}
	}
	if l := marshal(t, h.ok(t, "GET", ds+"/datastores?includeSecret=true", "", 200)); !strings.Contains(l, "SECRET-hdfs-credentialValue") {
		t.Errorf("the list with includeSecret=true lost the secrets: %s", l)
	}
}

// TestWithoutSecretsLeavesStoredDocument: hiding works on a copy, so the
// stored document (and a later includeSecret=true) keeps its secrets.
func TestWithoutSecretsLeavesStoredDocument(t *testing.T) {
	var d map[string]any
	if err := json.Unmarshal([]byte(`{"azureStorageSection":{"accountKey":"k","clientCredentials":{"clientSecret":"s"}},"list":[{"password":"p"}]}`), &d); err != nil {
		t.Fatal(err)
	}
	before := marshal(t, d)
	shown := marshal(t, withoutSecrets(d, v1DatastoreSecrets, v1DatastoreSecretNames))
	if after := marshal(t, d); after != before {
		t.Fatalf("the stored document changed: %s, was %s", after, before)
	}
	if want := `{"azureStorageSection":{"clientCredentials":{}},"list":[{}]}`; shown != want {
		t.Fatalf("shown = %s, want %s", shown, want)
	}
}

// TestSecretNamesCoverSchema: the safety net includes every secret the
// schema names, so a schema secret moved under another parent is still
// hidden.
func TestSecretNamesCoverSchema(t *testing.T) {
	for _, n := range []string{"credential", "accountkey", "sastoken", "clientsecret", "certificate", "userpassword", "credentialvalue", "password"} {
		if !v1DatastoreSecretNames[n] {
			t.Errorf("%s is not in the safety net", n)
		}
	}
	for _, n := range []string{"credentialtype", "clientcredentials", "thumbprint", "clientid", "hdfsservercertificate", "accountname"} {
		if v1DatastoreSecretNames[n] {
			t.Errorf("%s is hidden, but it is not a secret", n)
		}
	}
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// at looks up a dotted path of exact member names.
func at(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, seg := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[seg]; !ok {
			return nil, false
		}
	}
	return v, true
}
