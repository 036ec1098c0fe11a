package blobapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	azsas "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

const (
	testAccount = "acct1"
	// Two keys of 64 bytes, in base64 as Azure gives them.
	testKey  = "bXlzZWNyZXRrZXkwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="
	otherKey = "b3RoZXJzZWNyZXQwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="
)

// recorder is an azcore transport that keeps the requests azblob sends
// (signed by its own Shared Key policy) and answers each with an empty
// success.
type recorder struct{ reqs []*http.Request }

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	clone := req.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	clone.ContentLength = int64(len(body))
	// As a server reads them off the wire: canonical names.
	clone.Header = http.Header{}
	for k, vs := range req.Header {
		for _, v := range vs {
			clone.Header.Add(k, v)
		}
	}
	r.reqs = append(r.reqs, clone)
	status := http.StatusOK
	if req.Method == http.MethodPut {
		status = http.StatusCreated
	}
	return &http.Response{Status: http.StatusText(status), StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// TestSharedKeyMatchesAzblob: the string-to-sign armlet builds gives the
// signature azblob's own Shared Key policy put on each of its requests
// (uploads with content headers and metadata whose names sort
// differently with and without hyphens, blocks, a block list, ranged
// downloads, lists with query parameters); another key's does not.
func TestSharedKeyMatchesAzblob(t *testing.T) {
	rec := &recorder{}
	cred, err := azblob.NewSharedKeyCredential(testAccount, testKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential("https://"+testAccount+".blob.core.windows.net/", cred,
		&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: rec, Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	md := map[string]*string{"a_b": to.Ptr("1"), "ab": to.Ptr("2"), "a": to.Ptr("3"), "Upper": to.Ptr("x y")}
	_, _ = c.CreateContainer(ctx, "data", &azblob.CreateContainerOptions{Metadata: md})
	_, _ = c.UploadBuffer(ctx, "data", "dir/a b+ü.txt", []byte("hello"), &azblob.UploadBufferOptions{Metadata: md,
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("text/plain"), BlobContentLanguage: to.Ptr("en")}})
	bb := c.ServiceClient().NewContainerClient("data").NewBlockBlobClient("big")
	_, _ = bb.StageBlock(ctx, "YmxvY2sx", streamOf("block"), nil)
	_, _ = bb.CommitBlockList(ctx, []string{"YmxvY2sx"}, &blockblob.CommitBlockListOptions{Metadata: md})
	_, _ = c.DownloadStream(ctx, "data", "big", &azblob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: 1, Count: 3}})
	_, _ = c.NewListBlobsFlatPager("data", &azblob.ListBlobsFlatOptions{Prefix: to.Ptr("dir/"), MaxResults: to.Ptr(int32(3))}).NextPage(ctx)
	_, _ = c.DeleteBlob(ctx, "data", "big", nil)
	if len(rec.reqs) < 7 {
		t.Fatalf("azblob sent %d requests", len(rec.reqs))
	}
	for _, r := range rec.reqs {
		authz := r.Header.Get("Authorization")
		if !strings.HasPrefix(authz, "SharedKey ") {
			t.Fatalf("%s %s: no Shared Key: %q", r.Method, r.URL, authz)
		}
		if err := checkSharedKey(testAccount, []string{otherKey, testKey}, authz, r); err != nil {
			t.Errorf("%s %s: azblob's signature is refused: %v\n%q", r.Method, r.URL, err, sharedKeyStringToSign(testAccount, r, false))
		}
		if err := checkSharedKey(testAccount, []string{otherKey}, authz, r); err == nil {
			t.Errorf("%s %s: accepted with another key", r.Method, r.URL)
		}
	}
}

// TestSASMatchesAzblob: the string-to-sign armlet builds for a SAS gives
// the signature azblob's sas package made, for service SAS of a
// container and of a blob and for an account SAS.
func TestSASMatchesAzblob(t *testing.T) {
	cred, err := azblob.NewSharedKeyCredential(testAccount, testKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var cases []struct {
		name, container, blob string
		qp                    azsas.QueryParameters
	}
	add := func(name, container, blob string, qp azsas.QueryParameters, err error) {
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name, container, blob string
			qp                    azsas.QueryParameters
		}{name, container, blob, qp})
	}
	qp, err := azsas.BlobSignatureValues{Protocol: azsas.ProtocolHTTPS, StartTime: now, ExpiryTime: now.Add(time.Hour),
		Permissions: (&azsas.ContainerPermissions{Read: true, List: true}).String(), ContainerName: "data"}.SignWithSharedKey(cred)
	add("container", "data", "", qp, err)
	qp, err = azsas.BlobSignatureValues{Protocol: azsas.ProtocolHTTPS, ExpiryTime: now.Add(time.Hour), ContentType: "text/plain",
		Permissions: (&azsas.BlobPermissions{Read: true, Write: true}).String(), ContainerName: "data", BlobName: "dir/a b+ü.txt"}.SignWithSharedKey(cred)
	add("blob", "data", "dir/a b+ü.txt", qp, err)
	qp, err = azsas.AccountSignatureValues{Protocol: azsas.ProtocolHTTPSandHTTP, StartTime: now, ExpiryTime: now.Add(time.Hour),
		Permissions:   (&azsas.AccountPermissions{Read: true, Write: true, List: true}).String(),
		ResourceTypes: (&azsas.AccountResourceTypes{Service: true, Container: true, Object: true}).String()}.SignWithSharedKey(cred)
	add("account", "data", "x", qp, err)
	for _, c := range cases {
		q, err := url.ParseQuery(c.qp.Encode())
		if err != nil {
			t.Fatal(err)
		}
		s, ok, err := parseSAS(q)
		if !ok || err != nil {
			t.Fatalf("%s: parse %v %v", c.name, ok, err)
		}
		got, _ := sign(testKey, s.stringToSign(testAccount, c.container, c.blob))
		if got != c.qp.Signature() {
			t.Errorf("%s SAS (sv %s): signature %s, azblob's %s; string to sign %q", c.name, s.version, got, c.qp.Signature(), s.stringToSign(testAccount, c.container, c.blob))
		}
	}
}

type readSeekCloser struct{ *bytes.Reader }

func (readSeekCloser) Close() error { return nil }

func streamOf(s string) readSeekCloser { return readSeekCloser{bytes.NewReader([]byte(s))} }
