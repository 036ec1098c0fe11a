package machinelearning

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// Azure ML makes four datastores with every workspace, on the workspace's
// storage account (an exported workspace shows them as
// Microsoft.MachineLearningServices/workspaces/datastores resources of its
// own, created by the service): workspaceblobstore, the default, on the
// blob container azureml-blobstore-{workspaceId}; workspaceartifactstore on
// the container azureml; workspacefilestore on the file share
// azureml-filestore-{workspaceId}; and workspaceworkingdirectory, the
// notebooks' share code-{guid}. Each uses the account's key
// (credentials AccountKey).
//
// armlet makes them when a workspace is created, through a client or a
// seed file, as datastores like any other: a client may read, change or
// delete them. They are the workspace's companions (engine.CompanionMaker):
// stored in the workspace's own transaction, so a workspace never exists
// without them, nor they without it. Validate and Import mark a new
// workspace with dataDefaultDatastores and Companions drops the mark, so
// it is never stored; a mark that an older armlet stored (it made the
// datastores after the workspace) is acted on at the workspace's next
// write, leaving alone the datastores that exist.
//
// Choice: the account key is the workspace's userStorageKey (listKeys),
// so both say the same; workspaceblobstore names the storage account's
// resource group and subscription and uses the workspace's
// system-assigned identity for data access, as Azure's do; the working
// directory's share is named after a GUID derived from the workspace's
// resource ID (Azure's is another random GUID). A workspace restored from an export
// (armlet import) gets none: the file carries the datastores it had.

// dataDefaultDatastores marks a workspace whose default datastores are
// still to be made (bool), from its Validate or Import to its Companions.
const dataDefaultDatastores = "defaultDatastores"

// defaultDatastores returns the bodies of ws's default datastores by
// name.
func defaultDatastores(ws *engine.Resource) map[string]map[string]any {
	storage := workspaceStorage(ws)
	account := strings.ToLower(storage.Name())
	wsID, _ := ws.Properties["workspaceId"].(string)
	var keys workspaceKeys
	ws.GetData(dataKeys, &keys)
	datastore := func(dsType string, extra map[string]any) map[string]any {
		p := map[string]any{
			"datastoreType": dsType,
			"accountName":   account,
			"endpoint":      "core.windows.net",
			"protocol":      "https",
			"credentials": map[string]any{
				"credentialsType": "AccountKey",
				"secrets":         map[string]any{"secretsType": "AccountKey", "key": keys.UserStorageKey},
			},
			"serviceDataAccessAuthIdentity": "None",
		}
		for k, v := range extra {
			p[k] = v
		}
		return map[string]any{"properties": p}
	}
	return map[string]map[string]any{
		defaultDatastoreName: datastore("AzureBlob", map[string]any{
			"containerName":                 "azureml-blobstore-" + wsID,
			"resourceGroup":                 storage.ResourceGroupName(),
			"subscriptionId":                storage.SubscriptionID(),
			"serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity",
		}),
		"workspaceartifactstore":    datastore("AzureBlob", map[string]any{"containerName": "azureml"}),
		"workspacefilestore":        datastore("AzureFile", map[string]any{"fileShareName": "azureml-filestore-" + wsID}),
		"workspaceworkingdirectory": datastore("AzureFile", map[string]any{"fileShareName": "code-" + uuid.NewSHA1(uuid.NameSpaceURL, []byte(ws.ID.Key()+"/workspaceworkingdirectory")).String()}),
	}
}

// Companions gives a workspace marked for them its default datastores
// and, in its storage account when armlet holds it, the blob containers
// the blob datastores name, and drops the mark.
func (s *workspaceStrategy) Companions(ctx context.Context, _ *engine.Request, ws, _ *engine.Resource) ([]engine.Companion, error) {
	var pending bool
	if !ws.GetData(dataDefaultDatastores, &pending) {
		return nil, nil
	}
	delete(ws.Internal.Data, dataDefaultDatastores)
	if !pending {
		return nil, nil
	}
	containers, err := s.defaultContainers(ctx, ws)
	if err != nil {
		return nil, err
	}
	stores := defaultDatastores(ws)
	out := make([]engine.Companion, 0, len(containers)+len(stores))
	out = append(out, containers...)
	for _, name := range slices.Sorted(maps.Keys(stores)) {
		out = append(out, engine.Companion{ID: ws.ID.Child("datastores", name), Body: stores[name], APIVersion: V2APIVersions[0]})
	}
	return out, nil
}

// typeBlobContainers is the storage type of the blob datastores'
// containers.
const typeBlobContainers = typeStorageAccounts + "/blobServices/containers"

// defaultContainers are the blob containers, in ws's storage account when
// armlet holds it, that the default blob datastores name
// (azureml-blobstore-{workspaceId} and azureml), as Azure ML makes them
// with a workspace. A container that exists is left alone (the engine
// leaves out a companion that exists); an account armlet does not hold
// gets nothing (the documented choice for links to resources armlet does
// not hold).
func (s *workspaceStrategy) defaultContainers(ctx context.Context, ws *engine.Resource) ([]engine.Companion, error) {
	t, ok := s.e.Registry().Lookup(typeBlobContainers)
	if !ok {
		return nil, nil
	}
	account := workspaceStorage(ws)
	if _, held, err := s.e.AccessKeys(ctx, account); err != nil || !held {
		return nil, err
	}
	wsID, _ := ws.Properties["workspaceId"].(string)
	var out []engine.Companion
	for _, name := range []string{"azureml-blobstore-" + wsID, "azureml"} {
		out = append(out, engine.Companion{ID: containerID(account, name), Body: containerBody(), APIVersion: t.APIVersions[0]})
	}
	return out, nil
}

// storageAccountChars are the characters a storage account name may not
// hold.
var storageAccountChars = regexp.MustCompile(`[^a-z0-9]`)

// workspaceStorage returns the resource ID of ws's storage account.
//
// Choice: a workspace without properties.storageAccount (armlet does not
// require one) gets a derived account in its own resource group: up to
// 14 letters and digits of the workspace name, lower-cased, then the first
// 10 hex digits of its workspaceId (a valid account name of 10 to 24
// characters, the same for the workspace's life). properties.storageAccount
// itself stays unset.
func workspaceStorage(ws *engine.Resource) resourceid.ID {
	if sa, _ := ws.Properties["storageAccount"].(string); sa != "" {
		if id, err := resourceid.Parse(sa); err == nil {
			return id
		}
	}
	name := storageAccountChars.ReplaceAllString(strings.ToLower(ws.ID.Name()), "")
	if len(name) > 14 {
		name = name[:14]
	}
	wsID, _ := ws.Properties["workspaceId"].(string)
	hex := strings.ReplaceAll(wsID, "-", "")
	if len(hex) > 10 {
		hex = hex[:10]
	}
	return resourceid.ResourceGroup(ws.ID.SubscriptionID(), ws.ID.ResourceGroupName()).Child(typeStorageAccounts, name+hex)
}
