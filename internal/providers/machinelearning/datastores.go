package machinelearning

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// TypeDatastores is the v2 datastore type (docs/azure-ml-arm.md 2.5).
const TypeDatastores = TypeWorkspaces + "/datastores"

// defaultDatastoreName is the name of the datastore Azure ML makes the
// workspace default.
const defaultDatastoreName = "workspaceblobstore"

// dataDatastoreSecrets is the Internal.Data key of a datastore's secrets.
const dataDatastoreSecrets = "secrets"

// variant returns an object schema for one member of a union: fields plus
// the discriminator disc, whose only allowed value is value.
func variant(typeName, disc, discType, value string, fields map[string]*field, required ...string) *field {
	f := make(map[string]*field, len(fields)+1)
	for k, v := range fields {
		f[k] = v
	}
	f[disc] = enum(discType, value)
	return object(typeName, f, append([]string{disc}, required...)...)
}

// datastoreSecrets returns the schema of one credentials variant's
// secrets: a DatastoreSecrets union whose only variant is secretsType.
func datastoreSecrets(secretsType, typeName, member string) *field {
	return union("secretsType", "SecretsType", map[string]*field{
		secretsType: variant(typeName, "secretsType", "SecretsType", secretsType, map[string]*field{member: str()}),
	})
}

// datastoreCredentials is the DatastoreCredentials union on
// credentialsType.
var datastoreCredentials = func() *field {
	cred := func(typeName, value string, fields map[string]*field, required ...string) *field {
		return variant(typeName, "credentialsType", "CredentialsType", value, fields, required...)
	}
	return union("credentialsType", "CredentialsType", map[string]*field{
		"AccountKey": cred("AccountKeyDatastoreCredentials", "AccountKey", map[string]*field{
			"secrets": datastoreSecrets("AccountKey", "AccountKeyDatastoreSecrets", "key"),
		}, "secrets"),
		"Certificate": cred("CertificateDatastoreCredentials", "Certificate", map[string]*field{
			"authorityUrl": str(), "resourceUrl": str(), "clientId": str(), "tenantId": str(), "thumbprint": str(),
			"secrets": datastoreSecrets("Certificate", "CertificateDatastoreSecrets", "certificate"),
		}, "clientId", "tenantId", "thumbprint", "secrets"),
		"None": cred("NoneDatastoreCredentials", "None", nil),
		"Sas": cred("SasDatastoreCredentials", "Sas", map[string]*field{
			"secrets": datastoreSecrets("Sas", "SasDatastoreSecrets", "sasToken"),
		}, "secrets"),
		"ServicePrincipal": cred("ServicePrincipalDatastoreCredentials", "ServicePrincipal", map[string]*field{
			"authorityUrl": str(), "resourceUrl": str(), "clientId": str(), "tenantId": str(),
			"secrets": datastoreSecrets("ServicePrincipal", "ServicePrincipalDatastoreSecrets", "clientSecret"),
		}, "clientId", "tenantId", "secrets"),
	})
}()

// datastoreProperties is the Datastore union on datastoreType.
var datastoreProperties = func() *field {
	common := func(extra map[string]*field) map[string]*field {
		f := map[string]*field{
			"credentials":                   datastoreCredentials,
			"description":                   str(),
			"properties":                    mapOf(str()),
			"tags":                          mapOf(str()),
			"isDefault":                     boolean().ro(),
			"provisioningState":             str().ro(),
			"serviceDataAccessAuthIdentity": enum("ServiceDataAccessAuthIdentity", "None", "WorkspaceSystemAssignedIdentity", "WorkspaceUserAssignedIdentity"),
		}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	storage := func(extra map[string]*field) map[string]*field {
		f := common(map[string]*field{"endpoint": str(), "protocol": str(), "resourceGroup": str(), "subscriptionId": str()})
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	ds := func(typeName, value string, fields map[string]*field, required ...string) *field {
		return variant(typeName, "datastoreType", "DatastoreType", value, fields, append([]string{"credentials"}, required...)...)
	}
	return union("datastoreType", "DatastoreType", map[string]*field{
		"AzureBlob": ds("AzureBlobDatastore", "AzureBlob",
			storage(map[string]*field{"accountName": str(), "containerName": str()}), "accountName", "containerName"),
		"AzureDataLakeGen1": ds("AzureDataLakeGen1Datastore", "AzureDataLakeGen1",
			common(map[string]*field{"storeName": str(), "resourceGroup": str(), "subscriptionId": str()}), "storeName"),
		"AzureDataLakeGen2": ds("AzureDataLakeGen2Datastore", "AzureDataLakeGen2",
			storage(map[string]*field{"accountName": str(), "filesystem": str()}), "accountName", "filesystem"),
		"AzureFile": ds("AzureFileDatastore", "AzureFile",
			storage(map[string]*field{"accountName": str(), "fileShareName": str()}), "accountName", "fileShareName"),
		"OneLake": ds("OneLakeDatastore", "OneLake", common(map[string]*field{
			"endpoint":             str(),
			"oneLakeWorkspaceName": str(),
			"artifact": union("artifactType", "OneLakeArtifactType", map[string]*field{
				"LakeHouse": variant("LakeHouseArtifact", "artifactType", "OneLakeArtifactType", "LakeHouse",
					map[string]*field{"artifactName": str()}, "artifactName"),
			}),
		}), "oneLakeWorkspaceName", "artifact"),
	})
}()

// datastoreStrategy serves Microsoft.MachineLearningServices/workspaces/
// datastores, synchronous (PUT 200/201, DELETE 200/204), with the POST
// action listSecrets.
//
// The credentials' secrets are stored apart from the properties and never
// rendered: GET, PUT responses and lists show them reduced to their
// secretsType ("secrets":{"secretsType":"AccountKey"}), as Azure's examples
// do; POST listSecrets returns the secrets object (the DatastoreSecrets
// union, with secretsType).
//
// Choice: a PUT must carry the secrets its credentials type requires
// (the spec marks them required), also on update; but on update, secrets
// reduced to their secretsType (what a GET shows, so a GET-modify-PUT
// sends it back) keep the stored ones when the credentials type is the
// same, and so does a PATCH that sends no secrets.
//
// A datastore shows no provisioningState: the REST spec's Datastore has
// none (nor do its examples, nor go-azure-sdk's models of 2024-04-01 to
// 2025-09-01), so responses leave out the one the engine adds. A PUT that
// sends one (a body an earlier armlet showed) has it accepted as read-only
// at the versions armlet has no model of.
//
// Choice: an AzureBlob datastore needs accountName and containerName
// (optional in the spec, but a blob datastore without them cannot be
// used, and Azure ML refuses it).
//
// Azure's default datastores are made with their workspace
// (defaultdatastores.go); properties.isDefault is true for the datastore
// named "workspaceblobstore" (Azure's default datastore) and false
// otherwise.
// Defaults Azure fills in are stored when absent: endpoint
// "core.windows.net" and protocol "https" for the storage types,
// "onelake.dfs.fabric.microsoft.com" for OneLake, and
// serviceDataAccessAuthIdentity "None".
//
// Choice: listSecrets on a datastore with credentialsType None is refused
// with 400 UserError (it has no secrets). The list honours isDefault,
// names (comma-separated) and searchText (a case-insensitive substring of
// the name); count, orderBy and orderByAsc are accepted and ignored (the
// list is in name order, in pages of 100 with nextLink). The query
// parameter skipValidation of PUT is accepted; armlet never validates the
// storage behind a datastore.
type datastoreStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy     = (*datastoreStrategy)(nil)
	_ engine.Renderer     = (*datastoreStrategy)(nil)
	_ engine.Actioner     = (*datastoreStrategy)(nil)
	_ engine.ListFilterer = (*datastoreStrategy)(nil)
	_ engine.Exporter     = (*datastoreStrategy)(nil)
)

func registerDatastores(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeDatastores,
		APIVersions: apiVersionsOf(TypeDatastores, V2APIVersions),
		NamePattern: v2NamePattern,
		NameRule:    v2NameRule,
		Put:         engine.Sync,
		Delete:      engine.Sync,
		Strategy:    &datastoreStrategy{e: e, shapes: newShapes(TypeDatastores, datastoreProperties)},
	})
}

// Validate checks the Datastore union, takes the secrets out of the
// properties into the strategy's private data, and fills in defaults.
func (s *datastoreStrategy) Validate(_ context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if old != nil {
		keepDatastoreSecrets(desired, old, req.Method == http.MethodPatch)
	}
	if err := checkProperties(req, desired, old, s.shapes, "Datastore"); err != nil {
		return err
	}
	p := desired.Properties
	cred, _ := p["credentials"].(map[string]any)
	if secrets, ok := cred["secrets"]; ok {
		desired.SetData(dataDatastoreSecrets, secrets)
		delete(cred, "secrets")
	} else {
		delete(desired.Internal.Data, dataDatastoreSecrets)
	}
	if _, ok := p["serviceDataAccessAuthIdentity"]; !ok {
		p["serviceDataAccessAuthIdentity"] = "None"
	}
	switch p["datastoreType"] {
	case "AzureBlob", "AzureDataLakeGen2", "AzureFile":
		setDefault(p, "endpoint", "core.windows.net")
		setDefault(p, "protocol", "https")
	case "OneLake":
		setDefault(p, "endpoint", "onelake.dfs.fabric.microsoft.com")
	}
	return nil
}

// keepDatastoreSecrets puts old's stored secrets back into the
// credentials of an update that keeps the credentials type and sends them
// reduced to their secretsType, or, for a PATCH, sends none (the merged
// body comes from the stored resource, which has none).
func keepDatastoreSecrets(desired, old *engine.Resource, patch bool) {
	cred, _ := desired.Properties["credentials"].(map[string]any)
	oldCred, _ := old.Properties["credentials"].(map[string]any)
	var secrets map[string]any
	if cred == nil || !old.GetData(dataDatastoreSecrets, &secrets) {
		return
	}
	switch sent := cred["secrets"].(type) {
	case nil:
		if !patch {
			return
		}
	case map[string]any:
		if _, typed := sent["secretsType"]; !typed || len(sent) != 1 {
			return
		}
	default:
		return
	}
	if t, _ := cred["credentialsType"].(string); strings.EqualFold(t, fmt.Sprint(oldCred["credentialsType"])) {
		cred["secrets"] = secrets
	}
}

// ExportBody puts the stored secrets back into the credentials, where a
// PUT gives them.
func (s *datastoreStrategy) ExportBody(r *engine.Resource, body map[string]any) {
	var secrets map[string]any
	props, _ := body["properties"].(map[string]any)
	cred, _ := props["credentials"].(map[string]any)
	if cred != nil && r.GetData(dataDatastoreSecrets, &secrets) {
		cred["secrets"] = secrets
	}
}

// Render adds the read-only isDefault and the secrets' type.
func (s *datastoreStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	if props, ok := body["properties"].(map[string]any); ok {
		delete(props, "provisioningState")
		props["isDefault"] = isDefaultDatastore(r)
		var secrets map[string]any
		if cred, _ := props["credentials"].(map[string]any); cred != nil && r.GetData(dataDatastoreSecrets, &secrets) {
			cred["secrets"] = map[string]any{"secretsType": secrets["secretsType"]}
		}
	}
	s.shapes.render(body, apiVersion)
	return nil
}

func isDefaultDatastore(r *engine.Resource) bool {
	return strings.EqualFold(r.ID.Name(), defaultDatastoreName)
}

// Action answers POST listSecrets.
func (s *datastoreStrategy) Action(_ context.Context, _ *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if !strings.EqualFold(name, "listSecrets") {
		return nil, engine.UnknownAction(TypeDatastores, name)
	}
	var secrets map[string]any
	if !r.GetData(dataDatastoreSecrets, &secrets) {
		return nil, arm.BadRequest(arm.CodeUserError, "Datastore '%s' has credentials of type 'None' and no secrets to list.", r.ID.Name())
	}
	return engine.JSON(http.StatusOK, secrets), nil
}

// ListFilter applies the list's isDefault, names and searchText.
func (s *datastoreStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	var keeps []func(*engine.Resource) bool
	if v := req.QueryValue("isDefault"); v != "" {
		want, err := strconv.ParseBool(v)
		if err != nil {
			return nil, arm.BadRequest(arm.CodeUserError, "The value '%s' of query parameter 'isDefault' is invalid; it must be true or false.", v).WithTarget("isDefault")
		}
		keeps = append(keeps, func(r *engine.Resource) bool { return isDefaultDatastore(r) == want })
	}
	if v := req.QueryValue("names"); v != "" {
		names := map[string]bool{}
		for _, n := range strings.Split(v, ",") {
			names[strings.ToLower(strings.TrimSpace(n))] = true
		}
		keeps = append(keeps, func(r *engine.Resource) bool { return names[strings.ToLower(r.ID.Name())] })
	}
	if v := strings.ToLower(req.QueryValue("searchText")); v != "" {
		keeps = append(keeps, func(r *engine.Resource) bool { return strings.Contains(strings.ToLower(r.ID.Name()), v) })
	}
	return allOf(keeps), nil
}

// allOf keeps what every filter keeps; nil when there are none.
func allOf(keeps []func(*engine.Resource) bool) func(*engine.Resource) bool {
	if len(keeps) == 0 {
		return nil
	}
	return func(r *engine.Resource) bool {
		for _, k := range keeps {
			if !k(r) {
				return false
			}
		}
		return true
	}
}
