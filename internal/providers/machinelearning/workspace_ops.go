package machinelearning

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// Workspace-level operations besides keys: diagnose, the notebook
// actions, the outbound network dependencies and the features list
// (docs/azure-ml-arm.md section 2.1). actions.go dispatches to them.

// diagnoseRequest is DiagnoseRequestProperties, the "value" of
// DiagnoseWorkspaceParameters: the categories to diagnose, each with
// free-form settings.
var diagnoseRequest = object("DiagnoseRequestProperties", map[string]*field{
	"udr":                       mapOf(anyJSON()),
	"nsg":                       mapOf(anyJSON()),
	"resourceLock":              mapOf(anyJSON()),
	"dnsResolution":             mapOf(anyJSON()),
	"storageAccount":            mapOf(anyJSON()),
	"keyVault":                  mapOf(anyJSON()),
	"containerRegistry":         mapOf(anyJSON()),
	"applicationInsights":       mapOf(anyJSON()),
	"others":                    mapOf(anyJSON()),
	"requiredResourceProviders": mapOf(anyJSON()),
}).opened()

// diagnoseCategories are the result lists of DiagnoseResponseResultValue.
var diagnoseCategories = []string{
	"userDefinedRouteResults", "networkSecurityRuleResults", "resourceLockResults", "dnsResolutionResults",
	"storageAccountResults", "keyVaultResults", "containerRegistryResults", "applicationInsightsResults", "otherResults",
}

// diagnose answers POST {workspace}/diagnose: 202 with Location; the
// operation's result is DiagnoseResponseResult.
//
// Choice: armlet has no network to inspect. Every category is present
// (an empty list when nothing is found), whatever categories the request
// names; findings come from the workspace's own configuration: an
// Information result when it has no container registry or no Application
// Insights, and a Warning when public network access is Disabled and it
// has no private endpoint connection.
func (s *workspaceStrategy) diagnose(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	if len(strings.TrimSpace(string(req.Body))) > 0 {
		v, err := decode(req.Body)
		if err != nil {
			return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: %v.", err)
		}
		if err := checkDiagnoseParameters(v); err != nil {
			return nil, err
		}
	}
	results := make(map[string]any, len(diagnoseCategories))
	for _, c := range diagnoseCategories {
		results[c] = []any{}
	}
	add := func(category, code, level, message string) {
		results[category] = append(results[category].([]any), map[string]any{"code": code, "level": level, "message": message})
	}
	if cr, _ := r.Properties["containerRegistry"].(string); cr == "" {
		add("containerRegistryResults", "ContainerRegistryNotConfigured", "Information",
			"The workspace has no container registry; one is created the first time an environment image is built.")
	}
	if ai, _ := r.Properties["applicationInsights"].(string); ai == "" {
		add("applicationInsightsResults", "ApplicationInsightsNotConfigured", "Information",
			"The workspace has no Application Insights component; run metrics of deployments are not collected.")
	}
	if pna, _ := r.Properties["publicNetworkAccess"].(string); pna == "Disabled" {
		conns, err := s.e.List(ctx, r.ID, "privateEndpointConnections")
		if err != nil {
			return nil, err
		}
		if len(conns) == 0 {
			add("otherResults", "NoPrivateEndpoint", "Warning",
				"Public network access to the workspace is disabled and it has no private endpoint connection, so clients cannot reach it.")
		}
	}
	return s.e.NewActionOperation(ctx, req, r, map[string]any{"value": results}, req.Now.Add(s.e.OperationDuration()))
}

// checkDiagnoseParameters checks a DiagnoseWorkspaceParameters body.
func checkDiagnoseParameters(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return conversion("", v, "DiagnoseWorkspaceParameters")
	}
	for k, mv := range m {
		if !strings.EqualFold(k, "value") {
			return arm.InvalidContent(k, "Could not find member '%s' on object of type 'DiagnoseWorkspaceParameters'. Path '%s'.", k, k)
		}
		if _, err := diagnoseRequest.check("value", mv); err != nil {
			return err
		}
	}
	return nil
}

// notebookResource is the workspace's notebook resource: its id and FQDN.
//
// Choice: the notebook resource id is the workspace id without dashes;
// the FQDN is ml-{name}-{location}-{workspaceId}.{location}.notebooks.azure.net
// (name lower-cased).
func notebookResource(r *engine.Resource) (id, fqdn string) {
	wsID, _ := r.Properties["workspaceId"].(string)
	id = strings.ReplaceAll(wsID, "-", "")
	fqdn = "ml-" + strings.ToLower(r.ID.Name()) + "-" + r.Location + "-" + wsID + "." + r.Location + ".notebooks.azure.net"
	return id, fqdn
}

// prepareNotebook answers POST {workspace}/prepareNotebook: 202 with
// Location; the result is NotebookResourceInfo, whose
// notebookPreparationError is null (the preparation never fails here).
func (s *workspaceStrategy) prepareNotebook(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	id, fqdn := notebookResource(r)
	return s.e.NewActionOperation(ctx, req, r, map[string]any{"fqdn": fqdn, "resourceId": id, "notebookPreparationError": nil}, req.Now.Add(s.e.OperationDuration()))
}

// notebookAccessToken answers POST {workspace}/listNotebookAccessToken
// (NotebookAccessTokenResult).
//
// Choice: the tokens are opaque random strings, new on every call, valid
// for an hour (expiresIn 3600); publicDns is {location}.notebooks.azure.net;
// the notebook need not have been prepared first.
func notebookAccessToken(r *engine.Resource) *engine.Response {
	id, fqdn := notebookResource(r)
	return engine.JSON(http.StatusOK, map[string]any{
		"notebookResourceId": id,
		"hostName":           fqdn,
		"publicDns":          r.Location + ".notebooks.azure.net",
		"accessToken":        opaqueToken(),
		"refreshToken":       opaqueToken(),
		"tokenType":          "Bearer",
		"expiresIn":          3600,
		"scope":              "aznb_identity",
	})
}

func opaqueToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// outboundDependencies answers GET
// {workspace}/outboundNetworkDependenciesEndpoints, not paged
// (ExternalFQDNResponse).
//
// Choice: the list is the documented outbound dependencies of a workspace
// and its computes, with the workspace's region where the FQDN has one.
func outboundDependencies(r *engine.Resource) *engine.Response {
	ep := func(domain string, ports ...int) map[string]any {
		details := make([]any, len(ports))
		for i, p := range ports {
			details[i] = map[string]any{"port": p}
		}
		return map[string]any{"domainName": domain, "endpointDetails": details}
	}
	cat := func(name string, endpoints ...map[string]any) map[string]any {
		list := make([]any, len(endpoints))
		for i, e := range endpoints {
			list[i] = e
		}
		return map[string]any{"properties": map[string]any{"category": name, "endpoints": list}}
	}
	loc := r.Location
	return engine.JSON(http.StatusOK, map[string]any{"value": []any{
		cat("Azure Active Directory", ep("login.microsoftonline.com", 443)),
		cat("Azure portal", ep("management.azure.com", 443)),
		cat("Azure Machine Learning",
			ep(loc+".api.azureml.ms", 443), ep("ml.azure.com", 443), ep("*.instances.azureml.ms", 443, 44224),
			ep("*."+loc+".notebooks.azure.net", 443), ep("*.inference.ml.azure.com", 443)),
		cat("Azure Storage",
			ep("*.blob.core.windows.net", 443), ep("*.file.core.windows.net", 443, 445),
			ep("*.queue.core.windows.net", 443), ep("*.table.core.windows.net", 443)),
		cat("Azure Key Vault", ep("*.vault.azure.net", 443)),
		cat("Azure Container Registry", ep("*.azurecr.io", 443), ep("mcr.microsoft.com", 443), ep("*.data.mcr.microsoft.com", 443)),
		cat("Azure Monitor", ep("dc.applicationinsights.azure.com", 443), ep("dc.applicationinsights.microsoft.com", 443), ep("dc.services.visualstudio.com", 443)),
		cat("Azure Batch", ep("*.batch.azure.com", 443), ep("*."+loc+".batch.azure.com", 443)),
		cat("Python and Conda packages", ep("pypi.org", 443), ep("files.pythonhosted.org", 443), ep("repo.anaconda.com", 443), ep("conda.anaconda.org", 443)),
	}})
}

// workspaceFeatures is the fixed feature list of GET {workspace}/features
// (ListAmlUserFeatureResult, one page).
//
// Choice: every workspace has the same features, those of a current
// Basic-sku workspace.
var workspaceFeatures = []struct{ id, displayName, description string }{
	{"automatedml_createeditexperimentsui", "Create edit experiments UI", "Create, edit or delete AutoML experiments in the SDK"},
	{"designer_createeditpipelinesui", "Create edit pipelines UI", "Create, edit or delete pipelines in the designer"},
	{"notebooks_createeditnotebooksui", "Create edit notebooks UI", "Create, edit or run notebooks in the studio"},
	{"datalabeling_createeditprojectsui", "Create edit labeling projects UI", "Create, edit or delete data labeling projects in the studio"},
	{"workspace_upgradeworkspaceui", "Upgrade workspace UI", "Upgrade workspace from Basic to enterprise from the UI"},
}

func featuresList() *engine.Response {
	out := make([]any, len(workspaceFeatures))
	for i, f := range workspaceFeatures {
		out[i] = map[string]any{"id": f.id, "displayName": f.displayName, "description": f.description}
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out})
}
