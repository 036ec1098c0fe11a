package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

const storageAPI = "?api-version=2023-05-01"

// blobAccount makes a storage account through ARM with the given extra
// properties and waits until it is provisioned; it returns the account's
// ARM path and its key1.
func blobAccount(t *testing.T, s *e2e.Armlet, rg, name, props string) (string, string) {
	t.Helper()
	path := rg + "/providers/Microsoft.Storage/storageAccounts/" + name
	body := `{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"},"properties":{` + props + `}}`
	if code, _, b := s.Do(t, "PUT", path+storageAPI, body, nil); code >= 300 {
		t.Fatalf("PUT account %s: %d %s", name, code, b)
	}
	e2e.WaitFor(t, "the account provisioned", func() bool {
		_, _, b := s.Do(t, "GET", path+storageAPI, "", nil)
		return strings.Contains(b, `"provisioningState":"Succeeded"`)
	})
	return path, accountKey(t, s, path, 0)
}

// accountKey lists the account's keys through ARM and returns the i-th.
func accountKey(t *testing.T, s *e2e.Armlet, path string, i int) string {
	t.Helper()
	code, _, b := s.Do(t, "POST", path+"/listKeys"+storageAPI, "", nil)
	var keys struct{ Keys []struct{ Value string } }
	if err := json.Unmarshal([]byte(b), &keys); err != nil || code != http.StatusOK || len(keys.Keys) != 2 {
		t.Fatalf("listKeys: %d %s", code, b)
	}
	return keys.Keys[i].Value
}

// blobOptions are azblob's options with armlet's proxy and CA as the
// transport (what HTTPS_PROXY and a CA bundle give a client) and no
// retries, so refusals surface at once.
func blobOptions(t *testing.T, s *e2e.Armlet) *azblob.ClientOptions {
	return &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: proxiedClient(t, s), Retry: policy.RetryOptions{MaxRetries: -1},
	}}
}

func sharedKeyClient(t *testing.T, s *e2e.Armlet, account, key string) (*azblob.Client, *azblob.SharedKeyCredential) {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(account, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential("https://"+account+".blob.core.windows.net/", cred, blobOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return c, cred
}

// startWithBlob starts armlet with a storage account {name}1 in resource
// group name, holding container "data" with blob (content); it returns
// the account's ARM path and a Shared Key client with its credential.
func startWithBlob(t *testing.T, name, blob, content string) (*e2e.Armlet, string, *azblob.Client, *azblob.SharedKeyCredential) {
	t.Helper()
	s := e2e.Start(t)
	path, key := blobAccount(t, s, s.CreateGroup(t, name), name+"1", "")
	c, cred := sharedKeyClient(t, s, name+"1", key)
	if _, err := c.CreateContainer(t.Context(), "data", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadBuffer(t.Context(), "data", blob, []byte(content), nil); err != nil {
		t.Fatal(err)
	}
	return s, path, c, cred
}

func download(t *testing.T, c *azblob.Client, ctr, name string, r blob.HTTPRange) []byte {
	t.Helper()
	resp, err := c.DownloadStream(t.Context(), ctr, name, &azblob.DownloadStreamOptions{Range: r})
	if err != nil {
		t.Fatalf("download %s/%s %+v: %v", ctr, name, r, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestBlobSharedKeyThroughProxy: azblob with an account key, through
// armlet's proxy at https://{account}.blob.core.windows.net, creates a
// container that ARM then lists, uploads a 9 MiB blob in 4 MiB blocks
// (Put Block, Put Block List) and a small one in one shot, downloads them
// whole and by range, reads properties and metadata, lists with a prefix,
// a delimiter and pages, is refused an overwrite under If-None-Match *,
// stops working with a key that was regenerated, and loses the
// container's blobs (and their files) when ARM deletes the container.
// Every request is a storage-public flow naming the account.
func TestBlobSharedKeyThroughProxy(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	rg := s.CreateGroup(t, "blobsk")
	path, key := blobAccount(t, s, rg, "blobsk1", "")
	c, _ := sharedKeyClient(t, s, "blobsk1", key)
	ctx := t.Context()

	if _, err := c.CreateContainer(ctx, "data", &azblob.CreateContainerOptions{Metadata: map[string]*string{"team": to.Ptr("ml")}}); err != nil {
		t.Fatalf("create container: %v", err)
	}
	if _, err := c.CreateContainer(ctx, "data", nil); !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		t.Errorf("create the container again: %v, want ContainerAlreadyExists", err)
	}
	ctrPath := path + "/blobServices/default/containers/data"
	if code, _, b := s.Do(t, "GET", ctrPath+storageAPI, "", nil); code != http.StatusOK || !strings.Contains(b, `"team":"ml"`) {
		t.Errorf("ARM GET of the container made through the data plane: %d %s", code, b)
	}
	// One made through ARM is served by the data plane.
	if code, _, b := s.Do(t, "PUT", path+"/blobServices/default/containers/fromarm"+storageAPI, `{"properties":{}}`, nil); code >= 300 {
		t.Fatalf("PUT container through ARM: %d %s", code, b)
	}
	if _, err := c.ServiceClient().NewContainerClient("fromarm").GetProperties(ctx, nil); err != nil {
		t.Errorf("properties of a container made through ARM: %v", err)
	}

	big := randomBytes(9<<20 + 123)
	if _, err := c.UploadStream(ctx, "data", "dir/big.bin", bytes.NewReader(big), &azblob.UploadStreamOptions{
		BlockSize: 4 << 20, Concurrency: 2,
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("application/x-test"), BlobCacheControl: to.Ptr("max-age=60")},
		Metadata:    map[string]*string{"origin": to.Ptr("test")},
	}); err != nil {
		t.Fatalf("upload 9 MiB in blocks: %v", err)
	}
	bc := c.ServiceClient().NewContainerClient("data").NewBlockBlobClient("dir/big.bin")
	bl, err := bc.GetBlockList(ctx, "committed", nil)
	if err != nil || len(bl.CommittedBlocks) != 3 {
		t.Errorf("block list: %v %+v, want 3 committed blocks", err, bl)
	}
	if got := download(t, c, "data", "dir/big.bin", blob.HTTPRange{}); !bytes.Equal(got, big) {
		t.Errorf("download of the 9 MiB blob: %d bytes, differing", len(got))
	}
	off := int64(4<<20 - 100) // across the first two blocks
	if got := download(t, c, "data", "dir/big.bin", blob.HTTPRange{Offset: off, Count: 5000}); !bytes.Equal(got, big[off:off+5000]) {
		t.Errorf("ranged download: %d bytes, differing", len(got))
	}
	props, err := bc.GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *props.ContentLength != int64(len(big)) || *props.BlobType != blob.BlobTypeBlockBlob || *props.ContentType != "application/x-test" ||
		*props.CacheControl != "max-age=60" || props.ETag == nil || props.LastModified == nil || *lower(props.Metadata)["origin"] != "test" {
		t.Errorf("properties: length %d type %s content type %s cache control %v metadata %v", *props.ContentLength, *props.BlobType, *props.ContentType, props.CacheControl, props.Metadata)
	}

	small := []byte("hello, blob")
	for _, n := range []string{"a/1", "a/2", "b/1", "c", "a/x/3"} {
		if _, err := c.UploadBuffer(ctx, "data", n, small, nil); err != nil {
			t.Fatalf("upload %s: %v", n, err)
		}
	}
	sp, err := c.ServiceClient().NewContainerClient("data").NewBlobClient("c").GetProperties(ctx, nil)
	if err != nil || len(sp.ContentMD5) != 16 {
		t.Errorf("a single-shot upload's Content-MD5: %v %x", err, sp.ContentMD5)
	}
	if _, err := c.UploadBuffer(ctx, "data", "c", small, &azblob.UploadBufferOptions{AccessConditions: &blob.AccessConditions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}}); !bloberror.HasCode(err, bloberror.BlobAlreadyExists) {
		t.Errorf("overwrite under If-None-Match *: %v, want 409 BlobAlreadyExists", err)
	}
	if _, err := c.DownloadStream(ctx, "data", "nope", nil); !bloberror.HasCode(err, bloberror.BlobNotFound) {
		t.Errorf("download of a missing blob: %v, want BlobNotFound", err)
	}
	if _, err := c.ServiceClient().NewContainerClient("data").NewBlobClient("c").SetMetadata(ctx, map[string]*string{"k": to.Ptr("v")}, nil); err != nil {
		t.Errorf("set metadata: %v", err)
	}

	// A delimiter folds names into prefixes.
	var names []string
	hp := c.ServiceClient().NewContainerClient("data").NewListBlobsHierarchyPager("/", &container.ListBlobsHierarchyOptions{Prefix: to.Ptr("a/")})
	for hp.More() {
		page, err := hp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Segment.BlobPrefixes {
			names = append(names, "prefix:"+*p.Name)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	if want := []string{"a/1", "a/2", "prefix:a/x/"}; !sameSet(names, want) {
		t.Errorf("list prefix a/ delimiter /: %v, want %v", names, want)
	}
	// Pages of two list everything once, in order, with metadata.
	names = nil
	pages := 0
	fp := c.NewListBlobsFlatPager("data", &azblob.ListBlobsFlatOptions{MaxResults: to.Ptr(int32(2)), Include: azblob.ListBlobsInclude{Metadata: true}})
	for fp.More() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
			if *b.Name == "c" && (b.Metadata["k"] == nil || *b.Metadata["k"] != "v") {
				t.Errorf("listed metadata of c: %v", b.Metadata)
			}
		}
	}
	if want := []string{"a/1", "a/2", "a/x/3", "b/1", "c", "dir/big.bin"}; !slices.Equal(names, want) || pages != 3 {
		t.Errorf("flat list in pages of 2: %v in %d pages, want %v in 3", names, pages, want)
	}

	// A regenerated key ends the old one's signatures.
	if code, _, b := s.Do(t, "POST", path+"/regenerateKey"+storageAPI, `{"keyName":"key1"}`, nil); code != http.StatusOK {
		t.Fatalf("regenerateKey: %d %s", code, b)
	}
	if _, err := c.DownloadStream(ctx, "data", "c", nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("download with the regenerated key: %v, want 403 AuthenticationFailed", err)
	}
	c2, _ := sharedKeyClient(t, s, "blobsk1", accountKey(t, s, path, 0))
	if got := download(t, c2, "data", "c", blob.HTTPRange{}); !bytes.Equal(got, small) {
		t.Errorf("download with the new key: %q", got)
	}
	k2, _ := sharedKeyClient(t, s, "blobsk1", accountKey(t, s, path, 1))
	if got := download(t, k2, "data", "c", blob.HTTPRange{}); !bytes.Equal(got, small) {
		t.Errorf("download with key2: %q", got)
	}

	// ARM deletes the container: its blobs and their files go with it.
	files := func() int {
		dirs, _ := filepath.Glob(filepath.Join(s.DataDir, "blobs-memory-*"))
		n := 0
		for _, d := range dirs {
			ents, _ := os.ReadDir(d)
			n += len(ents)
		}
		return n
	}
	if n := files(); n < 8 {
		t.Errorf("content files before the delete: %d, want at least 8", n)
	}
	if code, _, b := s.Do(t, "DELETE", ctrPath+storageAPI, "", nil); code >= 300 {
		t.Fatalf("ARM DELETE container: %d %s", code, b)
	}
	if n := files(); n != 0 {
		t.Errorf("content files after ARM deleted the container: %d, want 0", n)
	}
	if _, err := c2.DownloadStream(ctx, "data", "c", nil); !bloberror.HasCode(err, bloberror.ContainerNotFound) {
		t.Errorf("download after the container's delete: %v, want ContainerNotFound", err)
	}
	if _, err := c2.CreateContainer(ctx, "data", nil); err != nil {
		t.Fatalf("create the container again: %v", err)
	}
	if _, err := c2.DownloadStream(ctx, "data", "c", nil); !bloberror.HasCode(err, bloberror.BlobNotFound) {
		t.Errorf("a blob of the deleted container in the new one: %v, want BlobNotFound", err)
	}

	flows, _ := s.FlowRecords(t, "")
	n := 0
	for _, f := range flows {
		if f.Class == netmodel.StoragePublic && strings.HasSuffix(f.ResourceID, "/storageAccounts/blobsk1") {
			n++
			if f.Operation == "" {
				t.Errorf("a blob flow without its operation: %+v", f)
			}
		}
	}
	if n < 20 {
		t.Errorf("storage-public flow records of blobsk1: %d, want every request", n)
	}
}

func lower(md map[string]*string) map[string]*string {
	out := map[string]*string{}
	for k, v := range md {
		out[strings.ToLower(k)] = v
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestBlobSAS: service SAS (a container's, read and list) and account SAS
// made by azblob's own sas package are honoured for what they permit and
// refused with Storage's codes for what they do not: a write under a
// read-only SAS is 403 AuthorizationPermissionMismatch, an expired or not
// yet valid one and one with a bad signature 403 AuthenticationFailed.
func TestBlobSAS(t *testing.T) {
	t.Parallel()
	s, _, _, cred := startWithBlob(t, "blobsas", "x.txt", "sas")
	ctx := t.Context()
	now := time.Now().UTC()
	serviceSAS := func(perms sas.ContainerPermissions, start, expiry time.Time) string {
		qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPS, StartTime: start, ExpiryTime: expiry,
			Permissions: perms.String(), ContainerName: "data"}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		return "https://blobsas1.blob.core.windows.net/data?" + qp.Encode()
	}
	ctrClient := func(u string) *container.Client {
		cc, err := container.NewClientWithNoCredential(u, &container.ClientOptions{ClientOptions: blobOptions(t, s).ClientOptions})
		if err != nil {
			t.Fatal(err)
		}
		return cc
	}
	readList := ctrClient(serviceSAS(sas.ContainerPermissions{Read: true, List: true}, now.Add(-time.Minute), now.Add(time.Hour)))
	if page, err := readList.NewListBlobsFlatPager(nil).NextPage(ctx); err != nil || len(page.Segment.BlobItems) != 1 {
		t.Errorf("list with a read/list service SAS: %v", err)
	}
	if resp, err := readList.NewBlobClient("x.txt").DownloadStream(ctx, nil); err != nil {
		t.Errorf("download with a read/list service SAS: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "sas" {
			t.Errorf("downloaded %q", b)
		}
	}
	if _, err := readList.NewBlockBlobClient("y.txt").UploadBuffer(ctx, []byte("no"), nil); !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("upload with a read-only SAS: %v, want 403 AuthorizationPermissionMismatch", err)
	}
	expired := ctrClient(serviceSAS(sas.ContainerPermissions{Read: true}, now.Add(-2*time.Hour), now.Add(-time.Hour)))
	if _, err := expired.NewBlobClient("x.txt").GetProperties(ctx, nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("an expired SAS: %v, want 403 AuthenticationFailed", err)
	}
	future := ctrClient(serviceSAS(sas.ContainerPermissions{Read: true}, now.Add(time.Hour), now.Add(2*time.Hour)))
	if _, err := future.NewBlobClient("x.txt").GetProperties(ctx, nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("a SAS not yet valid: %v, want 403 AuthenticationFailed", err)
	}
	forged := strings.Replace(serviceSAS(sas.ContainerPermissions{Read: true}, now.Add(-time.Minute), now.Add(time.Hour)), "sp=r", "sp=rw", 1)
	if _, err := ctrClient(forged).NewBlockBlobClient("z").UploadBuffer(ctx, []byte("x"), nil); !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("a SAS whose permissions were widened: %v, want 403 AuthenticationFailed", err)
	}

	qp, err := sas.AccountSignatureValues{Protocol: sas.ProtocolHTTPS, ExpiryTime: now.Add(time.Hour),
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Create: true, List: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Service: true, Container: true, Object: true}).String()}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := azblob.NewClientWithNoCredential("https://blobsas1.blob.core.windows.net/?"+qp.Encode(), blobOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.CreateContainer(ctx, "bysas", nil); err != nil {
		t.Errorf("create a container with an account SAS: %v", err)
	}
	if _, err := ac.UploadBuffer(ctx, "bysas", "f", []byte("account sas"), nil); err != nil {
		t.Errorf("upload with an account SAS: %v", err)
	}
	if got := download(t, ac, "bysas", "f", blob.HTTPRange{}); string(got) != "account sas" {
		t.Errorf("download with an account SAS: %q", got)
	}
	if _, err := ac.DeleteBlob(ctx, "bysas", "f", nil); !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("delete with an account SAS without d: %v, want AuthorizationPermissionMismatch", err)
	}
	// The signatures, secrets, are not in the flow records.
	flows, body := s.FlowRecords(t, "")
	if strings.Contains(body, qp.Signature()) || strings.Contains(body, url.QueryEscape(qp.Signature())) {
		t.Errorf("a SAS signature is in the flow records")
	}
	n := 0
	for _, f := range flows {
		for _, q := range f.Metadata.Query {
			if q.Name == "sig" {
				n++
				if q.Value != "[REDACTED]" {
					t.Errorf("flow query %s=%s", q.Name, q.Value)
				}
			}
		}
	}
	if n == 0 {
		t.Errorf("no flow record names the sig parameter")
	}
}

// TestBlobOAuth: azblob with a token credential (a token for
// https://storage.azure.com from armlet's token service): a principal
// without a Storage Blob Data role is refused with 403
// AuthorizationPermissionMismatch; Storage Blob Data Contributor on the
// account lets it upload and download; Storage Blob Data Reader only
// read. No credential at all is 401 with Storage's challenge.
func TestBlobOAuth(t *testing.T) {
	t.Parallel()
	s, path, _, _ := startWithBlob(t, "bloboauth", "x", "oauth")
	ctx := t.Context()
	oauthClient := func(cred azcore.TokenCredential) *azblob.Client {
		c, err := azblob.NewClient("https://bloboauth1.blob.core.windows.net/", cred, blobOptions(t, s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	writer, wcred := s.NewPrincipal(t, "blobwriter")
	reader, rcred := s.NewPrincipal(t, "blobreader")
	wc, rc := oauthClient(wcred), oauthClient(rcred)
	if _, err := wc.DownloadStream(ctx, "data", "x", nil); !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("download without a role: %v, want 403 AuthorizationPermissionMismatch", err)
	}
	s.Assign(t, path, "Storage Blob Data Contributor", writer.ObjectID)
	s.Assign(t, path, "Storage Blob Data Reader", reader.ObjectID)
	if _, err := wc.UploadBuffer(ctx, "data", "y", []byte("written"), nil); err != nil {
		t.Errorf("upload as Storage Blob Data Contributor: %v", err)
	}
	if got := download(t, rc, "data", "y", blob.HTTPRange{}); string(got) != "written" {
		t.Errorf("download as Storage Blob Data Reader: %q", got)
	}
	if _, err := rc.UploadBuffer(ctx, "data", "z", []byte("no"), nil); !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("upload as Storage Blob Data Reader: %v, want 403 AuthorizationPermissionMismatch", err)
	}

	resp, err := proxiedClient(t, s).Get("https://bloboauth1.blob.core.windows.net/data/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "Bearer authorization_uri=" + strings.TrimSuffix(s.Conn.LoginEndpoint, "/") + "/" + s.Conn.TenantID + "/oauth2/authorize resource_id=https://storage.azure.com"
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want || resp.Header.Get("x-ms-error-code") != "NoAuthenticationInformation" {
		t.Errorf("anonymous GET: %d %q %q, want 401 with %q", resp.StatusCode, resp.Header.Get("x-ms-error-code"), resp.Header.Get("WWW-Authenticate"), want)
	}
}

// TestBlobAccountRules: an account with allowSharedKeyAccess false refuses
// Shared Key and SAS (403 KeyBasedAuthenticationNotPermitted); one with
// publicNetworkAccess Disabled, or a firewall that denies, refuses a
// request through the public proxy (403 AuthorizationFailure), with an
// XML error body and a storage-public flow record.
func TestBlobAccountRules(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	rg := s.CreateGroup(t, "blobrules")
	ctx := t.Context()
	_, key := blobAccount(t, s, rg, "blobnokey1", `"allowSharedKeyAccess":false`)
	c, cred := sharedKeyClient(t, s, "blobnokey1", key)
	if _, err := c.CreateContainer(ctx, "data", nil); !bloberror.HasCode(err, "KeyBasedAuthenticationNotPermitted") {
		t.Errorf("Shared Key on an account without key access: %v", err)
	}
	qp, err := sas.AccountSignatureValues{Protocol: sas.ProtocolHTTPS, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: "rl", ResourceTypes: "sco"}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	ac, _ := azblob.NewClientWithNoCredential("https://blobnokey1.blob.core.windows.net/?"+qp.Encode(), blobOptions(t, s))
	if _, err := ac.NewListContainersPager(nil).NextPage(ctx); !bloberror.HasCode(err, "KeyBasedAuthenticationNotPermitted") {
		t.Errorf("SAS on an account without key access: %v", err)
	}
	privatePath := ""
	for name, props := range map[string]string{
		"blobprivate1": `"publicNetworkAccess":"Disabled"`,
		"blobdenied1":  `"networkAcls":{"defaultAction":"Deny","bypass":"None"}`,
	} {
		path, key := blobAccount(t, s, rg, name, props)
		if name == "blobprivate1" {
			privatePath = path
		}
		c, _ := sharedKeyClient(t, s, name, key)
		_, err := c.CreateContainer(ctx, "data", nil)
		if !bloberror.HasCode(err, bloberror.AuthorizationFailure) {
			t.Errorf("%s through the public proxy: %v, want 403 AuthorizationFailure", name, err)
		}
	}
	resp, err := proxiedClient(t, s).Get("https://blobprivate1.blob.core.windows.net/data?restype=container")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(string(body), `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>This request is not authorized to perform this operation.`+"\nRequestId:") {
		t.Errorf("the refusal's body: %d %s", resp.StatusCode, body)
	}
	flows, _ := s.FlowRecords(t, "")
	refused := 0
	for _, f := range flows {
		if f.Class == netmodel.StoragePublic && strings.HasSuffix(f.ResourceID, "/storageAccounts/blobprivate1") && f.Status == http.StatusForbidden {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("refused storage-public flows of blobprivate1: %d, want 2", refused)
	}
	// The exposure report lists the account with what it exposed: refused
	// calls, whose advice is the private endpoint.
	exp := s.StorageExposure(t, privatePath)
	if exp.Settings == nil || exp.Settings.PublicNetworkAccess != "Disabled" || len(exp.Public) != 2 {
		t.Fatalf("exposure of blobprivate1: %+v", exp)
	}
	for _, p := range exp.Public {
		if p.Class != netmodel.StoragePublic || !slices.Equal(p.KeepPrivate, []string{report.KeepUsePrivateStorage}) {
			t.Errorf("exposed operation %+v", p)
		}
	}
}

// TestBlobContentSurvivesRestart: on the bbolt store, a blob uploaded
// before a restart downloads after it (its content is in the data dir).
func TestBlobContentSurvivesRestart(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	onDisk := func(c *config.Config) { c.InMemory = false; c.DataDir = dataDir }
	s := e2e.Start(t, e2e.WithConfig(onDisk))
	rg := s.CreateGroup(t, "blobrestart")
	_, key := blobAccount(t, s, rg, "blobrestart1", "")
	c, _ := sharedKeyClient(t, s, "blobrestart1", key)
	content := randomBytes(5<<20 + 7)
	if _, err := c.CreateContainer(t.Context(), "data", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadBuffer(t.Context(), "data", "kept", content, &azblob.UploadBufferOptions{BlockSize: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := e2e.Start(t, e2e.WithConfig(onDisk))
	c2, _ := sharedKeyClient(t, s2, "blobrestart1", key)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	resp, err := c2.DownloadStream(ctx, "data", "kept", nil)
	if err != nil {
		t.Fatalf("download after a restart: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, content) {
		t.Errorf("after a restart: %d bytes, differing", len(got))
	}
}

// patternReader yields n bytes of a repeating pattern without holding
// them.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// peakHeap runs f while sampling the heap and returns how far the heap
// rose above where it was before f.
func peakHeap(f func()) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := base
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	f()
	close(done)
	<-sampled
	return peak - base
}

// TestBlobMemoryDoesNotGrowWithSize: a 64 MiB Put Blob and its download,
// through the proxy over TLS, raise armlet's heap (the test's process)
// by far less than the blob: content streams to and from disk. Not
// parallel, so that no other test's allocations are counted.
func TestBlobMemoryDoesNotGrowWithSize(t *testing.T) {
	s := e2e.Start(t)
	rg := s.CreateGroup(t, "blobmem")
	_, key := blobAccount(t, s, rg, "blobmem1", "")
	c, cred := sharedKeyClient(t, s, "blobmem1", key)
	if _, err := c.CreateContainer(t.Context(), "data", nil); err != nil {
		t.Fatal(err)
	}
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPS, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: (&sas.BlobPermissions{Read: true, Write: true, Create: true}).String(), ContainerName: "data", BlobName: "big"}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	u := "https://blobmem1.blob.core.windows.net/data/big?" + qp.Encode()
	client := proxiedClient(t, s)
	const size = 64 << 20
	start := time.Now()
	up := peakHeap(func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, u, &patternReader{n: size})
		req.ContentLength = size
		req.Header.Set("x-ms-blob-type", "BlockBlob")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("Put Blob of 64 MiB: %d", resp.StatusCode)
		}
	})
	upTime := time.Since(start)
	var got int64
	start = time.Now()
	down := peakHeap(func() {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		got, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	t.Logf("a %d MiB blob: upload %v, heap rise %d KiB; download %v, heap rise %d KiB", size>>20, upTime.Round(time.Millisecond), up>>10, time.Since(start).Round(time.Millisecond), down>>10)
	if got != size {
		t.Errorf("downloaded %d bytes", got)
	}
	if up > 16<<20 || down > 16<<20 {
		t.Errorf("heap rose by %d MiB uploading and %d MiB downloading a 64 MiB blob; want under 16", up>>20, down>>20)
	}
}

// TestBlobOnEtcd: on the etcd store (shared by replicas) armlet keeps no
// blob content: azblob creates and lists containers, and an upload is
// refused with 501 NotImplemented naming the reason.
func TestBlobOnEtcd(t *testing.T) {
	cluster := etcdtest.Start(t)
	dataDir := t.TempDir()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
		c.InMemory, c.DataDir, c.Store, c.EtcdPrefix = false, dataDir, cluster.StoreURL(), cluster.Prefix+"blob/"
	}))
	rg := s.CreateGroup(t, "blobetcd")
	_, key := blobAccount(t, s, rg, "blobetcd1", "")
	c, _ := sharedKeyClient(t, s, "blobetcd1", key)
	if _, err := c.CreateContainer(t.Context(), "data", nil); err != nil {
		t.Fatalf("create a container on etcd: %v", err)
	}
	if page, err := c.NewListContainersPager(nil).NextPage(t.Context()); err != nil || len(page.ContainerItems) != 1 {
		t.Errorf("list containers on etcd: %v", err)
	}
	_, err := c.UploadBuffer(t.Context(), "data", "b", []byte("x"), nil)
	if !bloberror.HasCode(err, "NotImplemented") || !strings.Contains(err.Error(), "etcd") {
		t.Errorf("upload on etcd: %v, want 501 NotImplemented naming etcd", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "blobs")); !os.IsNotExist(err) {
		t.Errorf("a blobs directory in the data dir on etcd: %v", err)
	}
}
