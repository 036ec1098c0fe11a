package machinelearning

import (
	"context"
	"regexp"
	"strings"
	"sync"

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
// delete them. They are made just after the workspace is stored (its
// strategy cannot store other resources before its own record exists):
// Validate and Import mark a new workspace with dataDefaultDatastores,
// and the engine's write observer (a client's PUT) or PostImport (a seed)
// makes the datastores and drops the mark; a mark left by a crash in
// between is acted on at the workspace's next write.
//
// Choice: the account key is the workspace's userStorageKey (listKeys),
// so both say the same; workspaceblobstore names the storage account's
// resource group and subscription and uses the workspace's
// system-assigned identity for data access, as Azure's do; the working
// directory's share is named after a GUID derived from the workspace's
// resource ID (Azure's is another random GUID). A workspace restored from an export
// (armlet import) gets none: the file carries the datastores it had.

// dataDefaultDatastores marks a workspace whose default datastores are
// still to be made (bool).
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

// makeDefaultDatastores makes the default datastores of workspace ws if it
// is marked for them, then drops the mark. A datastore that exists is left
// alone (Import skips it), so a second run changes nothing.
func (s *workspaceStrategy) makeDefaultDatastores(ctx context.Context, req *engine.Request, ws *engine.Resource) error {
	var pending bool
	if !ws.GetData(dataDefaultDatastores, &pending) || !pending {
		return nil
	}
	if err := s.makeDefaultContainers(ctx, req, ws); err != nil {
		return err
	}
	// Side by side: the store commits concurrent writes together, so the
	// four cost the workspace's PUT one durable commit, not four in turn.
	stores := defaultDatastores(ws)
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for name, body := range stores {
		wg.Go(func() {
			if _, err := s.e.Import(ctx, ws.ID.Child("datastores", name), body, V2APIVersions[0], req.Caller); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return dropData(ctx, s.e, ws.ID, dataDefaultDatastores)
}

// typeBlobContainers is the storage type of the blob datastores'
// containers.
const typeBlobContainers = typeStorageAccounts + "/blobServices/containers"

// makeDefaultContainers makes, in ws's storage account when armlet holds
// it, the blob containers the default blob datastores name
// (azureml-blobstore-{workspaceId} and azureml), as Azure ML does when it
// creates a workspace. A container that exists is left alone; an account
// armlet does not hold gets nothing (the documented choice for links to
// resources armlet does not hold).
func (s *workspaceStrategy) makeDefaultContainers(ctx context.Context, req *engine.Request, ws *engine.Resource) error {
	account := workspaceStorage(ws)
	if _, held, err := s.e.AccessKeys(ctx, account); err != nil || !held {
		return err
	}
	wsID, _ := ws.Properties["workspaceId"].(string)
	for _, name := range []string{"azureml-blobstore-" + wsID, "azureml"} {
		if err := makeContainer(ctx, s.e, req, account, name); err != nil {
			return err
		}
	}
	return nil
}

// workspaceWritten is the engine's write observer for the workspaces
// clients store: it makes a new workspace's default datastores.
func (s *workspaceStrategy) workspaceWritten(ctx context.Context, req *engine.Request, r *engine.Resource) {
	if !strings.EqualFold(r.Type, TypeWorkspaces) {
		return
	}
	if err := s.makeDefaultDatastores(ctx, req, r); err != nil {
		// The mark stays: the workspace's next write tries again.
		s.e.Logger().Warn("making the default datastores failed", "workspace", r.ID.String(), "err", err)
	}
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
