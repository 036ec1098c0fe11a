package workspaceapi

import (
	"strings"
)

// secretTree says which members of a JSON object hold secrets. A member
// named in it with a nil subtree is a secret, whatever its value; one with
// a subtree is an object whose own members the subtree describes. Names
// are matched ignoring case, as the .NET service reads them.
type secretTree map[string]secretTree

// v1DatastoreSecrets are the secret-bearing members of the v1 DataStoreDto
// at every depth.
//
// Source: the DataStore model of the Azure ML v1 datastore service as
// Azure/bicep-types-az transcribes it (generated/machinelearningservices/
// microsoft.machinelearningservices/2020-05-01-preview/types.md:
// Datastore, AzureStorageSection, ClientCredentials, AzureDataLakeSection,
// AzureSqlDatabaseSection, AzurePostgreSqlSection, AzureMySqlSection,
// GlusterFsSection), and azureml-core's azureml/data/_datastore_client.py
// for the hdfsSection (OnPremHdfs: the Kerberos password or keytab goes in
// credentialValue).
//
// Not secrets, and so shown: accountName, containerName, endpoint, protocol,
// credentialType, isSas, clientId, tenantId, authorityUrl, resourceUri,
// thumbprint (of the certificate, public), isCertAuth, userId, serverName,
// databaseName, portNumber, hdfsServerCertificate (the name node's public
// TLS certificate), kerberosPrincipal, kerberosRealm, kerberosKdcAddress.
// glusterFsSection has no secret. A customSection has no published schema;
// the safety net below covers it.
var v1DatastoreSecrets = secretTree{
	"azureStorageSection": {
		"credential": nil, // the account key or SAS token, as azureml-core sends it
		"accountKey": nil,
		"sasToken":   nil,
		"clientCredentials": {
			"clientSecret": nil,
			"certificate":  nil, // the content of the certificate, with its private key
		},
	},
	"azureDataLakeSection":    {"clientSecret": nil, "certificate": nil},
	"azureSqlDatabaseSection": {"clientSecret": nil, "certificate": nil, "userPassword": nil},
	"azurePostgreSqlSection":  {"clientSecret": nil, "certificate": nil, "userPassword": nil},
	"azureMySqlSection":       {"clientSecret": nil, "certificate": nil, "userPassword": nil},
	"hdfsSection":             {"credentialValue": nil},
}

// v1DatastoreSecretNames is the safety net: a member of a stored datastore
// with one of these names (lower case) is a secret wherever it is, even
// where the schema does not name it. armlet keeps members the schema does
// not know as the client sent them, so a secret can sit where Azure's
// schema has none: in a customSection, in a section of a future type, or
// under a wrong parent.
//
// Choice: the names are every secret name of v1DatastoreSecrets plus the
// names other Azure ML secrets go by (password, secret, key, connection
// strings, the v2 credentials and secrets objects), matched whole. It is
// deliberately not netmodel.SecretName, whose word test would also hide
// credentialType and clientCredentials, which azureml-core reads to tell
// how a datastore authenticates.
var v1DatastoreSecretNames = func() map[string]bool {
	names := map[string]bool{}
	for _, n := range []string{
		"password", "secret", "key", "token", "accessKey", "secretAccessKey", "privateKey",
		"privateKeyData", "connectionString", "kerberosPassword", "kerberosKeytab",
		"credentials", "secrets",
	} {
		names[strings.ToLower(n)] = true
	}
	var walk func(t secretTree)
	walk = func(t secretTree) {
		for name, sub := range t {
			if sub == nil {
				names[strings.ToLower(name)] = true
			}
			walk(sub)
		}
	}
	walk(v1DatastoreSecrets)
	return names
}()

// withoutSecrets returns a copy of the JSON value v with every member that
// holds a secret left out: those schema names at their path and, at any
// depth, those whose name is in names. v itself is not changed. Members
// are compared ignoring case; arrays are walked with the schema of the
// member that holds them.
func withoutSecrets(v any, schema secretTree, names map[string]bool) any {
	switch x := v.(type) {
	case object:
		return withoutSecrets(map[string]any(x), schema, names)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, mv := range x {
			sub, known := lookupFold(schema, k)
			if known && sub == nil || names[strings.ToLower(k)] {
				continue
			}
			out[k] = withoutSecrets(mv, sub, names)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutSecrets(e, schema, names)
		}
		return out
	default:
		return v
	}
}

// lookupFold finds name in t ignoring case.
func lookupFold(t secretTree, name string) (secretTree, bool) {
	if sub, ok := t[name]; ok {
		return sub, true
	}
	for k, sub := range t {
		if strings.EqualFold(k, name) {
			return sub, true
		}
	}
	return nil, false
}
