package machinelearning

import (
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// The linked access checks of workspaces and registries (engine.LinkedAccessor).
//
// Choice: Azure's exact linked actions for Azure ML are not published; armlet
// asks of the caller who links a resource the action that reveals what the
// link would reveal to them through Azure ML: a storage account's keys
// (Microsoft.Storage/storageAccounts/listKeys/action: a workspace's
// listKeys and its datastores' listSecrets hand them out), a container
// registry's credentials (.../registries/listCredentials/action, in a
// workspace's listKeys), a key vault's and Application Insights' read
// (the workspace shows their ids and instrumentation key), and for a
// project its hub's join action
// (Microsoft.MachineLearningServices/workspaces/hubs/join/action, as Azure
// AI Foundry documents). Contributor and Owner hold them all, so the
// common case of one team's resource group is unchanged.
var linkedActions = []struct{ member, action string }{
	{"storageAccount", typeStorageAccounts + "/listKeys/action"},
	{"containerRegistry", typeContainerRegistry + "/listCredentials/action"},
	{"keyVault", typeKeyVaults + "/read"},
	{"applicationInsights", typeAppInsights + "/read"},
	{"hubResourceId", TypeWorkspaces + "/hubs/join/action"},
}

// LinkedAccess returns the checks for the dependencies desired names that
// old did not (all of them on create).
func (s *workspaceStrategy) LinkedAccess(desired, old *engine.Resource) []engine.LinkedAccess {
	var out []engine.LinkedAccess
	for _, l := range linkedActions {
		id, ok := linkedID(desired.Properties[l.member])
		if !ok || old != nil && sameLink(old.Properties[l.member], id) {
			continue
		}
		out = append(out, engine.LinkedAccess{Scope: id, Action: l.action})
	}
	return out
}

// LinkedAccess returns the checks for the user-created storage accounts
// and container registries of desired's regions that old did not name.
func (s *registryStrategy) LinkedAccess(desired, old *engine.Resource) []engine.LinkedAccess {
	had := map[string]bool{}
	if old != nil {
		for _, l := range registryLinks(old) {
			had[l.Scope.Key()] = true
		}
	}
	var out []engine.LinkedAccess
	for _, l := range registryLinks(desired) {
		if !had[l.Scope.Key()] {
			out = append(out, l)
		}
	}
	return out
}

// registryLinks are the user-created accounts r's regionDetails name, with
// the action each needs.
func registryLinks(r *engine.Resource) []engine.LinkedAccess {
	var out []engine.LinkedAccess
	regions, _ := r.Properties["regionDetails"].([]any)
	for _, region := range regions {
		rm, _ := region.(map[string]any)
		for _, list := range []struct{ key, user, action string }{
			{"acrDetails", "userCreatedAcrAccount", typeContainerRegistry + "/listCredentials/action"},
			{"storageAccountDetails", "userCreatedStorageAccount", typeStorageAccounts + "/listKeys/action"},
		} {
			items, _ := rm[list.key].([]any)
			for _, item := range items {
				im, _ := item.(map[string]any)
				user, _ := im[list.user].(map[string]any)
				arm, _ := user["armResourceId"].(map[string]any)
				if id, ok := linkedID(arm["resourceId"]); ok {
					out = append(out, engine.LinkedAccess{Scope: id, Action: list.action})
				}
			}
		}
	}
	return out
}

// linkedID is the resource a link member names, if it names one (an
// unparsable value is the strategy's Validate to refuse).
func linkedID(v any) (resourceid.ID, bool) {
	s, _ := v.(string)
	if strings.TrimSpace(s) == "" {
		return resourceid.ID{}, false
	}
	id, err := resourceid.Parse(s)
	return id, err == nil && !id.IsRoot()
}

// sameLink reports whether the stored link v names id.
func sameLink(v any, id resourceid.ID) bool {
	was, ok := linkedID(v)
	return ok && was.Key() == id.Key()
}
