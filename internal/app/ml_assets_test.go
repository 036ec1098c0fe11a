package app_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/e2e"
)

// mlAssetsClients are the armmachinelearning/v4 clients of this test.
type mlAssetsClients struct {
	workspaces   *armmachinelearning.WorkspacesClient
	datastores   *armmachinelearning.DatastoresClient
	connections  *armmachinelearning.WorkspaceConnectionsClient
	codes        *armmachinelearning.CodeContainersClient
	codeVersions *armmachinelearning.CodeVersionsClient
	envVersions  *armmachinelearning.EnvironmentVersionsClient
	compVersions *armmachinelearning.ComponentVersionsClient
	models       *armmachinelearning.ModelContainersClient
	modelVers    *armmachinelearning.ModelVersionsClient
	dataVersions *armmachinelearning.DataVersionsClient
}

func newMLAssetsClients(t *testing.T, s *e2e.Armlet, cred azcore.TokenCredential) mlAssetsClients {
	t.Helper()
	f, err := armmachinelearning.NewClientFactory(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	return mlAssetsClients{
		workspaces: f.NewWorkspacesClient(), datastores: f.NewDatastoresClient(), connections: f.NewWorkspaceConnectionsClient(),
		codes: f.NewCodeContainersClient(), codeVersions: f.NewCodeVersionsClient(), envVersions: f.NewEnvironmentVersionsClient(),
		compVersions: f.NewComponentVersionsClient(), models: f.NewModelContainersClient(), modelVers: f.NewModelVersionsClient(),
		dataVersions: f.NewDataVersionsClient(),
	}
}

// mlAssetsAll drains a pager and returns the names of its items.
func mlAssetsAll[T any](t *testing.T, p *runtime.Pager[T], names func(T) []string) []string {
	t.Helper()
	var out []string
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, names(page)...)
	}
	return out
}

// TestGoSDKMLAssets drives datastores, workspace connections and the v2
// assets with the unmodified armmachinelearning/v4 clients, starting from
// a workspace in v1 legacy mode (rule L5).
func TestGoSDKMLAssets(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	s.CreateGroup(t, "rg")
	c := newMLAssetsClients(t, s, cred)
	storage := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/mlstore"
	poller, err := c.workspaces.BeginCreateOrUpdate(ctx, "rg", "ws1", armmachinelearning.Workspace{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{
			StorageAccount: to.Ptr(storage), V1LegacyMode: to.Ptr(true),
			KeyVault: to.Ptr("/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"),
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}

	blob := armmachinelearning.Datastore{Properties: &armmachinelearning.AzureBlobDatastore{
		DatastoreType: to.Ptr(armmachinelearning.DatastoreTypeAzureBlob),
		AccountName:   to.Ptr("mlstore"), ContainerName: to.Ptr("data"),
		Credentials: &armmachinelearning.AccountKeyDatastoreCredentials{
			CredentialsType: to.Ptr(armmachinelearning.CredentialsTypeAccountKey),
			Secrets: &armmachinelearning.AccountKeyDatastoreSecrets{
				SecretsType: to.Ptr(armmachinelearning.SecretsTypeAccountKey), Key: to.Ptr("c2VjcmV0LWtleQ=="),
			},
		},
	}}
	// Rule L5: refused while the workspace is in legacy mode.
	_, err = c.datastores.CreateOrUpdate(ctx, "rg", "ws1", "workspaceblobstore", blob, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")
	_, err = c.modelVers.CreateOrUpdate(ctx, "rg", "ws1", "m1", "1", armmachinelearning.ModelVersion{Properties: &armmachinelearning.ModelVersionProperties{}}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	up, err := c.workspaces.BeginUpdate(ctx, "rg", "ws1", armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{V1LegacyMode: to.Ptr(false)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}

	t.Run("datastores", func(t *testing.T) { mlAssetsDatastores(t, c, blob) })
	t.Run("connections", func(t *testing.T) { mlAssetsConnections(t, c) })
	t.Run("codes", func(t *testing.T) { mlAssetsCodes(t, c, storage) })
	t.Run("versions", func(t *testing.T) { mlAssetsVersions(t, c) })
}

func mlAssetsDatastores(t *testing.T, c mlAssetsClients, blob armmachinelearning.Datastore) {
	ctx := context.Background()
	created, err := c.datastores.CreateOrUpdate(ctx, "rg", "ws1", "workspaceblobstore", blob,
		&armmachinelearning.DatastoresClientCreateOrUpdateOptions{SkipValidation: to.Ptr(true)})
	if err != nil {
		t.Fatalf("create datastore: %v", err)
	}
	p, ok := created.Properties.(*armmachinelearning.AzureBlobDatastore)
	if !ok || *p.ContainerName != "data" || !*p.IsDefault {
		t.Fatalf("created = %#v", created.Properties)
	}
	// Secrets show as their type only.
	noKey := func(what string, cred armmachinelearning.DatastoreCredentialsClassification) {
		t.Helper()
		ak, ok := cred.(*armmachinelearning.AccountKeyDatastoreCredentials)
		if !ok || ak.Secrets == nil || *ak.Secrets.SecretsType != armmachinelearning.SecretsTypeAccountKey || ak.Secrets.Key != nil {
			t.Errorf("%s: credentials = %#v, want AccountKey with secrets reduced to their type", what, cred)
		}
	}
	noKey("PUT response", p.Credentials)
	if _, err := c.datastores.CreateOrUpdate(ctx, "rg", "ws1", "other", armmachinelearning.Datastore{Properties: &armmachinelearning.AzureDataLakeGen2Datastore{
		DatastoreType: to.Ptr(armmachinelearning.DatastoreTypeAzureDataLakeGen2), AccountName: to.Ptr("lake"), Filesystem: to.Ptr("fs"),
		Credentials: &armmachinelearning.NoneDatastoreCredentials{CredentialsType: to.Ptr(armmachinelearning.CredentialsTypeNone)},
	}}, nil); err != nil {
		t.Fatalf("create gen2 datastore: %v", err)
	}
	got, err := c.datastores.Get(ctx, "rg", "ws1", "workspaceblobstore", nil)
	if err != nil {
		t.Fatal(err)
	}
	noKey("GET", got.Properties.(*armmachinelearning.AzureBlobDatastore).Credentials)
	secrets, err := c.datastores.ListSecrets(ctx, "rg", "ws1", "workspaceblobstore", nil)
	if err != nil {
		t.Fatalf("listSecrets: %v", err)
	}
	if ak, ok := secrets.DatastoreSecretsClassification.(*armmachinelearning.AccountKeyDatastoreSecrets); !ok || *ak.Key != "c2VjcmV0LWtleQ==" {
		t.Errorf("listSecrets = %#v", secrets.DatastoreSecretsClassification)
	}
	names := func(p armmachinelearning.DatastoresClientListResponse) []string {
		var out []string
		for _, d := range p.Value {
			out = append(out, *d.Name)
			if b, ok := d.Properties.(*armmachinelearning.AzureBlobDatastore); ok {
				noKey("list, "+*d.Name, b.Credentials)
			}
		}
		return out
	}
	if all := mlAssetsAll(t, c.datastores.NewListPager("rg", "ws1", nil), names); !slices.Equal(all, []string{"other", "workspaceartifactstore", "workspaceblobstore", "workspacefilestore", "workspaceworkingdirectory"}) {
		t.Errorf("datastores = %v", all)
	}
	if defaults := mlAssetsAll(t, c.datastores.NewListPager("rg", "ws1", &armmachinelearning.DatastoresClientListOptions{IsDefault: to.Ptr(true)}), names); !slices.Equal(defaults, []string{"workspaceblobstore"}) {
		t.Errorf("default datastores = %v", defaults)
	}
	if _, err := c.datastores.Delete(ctx, "rg", "ws1", "other", nil); err != nil {
		t.Fatal(err)
	}
}

func mlAssetsConnections(t *testing.T, c mlAssetsClients) {
	ctx := context.Background()
	conn := armmachinelearning.WorkspaceConnectionPropertiesV2BasicResource{Properties: &armmachinelearning.PATAuthTypeWorkspaceConnectionProperties{
		AuthType: to.Ptr(armmachinelearning.ConnectionAuthTypePAT), Category: to.Ptr(armmachinelearning.ConnectionCategoryGit),
		Target: to.Ptr("https://github.com/org/repo"), Credentials: &armmachinelearning.WorkspaceConnectionPersonalAccessToken{Pat: to.Ptr("pat-secret")},
	}}
	created, err := c.connections.Create(ctx, "rg", "ws1", "github", conn, nil)
	if err != nil {
		t.Fatalf("create connection: %v", err)
	}
	if p, ok := created.Properties.(*armmachinelearning.PATAuthTypeWorkspaceConnectionProperties); !ok || p.Credentials != nil || *p.Target != "https://github.com/org/repo" {
		t.Errorf("created = %#v", created.Properties)
	}
	_, err = c.connections.Create(ctx, "rg", "ws1", "gh", conn, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "InvalidResourceName")
	if _, err := c.connections.Create(ctx, "rg", "ws1", "openai", armmachinelearning.WorkspaceConnectionPropertiesV2BasicResource{
		Properties: &armmachinelearning.APIKeyAuthWorkspaceConnectionProperties{
			AuthType: to.Ptr(armmachinelearning.ConnectionAuthTypeAPIKey), Category: to.Ptr(armmachinelearning.ConnectionCategoryAzureOpenAI),
			Target: to.Ptr("https://aoai.example"), Credentials: &armmachinelearning.WorkspaceConnectionAPIKey{Key: to.Ptr("api-secret")},
		}}, nil); err != nil {
		t.Fatalf("create api key connection: %v", err)
	}
	got, err := c.connections.Get(ctx, "rg", "ws1", "github", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Properties.(*armmachinelearning.PATAuthTypeWorkspaceConnectionProperties); p.Credentials != nil || *p.Category != armmachinelearning.ConnectionCategoryGit {
		t.Errorf("GET = %#v", p)
	}
	secrets, err := c.connections.ListSecrets(ctx, "rg", "ws1", "github", nil)
	if err != nil {
		t.Fatalf("listsecrets: %v", err)
	}
	if p, ok := secrets.Properties.(*armmachinelearning.PATAuthTypeWorkspaceConnectionProperties); !ok || p.Credentials == nil || *p.Credentials.Pat != "pat-secret" {
		t.Errorf("listsecrets = %#v", secrets.Properties)
	}
	names := func(p armmachinelearning.WorkspaceConnectionsClientListResponse) []string {
		var out []string
		for _, w := range p.Value {
			out = append(out, *w.Name)
			if k, ok := w.Properties.(*armmachinelearning.APIKeyAuthWorkspaceConnectionProperties); ok && k.Credentials != nil {
				t.Errorf("list shows credentials of %s", *w.Name)
			}
		}
		return out
	}
	if all := mlAssetsAll(t, c.connections.NewListPager("rg", "ws1", nil), names); !slices.Equal(all, []string{"github", "openai"}) {
		t.Errorf("connections = %v", all)
	}
	opts := &armmachinelearning.WorkspaceConnectionsClientListOptions{Category: to.Ptr("AzureOpenAI")}
	if some := mlAssetsAll(t, c.connections.NewListPager("rg", "ws1", opts), names); !slices.Equal(some, []string{"openai"}) {
		t.Errorf("connections by category = %v", some)
	}
}

func mlAssetsCodes(t *testing.T, c mlAssetsClients, storage string) {
	ctx := context.Background()
	if _, err := c.codes.CreateOrUpdate(ctx, "rg", "ws1", "src", armmachinelearning.CodeContainer{
		Properties: &armmachinelearning.CodeContainerProperties{Description: to.Ptr("sources")}}, nil); err != nil {
		t.Fatalf("create code container: %v", err)
	}
	for _, v := range []string{"1", "2"} {
		if _, err := c.codeVersions.CreateOrUpdate(ctx, "rg", "ws1", "src", v, armmachinelearning.CodeVersion{
			Properties: &armmachinelearning.CodeVersionProperties{CodeURI: to.Ptr("https://mlstore.blob.core.windows.net/code/" + v)}}, nil); err != nil {
			t.Fatalf("create code version %s: %v", v, err)
		}
	}
	cc, err := c.codes.Get(ctx, "rg", "ws1", "src", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := cc.Properties; *p.LatestVersion != "2" || *p.NextVersion != "3" || *p.Description != "sources" {
		t.Errorf("code container = %+v", p)
	}
	_, err = c.codeVersions.CreateOrUpdate(ctx, "rg", "ws1", "src", "1", armmachinelearning.CodeVersion{
		Properties: &armmachinelearning.CodeVersionProperties{CodeURI: to.Ptr("https://elsewhere")}}, nil)
	e2e.RequireResponseError(t, err, http.StatusConflict, "UserError")
	pending, err := c.codeVersions.CreateOrGetStartPendingUpload(ctx, "rg", "ws1", "src", "2", armmachinelearning.PendingUploadRequestDto{
		PendingUploadType: to.Ptr(armmachinelearning.PendingUploadTypeTemporaryBlobReference)}, nil)
	if err != nil {
		t.Fatalf("startPendingUpload: %v", err)
	}
	ref := pending.BlobReferenceForConsumption
	sas, ok := ref.Credential.(*armmachinelearning.SASCredentialDto)
	if *pending.PendingUploadType != armmachinelearning.PendingUploadTypeTemporaryBlobReference || *ref.StorageAccountArmID != storage ||
		!strings.HasPrefix(*ref.BlobURI, "https://mlstore.blob.core.windows.net/") || !ok || !strings.HasPrefix(*sas.SasURI, *ref.BlobURI) {
		t.Errorf("pending upload = %+v %+v", pending.PendingUploadResponseDto, ref)
	}
	names := func(p armmachinelearning.CodeVersionsClientListResponse) []string {
		var out []string
		for _, v := range p.Value {
			out = append(out, *v.Name)
		}
		return out
	}
	opts := &armmachinelearning.CodeVersionsClientListOptions{OrderBy: to.Ptr("createdtime desc"), Top: to.Ptr[int32](1)}
	if latest := mlAssetsAll(t, c.codeVersions.NewListPager("rg", "ws1", "src", opts), names); !slices.Equal(latest, []string{"2"}) {
		t.Errorf("latest code version = %v", latest)
	}
	if _, err := c.codes.Delete(ctx, "rg", "ws1", "src", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.codeVersions.Get(ctx, "rg", "ws1", "src", "1", nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "")
}

func mlAssetsVersions(t *testing.T, c mlAssetsClients) {
	ctx := context.Background()
	env, err := c.envVersions.CreateOrUpdate(ctx, "rg", "ws1", "env", "1", armmachinelearning.EnvironmentVersion{
		Properties: &armmachinelearning.EnvironmentVersionProperties{Image: to.Ptr("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")}}, nil)
	if err != nil {
		t.Fatalf("create environment version: %v", err)
	}
	if p := env.Properties; *p.EnvironmentType != armmachinelearning.EnvironmentTypeUserCreated || *p.OSType != armmachinelearning.OperatingSystemTypeLinux {
		t.Errorf("environment = %+v", p)
	}
	comp, err := c.compVersions.CreateOrUpdate(ctx, "rg", "ws1", "train", "1", armmachinelearning.ComponentVersion{
		Properties: &armmachinelearning.ComponentVersionProperties{ComponentSpec: map[string]any{"type": "command", "command": "python train.py"}}}, nil)
	if err != nil {
		t.Fatalf("create component version: %v", err)
	}
	if spec, _ := comp.Properties.ComponentSpec.(map[string]any); spec["command"] != "python train.py" {
		t.Errorf("component spec = %#v", comp.Properties.ComponentSpec)
	}
	data, err := c.dataVersions.CreateOrUpdate(ctx, "rg", "ws1", "iris", "1", armmachinelearning.DataVersionBase{
		Properties: &armmachinelearning.URIFileDataVersion{DataType: to.Ptr(armmachinelearning.DataTypeURIFile), DataURI: to.Ptr("https://x/iris.csv")}}, nil)
	if err != nil {
		t.Fatalf("create data version: %v", err)
	}
	if p, ok := data.Properties.(*armmachinelearning.URIFileDataVersion); !ok || *p.DataURI != "https://x/iris.csv" {
		t.Errorf("data = %#v", data.Properties)
	}
	_, err = c.dataVersions.CreateOrUpdate(ctx, "rg", "ws1", "iris", "2", armmachinelearning.DataVersionBase{
		Properties: &armmachinelearning.URIFolderDataVersion{DataType: to.Ptr(armmachinelearning.DataTypeURIFolder)}}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "InvalidRequestContent")

	for _, v := range []string{"1", "2", "3"} {
		if _, err := c.modelVers.CreateOrUpdate(ctx, "rg", "ws1", "clf", v, armmachinelearning.ModelVersion{Properties: &armmachinelearning.ModelVersionProperties{
			ModelURI: to.Ptr("azureml://jobs/j/outputs/model" + v), ModelType: to.Ptr("mlflow_model"),
			Flavors: map[string]*armmachinelearning.FlavorData{"python_function": {Data: map[string]*string{"loader_module": to.Ptr("mlflow.sklearn")}}},
		}}, nil); err != nil {
			t.Fatalf("create model version %s: %v", v, err)
		}
	}
	// Archive version 2.
	if _, err := c.modelVers.CreateOrUpdate(ctx, "rg", "ws1", "clf", "2", armmachinelearning.ModelVersion{Properties: &armmachinelearning.ModelVersionProperties{
		ModelURI: to.Ptr("azureml://jobs/j/outputs/model2"), ModelType: to.Ptr("mlflow_model"), IsArchived: to.Ptr(true),
		Flavors: map[string]*armmachinelearning.FlavorData{"python_function": {Data: map[string]*string{"loader_module": to.Ptr("mlflow.sklearn")}}},
	}}, nil); err != nil {
		t.Fatalf("archive model version: %v", err)
	}
	mc, err := c.models.Get(ctx, "rg", "ws1", "clf", nil)
	if err != nil {
		t.Fatalf("implicit model container: %v", err)
	}
	if *mc.Properties.LatestVersion != "3" || *mc.Properties.NextVersion != "4" {
		t.Errorf("model container = %+v", mc.Properties)
	}
	names := func(p armmachinelearning.ModelVersionsClientListResponse) []string {
		var out []string
		for _, v := range p.Value {
			out = append(out, *v.Name)
		}
		return out
	}
	views := []struct {
		view armmachinelearning.ListViewType
		want []string
	}{
		{armmachinelearning.ListViewTypeActiveOnly, []string{"1", "3"}},
		{armmachinelearning.ListViewTypeArchivedOnly, []string{"2"}},
		{armmachinelearning.ListViewTypeAll, []string{"1", "2", "3"}},
	}
	for _, v := range views {
		// $top=1 without $orderBy pages through nextLink.
		opts := &armmachinelearning.ModelVersionsClientListOptions{ListViewType: to.Ptr(v.view), Top: to.Ptr[int32](1)}
		if got := mlAssetsAll(t, c.modelVers.NewListPager("rg", "ws1", "clf", opts), names); !slices.Equal(got, v.want) {
			t.Errorf("model versions %s = %v, want %v", v.view, got, v.want)
		}
	}
	dnames := func(p armmachinelearning.DataVersionsClientListResponse) []string {
		var out []string
		for _, v := range p.Value {
			out = append(out, *v.Name)
		}
		return out
	}
	if got := mlAssetsAll(t, c.dataVersions.NewListPager("rg", "ws1", "iris", nil), dnames); !slices.Equal(got, []string{"1"}) {
		t.Errorf("data versions = %v", got)
	}
}
