package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/armlet/armlet/internal/e2e"
)

// sasContainer is an azblob container client, through armlet's proxy,
// for the container a folder SAS URI (an ML blobReferenceForConsumption's
// sasUri: https://{account}.blob.core.windows.net/{container}/{folder}/?{sas})
// names, with its SAS; it also returns the container's name and the folder.
func sasContainer(t *testing.T, s *e2e.Armlet, sasURI string) (*container.Client, string, string) {
	t.Helper()
	u, err := url.Parse(sasURI)
	if err != nil {
		t.Fatal(err)
	}
	ctr, folder, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	c, err := container.NewClientWithNoCredential("https://"+u.Host+"/"+ctr+"?"+u.RawQuery, &container.ClientOptions{ClientOptions: blobOptions(t, s).ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	return c, ctr, folder
}

// tampered is sasURI with the first character of its signature changed.
func tampered(t *testing.T, sasURI string) string {
	t.Helper()
	base, raw, _ := strings.Cut(sasURI, "?")
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	sig := []byte(q.Get("sig"))
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	q.Set("sig", string(sig))
	return base + "?" + q.Encode()
}

// TestMLUploadSASThroughBlobPlane: the SAS URI startPendingUpload answers
// for a workspace's code version, on the workspace's storage account that
// armlet holds, lets azblob through armlet's proxy upload, list and read
// the folder; the SAS's permissions (rcwl) do not reach delete (403
// AuthorizationPermissionMismatch), a tampered signature is 403
// AuthenticationFailed, and regenerating the account's key1 invalidates
// it while a new startPendingUpload signs with the new key.
func TestMLUploadSASThroughBlobPlane(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := t.Context()
	rg := s.CreateGroup(t, "mlsas")
	storage, key := blobAccount(t, s, rg, "mlsas1", "")
	f, err := armmachinelearning.NewClientFactory(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.NewWorkspacesClient().BeginCreateOrUpdate(ctx, "mlsas", "ws1", armmachinelearning.Workspace{
		Location: to.Ptr("eastus"), Properties: &armmachinelearning.WorkspaceProperties{StorageAccount: to.Ptr(storage)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	versions := f.NewCodeVersionsClient()
	if _, err := versions.CreateOrUpdate(ctx, "mlsas", "ws1", "src", "1", armmachinelearning.CodeVersion{
		Properties: &armmachinelearning.CodeVersionProperties{CodeURI: to.Ptr("https://mlsas1.blob.core.windows.net/c/src")}}, nil); err != nil {
		t.Fatal(err)
	}
	upload := func() string {
		t.Helper()
		up, err := versions.CreateOrGetStartPendingUpload(ctx, "mlsas", "ws1", "src", "1", armmachinelearning.PendingUploadRequestDto{
			PendingUploadType: to.Ptr(armmachinelearning.PendingUploadTypeTemporaryBlobReference)}, nil)
		if err != nil {
			t.Fatalf("startPendingUpload: %v", err)
		}
		return *up.BlobReferenceForConsumption.Credential.(*armmachinelearning.SASCredentialDto).SasURI
	}
	sasURI := upload()
	c, ctr, folder := sasContainer(t, s, sasURI)
	if _, err := c.NewBlockBlobClient(folder+"main.py").UploadBuffer(ctx, []byte("print('hi')"), nil); err != nil {
		t.Fatalf("upload with the startPendingUpload SAS: %v", err)
	}
	page, err := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(folder)}).NextPage(ctx)
	if err != nil || len(page.Segment.BlobItems) != 1 || *page.Segment.BlobItems[0].Name != folder+"main.py" {
		t.Errorf("list with the SAS: %v %+v", err, page.Segment)
	}
	// The account's own key reads what the SAS wrote.
	owner, _ := sharedKeyClient(t, s, "mlsas1", key)
	if got := download(t, owner, ctr, folder+"main.py", blob.HTTPRange{}); string(got) != "print('hi')" {
		t.Errorf("the uploaded blob read with the account key: %q", got)
	}
	if _, err := c.NewBlobClient(folder+"main.py").Delete(ctx, nil); !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("delete with an rcwl SAS: %v, want 403 AuthorizationPermissionMismatch", err)
	}
	bad, _, _ := sasContainer(t, s, tampered(t, sasURI))
	if _, err := bad.NewBlockBlobClient(folder+"x.py").UploadBuffer(ctx, []byte("x"), nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("upload with a tampered signature: %v, want 403 AuthenticationFailed", err)
	}

	if code, _, b := s.Do(t, "POST", storage+"/regenerateKey"+storageAPI, `{"keyName":"key1"}`, nil); code != http.StatusOK {
		t.Fatalf("regenerateKey: %d %s", code, b)
	}
	if _, err := c.NewBlobClient(folder+"main.py").GetProperties(ctx, nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("the SAS after key1 was regenerated: %v, want 403 AuthenticationFailed", err)
	}
	fresh, _, freshFolder := sasContainer(t, s, upload())
	if _, err := fresh.NewBlockBlobClient(freshFolder+"main.py").UploadBuffer(ctx, []byte("again"), nil); err != nil {
		t.Errorf("upload with a SAS signed after the key was regenerated: %v", err)
	}
}

// TestMLRegistrySASThroughBlobPlane: a registry whose storage account
// (user-created) armlet holds answers a model version's
// startPendingUpload with a SAS azblob uploads the model with, through
// armlet's proxy, to the registry's container (made for it); the
// registry's getBlobReferenceSAS for that blob answers a read SAS that
// downloads it and cannot write it (403 AuthorizationPermissionMismatch);
// a tampered one is 403 AuthenticationFailed; a blob of the same account
// outside the registry's containers gets no usable signature.
func TestMLRegistrySASThroughBlobPlane(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := t.Context()
	rg := s.CreateGroup(t, "mlsasreg")
	storage, key := blobAccount(t, s, rg, "mlsasreg1", "")
	f, err := armmachinelearning.NewClientFactory(s.Conn.SubscriptionID, s.Credential(t), s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.NewRegistriesClient().BeginCreateOrUpdate(ctx, "mlsasreg", "sasreg", armmachinelearning.Registry{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.RegistryProperties{RegionDetails: []*armmachinelearning.RegistryRegionArmDetails{{
			Location: to.Ptr("eastus"),
			StorageAccountDetails: []*armmachinelearning.StorageAccountDetails{{UserCreatedStorageAccount: &armmachinelearning.UserCreatedStorageAccount{
				ArmResourceID: &armmachinelearning.ArmResourceID{ResourceID: to.Ptr(storage)}}}},
		}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	versions := f.NewRegistryModelVersionsClient()
	mv, err := versions.BeginCreateOrUpdate(ctx, "mlsasreg", "sasreg", "m", "1", armmachinelearning.ModelVersion{
		Properties: &armmachinelearning.ModelVersionProperties{ModelURI: to.Ptr("azureml://registries/sasreg/models/m/versions/1")},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mv.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatal(err)
	}
	up, err := versions.CreateOrGetStartPendingUpload(ctx, "mlsasreg", "sasreg", "m", "1", armmachinelearning.PendingUploadRequestDto{}, nil)
	if err != nil {
		t.Fatalf("startPendingUpload: %v", err)
	}
	ref := up.BlobReferenceForConsumption
	c, _, folder := sasContainer(t, s, *ref.Credential.(*armmachinelearning.SASCredentialDto).SasURI)
	model := []byte("model weights")
	if _, err := c.NewBlockBlobClient(folder+"model.bin").UploadBuffer(ctx, model, nil); err != nil {
		t.Fatalf("upload the model with the registry's SAS: %v", err)
	}

	refs := f.NewRegistryDataReferencesClient()
	readSAS := func(blobURI string) string {
		t.Helper()
		got, err := refs.GetBlobReferenceSAS(ctx, "mlsasreg", "sasreg", "m", "1", armmachinelearning.GetBlobReferenceSASRequestDto{
			AssetID: to.Ptr("azureml://registries/sasreg/models/m/versions/1"), BlobURI: to.Ptr(blobURI)}, nil)
		if err != nil {
			t.Fatalf("getBlobReferenceSAS: %v", err)
		}
		return *got.BlobReferenceForConsumption.Credential.(*armmachinelearning.SASCredential).SasURI
	}
	blobClient := func(sasURI string) *blob.Client {
		bc, err := blob.NewClientWithNoCredential(sasURI, &blob.ClientOptions{ClientOptions: blobOptions(t, s).ClientOptions})
		if err != nil {
			t.Fatal(err)
		}
		return bc
	}
	modelURI := *ref.BlobURI + "model.bin"
	read := readSAS(modelURI)
	resp, err := blobClient(read).DownloadBuffer(ctx, make([]byte, len(model)), nil)
	if err != nil || resp != int64(len(model)) {
		t.Errorf("download with getBlobReferenceSAS's SAS: %d %v", resp, err)
	}
	rw, err := blobClient(read).SetMetadata(ctx, map[string]*string{"x": to.Ptr("y")}, nil)
	if !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("write metadata with a read SAS: %+v %v, want 403 AuthorizationPermissionMismatch", rw, err)
	}
	if _, err := blobClient(tampered(t, read)).GetProperties(ctx, nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("read with a tampered signature: %v, want 403 AuthenticationFailed", err)
	}

	owner, _ := sharedKeyClient(t, s, "mlsasreg1", key)
	if _, err := owner.CreateContainer(ctx, "private", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.UploadBuffer(ctx, "private", "secret.txt", []byte("not the registry's"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := blobClient(readSAS("https://mlsasreg1.blob.core.windows.net/private/secret.txt")).GetProperties(ctx, nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("a SAS for a blob outside the registry's containers: %v, want 403 AuthenticationFailed", err)
	}
}
