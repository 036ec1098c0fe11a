package machinelearning

import (
	"strings"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// GET /providers/Microsoft.MachineLearningServices/operations
// (OperationListResult), at every api-version of the namespace (the engine
// checks it against the namespace's types): the operations of every type
// armlet serves for the namespace, read, write and delete of each
// registered type, its POST actions (typeActions) and the location-based
// and namespace operations (namespaceOperations), in the example's shape
// (Workspace/operationsList.json): name, display {provider, resource,
// operation, description}, plus isDataAction and origin.
//
// Choice: the display texts are armlet's, modelled on the example's
// ("Create/Update Machine Learning workspaces", "Delete Machine Learning
// workspaces"): "Read …", "Create/Update …", "Delete …" and "{action} on
// Machine Learning {resource}"; display.resource is the type below the
// namespace ("workspaces/computes"); origin is "user,system". Azure's own
// texts differ per type.

// operationsProvider is display.provider, as the example gives it.
const operationsProvider = "Microsoft MachineLearningServices"

// typeActions are the POST actions armlet serves, by type below the
// namespace, with the casing of the REST paths. A test checks that every
// type listed is registered and that every registered type whose strategy
// answers actions is listed (with none if it answers none).
var typeActions = map[string][]string{
	"workspaces": {"listKeys", "listNotebookKeys", "listStorageAccountKeys", "resyncKeys", "diagnose",
		"prepareNotebook", "listNotebookAccessToken", "provisionManagedNetwork"},
	"workspaces/computes":                      {"start", "stop", "restart", "listKeys", "listNodes"},
	"workspaces/datastores":                    {"listSecrets"},
	"workspaces/connections":                   {"listsecrets"},
	"workspaces/codes/versions":                {"startPendingUpload", "publish"},
	"workspaces/components/versions":           {"publish"},
	"workspaces/data/versions":                 {"publish"},
	"workspaces/environments/versions":         {"publish"},
	"workspaces/models/versions":               {"publish"},
	"workspaces/featuresets/versions":          {"backfill", "listMaterializationJobs"},
	"workspaces/featurestoreEntities/versions": nil,
	"registries":                               {"removeRegions"},
	"registries/codes/versions":                {"startPendingUpload"},
	"registries/components/versions":           nil,
	"registries/data/versions":                 {"startPendingUpload"},
	"registries/environments/versions":         nil,
	"registries/models/versions":               {"startPendingUpload"},
	"workspaces/jobs":                          {"cancel"},
	"workspaces/onlineEndpoints":               {"listKeys", "regenerateKeys", "token"},
	"workspaces/onlineEndpoints/deployments":   {"getLogs"},
	"workspaces/batchEndpoints":                {"listkeys"},
	"workspaces/serverlessEndpoints":           {"listKeys", "regenerateKeys"},
}

// namespaceOperations are the operations that belong to no stored type:
// the location-based ones (quotas.go, vmsizes.go, the engine's operation
// statuses) and the namespace's registration.
var namespaceOperations = []struct{ name, resource, text string }{
	{"register/action", "register", "Registers the subscription for the Machine Learning Services resource provider"},
	{"locations/usages/read", "locations/usages", "Read the usages of Machine Learning computes in a location"},
	{"locations/quotas/read", "locations/quotas", "Read the Machine Learning workspace quotas in a location"},
	{"locations/updateQuotas/action", "locations/updateQuotas", "Update the Machine Learning workspace quotas in a location"},
	{"locations/vmSizes/read", "locations/vmSizes", "Read the VM sizes Machine Learning computes offer in a location"},
	{"locations/operationStatuses/read", "locations/operationStatuses", "Read the status of a Machine Learning operation"},
}

func operationEntry(name, resource, text string) map[string]any {
	return map[string]any{
		"name":         Namespace + "/" + name,
		"isDataAction": false,
		"origin":       "user,system",
		"display": map[string]any{
			"provider": operationsProvider, "resource": resource, "operation": text, "description": text,
		},
	}
}

// listOperations builds the namespace's operations from the registry
// (engine.OperationsFunc).
func listOperations(reg *engine.Registry) func(*engine.Request) []any {
	return func(*engine.Request) []any {
		var out []any
		for _, t := range reg.TypesIn(Namespace) {
			res := strings.TrimPrefix(t.Name, Namespace+"/")
			noun := "Machine Learning " + strings.ReplaceAll(res, "/", " ")
			out = append(out,
				operationEntry(res+"/read", res, "Read "+noun),
				operationEntry(res+"/write", res, "Create/Update "+noun),
				operationEntry(res+"/delete", res, "Delete "+noun))
			for _, a := range typeActions[res] {
				out = append(out, operationEntry(res+"/"+a+"/action", res, a+" on "+noun))
			}
		}
		for _, op := range namespaceOperations {
			out = append(out, operationEntry(op.name, op.resource, op.text))
		}
		return out
	}
}

// registerProviderScope adds what belongs to the namespace as a whole:
// serverless endpoints and marketplace subscriptions, the location-based
// operations, the regions (Locations) and the operations list.
func registerProviderScope(e *engine.Engine, opts Options) {
	registerServerless(e, opts)
	registerMarketplace(e, opts)
	quotas := &locationRoute{e: e, kv: e.Space(kv.SpaceMLQuotas)}
	e.AddRoute(quotas)
	e.OnDelete(quotas.workspaceDeleted)
	e.Registry().SetLocations(Namespace, Locations)
	e.Registry().SetOperations(Namespace, listOperations(e.Registry()))
}
