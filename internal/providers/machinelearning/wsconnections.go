package machinelearning

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// TypeWorkspaceConnections is the v2 workspace connection type
// (docs/azure-ml-arm.md 2.3).
const TypeWorkspaceConnections = TypeWorkspaces + "/connections"

// wsConnectionNamePattern is SpecWS's connectionName rule
// (docs/azure-ml-arm.md 2).
var wsConnectionNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`)

const wsConnectionNameRule = "The name must be 3 to 33 characters long, start with a letter or digit and contain only letters, digits, '-' and '_'."

// dataConnectionCredentials is the Internal.Data key of a connection's
// credentials.
const dataConnectionCredentials = "credentials"

// connectionCategories are the ConnectionCategory values of 2024-04-01.
var connectionCategories = []string{
	"ADLSGen2", "AIServices", "ApiKey", "AmazonMws", "AmazonRdsForOracle", "AmazonRdsForSqlServer", "AmazonRedshift",
	"AmazonS3Compatible", "AzureBlob", "AzureDataExplorer", "AzureDatabricksDeltaLake", "AzureMariaDb", "AzureMySqlDb",
	"AzureOneLake", "AzureOpenAI", "AzurePostgresDb", "AzureSqlDb", "AzureSqlMi", "AzureSynapseAnalytics",
	"AzureTableStorage", "BingLLMSearch", "Cassandra", "CognitiveSearch", "CognitiveService", "Concur",
	"ContainerRegistry", "CosmosDb", "CosmosDbMongoDbApi", "Couchbase", "CustomKeys", "Db2", "Drill", "Dynamics",
	"DynamicsAx", "DynamicsCrm", "Eloqua", "FileServer", "FtpServer", "GenericContainerRegistry", "GenericHttp",
	"GenericRest", "Git", "GoogleAdWords", "GoogleBigQuery", "GoogleCloudStorage", "Greenplum", "Hbase", "Hdfs", "Hive",
	"Hubspot", "Impala", "Informix", "Jira", "Magento", "MariaDb", "Marketo", "MicrosoftAccess", "MongoDbAtlas",
	"MongoDbV2", "MySql", "Netezza", "ODataRest", "Odbc", "Office365", "OpenAI", "Oracle", "OracleCloudStorage",
	"OracleServiceCloud", "PayPal", "Phoenix", "PostgreSql", "Presto", "PythonFeed", "QuickBooks", "Redis", "Responsys",
	"S3", "Salesforce", "SalesforceMarketingCloud", "SalesforceServiceCloud", "SapBw", "SapCloudForCustomer", "SapEcc",
	"SapHana", "SapOpenHub", "SapTable", "Serp", "Serverless", "ServiceNow", "Sftp", "SharePointOnlineList", "Shopify",
	"Snowflake", "Spark", "SqlServer", "Square", "Sybase", "Teradata", "Vertica", "WebTable", "Xero", "Zoho",
}

// wsConnectionProperties is the WorkspaceConnectionPropertiesV2 union on
// authType, with each auth type's credentials object.
var wsConnectionProperties = func() *field {
	common := map[string]*field{
		"category":                str(),
		"expiryTime":              str(),
		"isSharedToAll":           boolean(),
		"metadata":                mapOf(str()),
		"sharedUserList":          arrayOf(str()),
		"target":                  str(),
		"value":                   str(),
		"valueFormat":             enum("ValueFormat", "JSON"),
		"createdByWorkspaceArmId": str().ro(),
		"group":                   str().ro(),
		"provisioningState":       str().ro(),
		// Members of later api-versions, kept as sent.
		"error":                       str().from("2024-10-01"),
		"peRequirement":               str().from("2024-10-01"),
		"peStatus":                    str().from("2024-10-01"),
		"useWorkspaceManagedIdentity": boolean().from("2024-10-01"),
	}
	v := func(authType, typeName string, cred *field) *field {
		f := make(map[string]*field, len(common)+1)
		for k, m := range common {
			f[k] = m
		}
		if cred != nil {
			f["credentials"] = cred
		}
		return variant(typeName, "authType", "ConnectionAuthType", authType, f)
	}
	creds := func(typeName string, members ...string) *field {
		f := map[string]*field{}
		for _, m := range members {
			f[m] = str()
		}
		return object(typeName, f)
	}
	return union("authType", "ConnectionAuthType", map[string]*field{
		"AAD":        v("AAD", "AADAuthTypeWorkspaceConnectionProperties", nil),
		"AccessKey":  v("AccessKey", "AccessKeyAuthTypeWorkspaceConnectionProperties", creds("WorkspaceConnectionAccessKey", "accessKeyId", "secretAccessKey")),
		"AccountKey": v("AccountKey", "AccountKeyAuthTypeWorkspaceConnectionProperties", creds("WorkspaceConnectionAccountKey", "key")),
		"ApiKey":     v("ApiKey", "ApiKeyAuthWorkspaceConnectionProperties", creds("WorkspaceConnectionApiKey", "key")),
		"CustomKeys": v("CustomKeys", "CustomKeysWorkspaceConnectionProperties",
			object("CustomKeys", map[string]*field{"keys": mapOf(str())})),
		"ManagedIdentity": v("ManagedIdentity", "ManagedIdentityAuthTypeWorkspaceConnectionProperties",
			creds("WorkspaceConnectionManagedIdentity", "clientId", "resourceId")),
		"None": v("None", "NoneAuthTypeWorkspaceConnectionProperties", nil),
		"OAuth2": v("OAuth2", "OAuth2AuthTypeWorkspaceConnectionProperties", creds("WorkspaceConnectionOAuth2",
			"authUrl", "clientId", "clientSecret", "developerToken", "password", "refreshToken", "tenantId", "username")),
		"PAT": v("PAT", "PATAuthTypeWorkspaceConnectionProperties", creds("WorkspaceConnectionPersonalAccessToken", "pat")),
		"SAS": v("SAS", "SASAuthTypeWorkspaceConnectionProperties", creds("WorkspaceConnectionSharedAccessSignature", "sas")),
		"ServicePrincipal": v("ServicePrincipal", "ServicePrincipalAuthTypeWorkspaceConnectionProperties",
			creds("WorkspaceConnectionServicePrincipal", "clientId", "clientSecret", "tenantId")),
		"UsernamePassword": v("UsernamePassword", "UsernamePasswordAuthTypeWorkspaceConnectionProperties",
			creds("WorkspaceConnectionUsernamePassword", "username", "password", "securityToken")),
	})
}()

// wsConnectionStrategy serves Microsoft.MachineLearningServices/
// workspaces/connections: PUT answers 200 for create and update (the spec
// declares no 201), DELETE 200/204, with the POST action listsecrets.
//
// The credentials are stored apart from the properties and never
// rendered: GET, the PUT response and lists show the connection without
// "credentials"; POST listsecrets (any casing) returns the whole resource
// with them.
//
// Choice: properties follow the 2024-04-01 shape strictly at every
// api-version; error, peRequirement, peStatus and
// useWorkspaceManagedIdentity (later versions) are accepted from
// 2024-10-01 as plain values. category is a free string (the enum is
// extensible and grows with every version); a known category is stored in
// its canonical casing. expiryTime must be an RFC 3339 date-time.
// createdByWorkspaceArmId is the parent workspace's ID.
//
// Choice: a PATCH that keeps the auth type and sends no credentials keeps
// the stored ones; a PUT replaces them (none sent, none kept).
//
// Choice: the list's target and category filters match whole values,
// ignoring case.
type wsConnectionStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy     = (*wsConnectionStrategy)(nil)
	_ engine.Renderer     = (*wsConnectionStrategy)(nil)
	_ engine.Actioner     = (*wsConnectionStrategy)(nil)
	_ engine.ListFilterer = (*wsConnectionStrategy)(nil)
	_ engine.Exporter     = (*wsConnectionStrategy)(nil)
)

func registerWorkspaceConnections(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name:          TypeWorkspaceConnections,
		APIVersions:   apiVersionsOf(TypeWorkspaceConnections, V2APIVersions),
		NamePattern:   wsConnectionNamePattern,
		NameRule:      wsConnectionNameRule,
		Put:           engine.Sync,
		Delete:        engine.Sync,
		CreatedStatus: http.StatusOK,
		Strategy:      &wsConnectionStrategy{e: e, shapes: newShapes(TypeWorkspaceConnections, wsConnectionProperties)},
	})
}

// Validate checks the union, moves the credentials into the strategy's
// private data and normalises category.
func (s *wsConnectionStrategy) Validate(_ context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if req.Method == http.MethodPatch && old != nil {
		keepConnectionCredentials(desired, old)
	}
	if err := checkProperties(req, desired, old, s.shapes, "WorkspaceConnectionPropertiesV2"); err != nil {
		return err
	}
	p := desired.Properties
	if exp, ok := p["expiryTime"].(string); ok {
		if _, err := time.Parse(time.RFC3339, exp); err != nil {
			return arm.InvalidContent("properties.expiryTime",
				"The value '%s' of 'properties.expiryTime' is not a valid date-time; expected RFC 3339, such as '2030-01-01T00:00:00Z'.", exp)
		}
	}
	if c, ok := p["category"].(string); ok {
		for _, known := range connectionCategories {
			if strings.EqualFold(known, c) {
				p["category"] = known
			}
		}
	}
	if cred, ok := p["credentials"]; ok {
		desired.SetData(dataConnectionCredentials, cred)
		delete(p, "credentials")
	} else {
		delete(desired.Internal.Data, dataConnectionCredentials)
	}
	return nil
}

// keepConnectionCredentials puts old's stored credentials back into a
// PATCH that keeps the auth type and sends no credentials.
func keepConnectionCredentials(desired, old *engine.Resource) {
	var cred any
	if _, sent := desired.Properties["credentials"]; sent || !old.GetData(dataConnectionCredentials, &cred) {
		return
	}
	if strings.EqualFold(fmt.Sprint(desired.Properties["authType"]), fmt.Sprint(old.Properties["authType"])) {
		desired.Properties["credentials"] = cred
	}
}

// ExportBody puts the stored credentials back, where a PUT gives them.
func (s *wsConnectionStrategy) ExportBody(r *engine.Resource, body map[string]any) {
	var cred any
	if props, _ := body["properties"].(map[string]any); props != nil && r.GetData(dataConnectionCredentials, &cred) {
		props["credentials"] = cred
	}
}

// Render adds createdByWorkspaceArmId.
func (s *wsConnectionStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	defer s.shapes.render(body, apiVersion)
	if props, ok := body["properties"].(map[string]any); ok {
		props["createdByWorkspaceArmId"] = r.ID.Parent().String()
	}
	return nil
}

// Action answers POST listsecrets: the connection with its credentials.
func (s *wsConnectionStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if !strings.EqualFold(name, "listsecrets") {
		return nil, engine.UnknownAction(TypeWorkspaceConnections, name)
	}
	body, err := s.e.Render(ctx, req, r)
	if err != nil {
		return nil, err
	}
	var cred map[string]any
	if r.GetData(dataConnectionCredentials, &cred) {
		if props, ok := body["properties"].(map[string]any); ok {
			props["credentials"] = cred
		}
	}
	return engine.JSON(http.StatusOK, body), nil
}

// ListFilter applies the list's target and category.
func (s *wsConnectionStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	var keeps []func(*engine.Resource) bool
	for _, q := range []string{"target", "category"} {
		if want := req.QueryValue(q); want != "" {
			keeps = append(keeps, func(r *engine.Resource) bool {
				got, _ := r.Properties[q].(string)
				return strings.EqualFold(got, want)
			})
		}
	}
	return allOf(keeps), nil
}
