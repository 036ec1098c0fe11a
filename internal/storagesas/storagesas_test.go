package storagesas_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	azsas "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/armlet/armlet/internal/storagesas"
)

const (
	account = "acct1"
	key     = "bXlzZWNyZXRrZXkwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="
)

// TestSignServiceMatchesAzblob: the query SignService makes carries the
// fields and the signature azblob's own service SAS signer gives for the
// same container or blob, permissions, expiry and version; a key that
// does not decode signs nothing.
func TestSignServiceMatchesAzblob(t *testing.T) {
	cred, err := azblob.NewSharedKeyCredential(account, key)
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name, container, blob, sr, sp string
	}{
		{"container", "azureml-blobstore-1", "", "c", "rcwl"},
		{"blob", "reg-models", "LocalUpload/abc/model.pkl", "b", "r"},
		{"blob with spaces and unicode", "data", "dir/a b+ü.txt", "b", "r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := storagesas.SignService(key, account, tc.container, tc.blob, tc.sr, tc.sp, expiry)
			if !ok {
				t.Fatal("SignService refused a good key")
			}
			want, err := azsas.BlobSignatureValues{
				Version: storagesas.Version, Protocol: azsas.ProtocolHTTPS, ExpiryTime: expiry, Permissions: tc.sp,
				ContainerName: tc.container, BlobName: tc.blob,
			}.SignWithSharedKey(cred)
			if err != nil {
				t.Fatal(err)
			}
			q, err := url.ParseQuery(got)
			if err != nil {
				t.Fatal(err)
			}
			if q.Get("sig") != want.Signature() || q.Get("sr") != want.Resource() || q.Get("sp") != want.Permissions() ||
				q.Get("sv") != want.Version() || q.Get("spr") != string(want.Protocol()) || q.Get("se") != expiry.Format(time.RFC3339) {
				t.Errorf("SignService = %s, azblob signs %s", got, want.Encode())
			}
		})
	}
	if q, ok := storagesas.SignService("not base64!", account, "c", "", "c", "r", expiry); ok || q != "" {
		t.Errorf("a key that does not decode signed %q", q)
	}
}
