package machinelearning

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Action answers the workspace POST actions (names compare ignoring case):
//
//   - listKeys: 200 {userStorageKey, userStorageResourceId,
//     appInsightsInstrumentationKey, containerRegistryCredentials,
//     notebookAccessKeys}.
//   - listNotebookKeys: 200 {primaryAccessKey, secondaryAccessKey}.
//   - listStorageAccountKeys: 200 {userStorageKey}.
//   - resyncKeys: 202 with Location; polling it gives 202 until the
//     operation ends, then 200 with no body.
//   - diagnose: 202 with Location; the operation's result is
//     DiagnoseResponseResult (workspace_ops.go).
//   - prepareNotebook: 202 with Location; the result is
//     NotebookResourceInfo (workspace_ops.go).
//   - listNotebookAccessToken: 200 NotebookAccessTokenResult.
//   - provisionManagedNetwork: 202 with Location; the result is
//     ManagedNetworkProvisionStatus (managednetwork.go).
//
// Every other action is refused with engine.UnknownAction.
//
// Choice: listNotebookKeys and listStorageAccountKeys (cheap, same keys)
// are served too.
//
// The keys are those of the linked resources armlet holds (keys); for
// links to resources it does not hold (the documented choice), random
// keys made when the workspace is created and kept for its life stand in.
// resyncKeys changes nothing: listKeys reads the linked resources' keys
// on every call, which is what Azure's resync brings about.
// containerRegistryCredentials is present only when the workspace has a
// containerRegistry: username is the registry's name, location the
// workspace's.
func (s *workspaceStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	switch strings.ToLower(name) {
	case "listkeys":
		k, err := s.keys(ctx, r)
		if err != nil {
			return nil, err
		}
		body := map[string]any{
			"userStorageKey":                k.UserStorageKey,
			"appInsightsInstrumentationKey": k.AppInsightsKey,
			"notebookAccessKeys": map[string]any{
				"primaryAccessKey": k.NotebookPrimary, "secondaryAccessKey": k.NotebookSecondary,
			},
		}
		if sa, _ := r.Properties["storageAccount"].(string); sa != "" {
			body["userStorageResourceId"] = sa
		}
		if cr, _ := r.Properties["containerRegistry"].(string); cr != "" {
			username := cr
			if id, err := resourceid.Parse(cr); err == nil {
				username = id.Name()
			}
			body["containerRegistryCredentials"] = map[string]any{
				"location": r.Location,
				"username": username,
				"passwords": []any{
					map[string]any{"name": "password", "value": k.RegistryPassword},
					map[string]any{"name": "password2", "value": k.RegistryPassword2},
				},
			}
		}
		return engine.JSON(http.StatusOK, body), nil
	case "listnotebookkeys":
		k, err := s.keys(ctx, r)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, map[string]any{
			"primaryAccessKey": k.NotebookPrimary, "secondaryAccessKey": k.NotebookSecondary,
		}), nil
	case "liststorageaccountkeys":
		k, err := s.keys(ctx, r)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, map[string]any{"userStorageKey": k.UserStorageKey}), nil
	case "resynckeys":
		return s.e.NewActionOperation(ctx, req, r, nil, req.Now.Add(s.e.OperationDuration()))
	case "diagnose":
		return s.diagnose(ctx, req, r)
	case "preparenotebook":
		return s.prepareNotebook(ctx, req, r)
	case "listnotebookaccesstoken":
		return notebookAccessToken(r), nil
	case "provisionmanagednetwork":
		return s.provisionManagedNetwork(ctx, req, r)
	}
	return nil, engine.UnknownAction(TypeWorkspaces, name)
}

// keys returns the workspace's keys, making them for a workspace stored
// without (which only an older armlet would have written). Where armlet
// holds a linked resource, its key stands in for the workspace's own, as
// Azure reads them from the resources: the storage account's primary key
// (userStorageKey), the Application Insights component's instrumentation
// key, the container registry's admin passwords (while its admin user is
// enabled).
func (s *workspaceStrategy) keys(ctx context.Context, r *engine.Resource) (workspaceKeys, error) {
	var k workspaceKeys
	if !r.GetData(dataKeys, &k) {
		_, err := s.e.Update(ctx, r.ID, func(w *engine.Resource) error {
			if w.GetData(dataKeys, &k) {
				return engine.ErrNoChange
			}
			k = newWorkspaceKeys()
			w.SetData(dataKeys, k)
			return nil
		})
		if err != nil {
			return k, err
		}
	}
	for _, link := range []struct {
		member string
		into   []*string
	}{
		{"storageAccount", []*string{&k.UserStorageKey}},
		{"applicationInsights", []*string{&k.AppInsightsKey}},
		{"containerRegistry", []*string{&k.RegistryPassword, &k.RegistryPassword2}},
	} {
		keys, err := s.linkedKeys(ctx, r, link.member)
		if err != nil {
			return k, err
		}
		for i, key := range keys {
			if i < len(link.into) {
				*link.into[i] = key
			}
		}
	}
	return k, nil
}

// linkedKeys are the keys of the resource ws links in its property member
// when armlet holds that resource, none when it does not (the
// workspace's own random keys then stand in: the documented choice for
// links to resources armlet does not hold).
func (s *workspaceStrategy) linkedKeys(ctx context.Context, ws *engine.Resource, member string) ([]string, error) {
	link, _ := ws.Properties[member].(string)
	id, err := resourceid.Parse(link)
	if link == "" || err != nil {
		return nil, nil
	}
	keys, _, err := s.e.AccessKeys(ctx, id)
	return keys, err
}

// privateLinkGroupID is the only private link sub-resource of a workspace.
const privateLinkGroupID = "amlworkspace"

// ListChildren answers the read-only collections of a workspace:
// privateLinkResources (a fixed, single-page list),
// outboundNetworkDependenciesEndpoints (not paged) and features (one
// page); other collections fall through to the engine.
func (s *workspaceStrategy) ListChildren(ctx context.Context, req *engine.Request, r *engine.Resource, child string) (*engine.Response, bool, error) {
	switch {
	case strings.EqualFold(child, "connections"):
		return s.listProjectConnections(ctx, req, r)
	case strings.EqualFold(child, "outboundNetworkDependenciesEndpoints"):
		return outboundDependencies(r), true, nil
	case strings.EqualFold(child, "features"):
		return featuresList(), true, nil
	case !strings.EqualFold(child, "privateLinkResources"):
		return nil, false, nil
	}
	item := map[string]any{
		"id":   r.ID.String() + "/privateLinkResources/" + privateLinkGroupID,
		"name": privateLinkGroupID,
		"type": TypePrivateLinkResources,
		"properties": map[string]any{
			"groupId":           privateLinkGroupID,
			"requiredMembers":   []string{"default"},
			"requiredZoneNames": []string{"privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"},
		},
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": []any{item}}), true, nil
}
