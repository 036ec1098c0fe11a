package armhttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/blobapi"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/proxy"
)

// fakeBlobs is a blob service that reads the whole body and answers
// what it is told.
type fakeBlobs struct {
	read   int64
	resp   *engine.Response
	err    error
	target blobapi.Target
}

func (f *fakeBlobs) Serve(_ context.Context, _ string, r *http.Request) (*engine.Response, blobapi.Target, error) {
	f.read, _ = io.Copy(io.Discard, r.Body)
	return f.resp, f.target, f.err
}

// TestBlobRoute holds the front door's promises for the blob data plane:
// a request tunnelled to an account's blob host reaches the blob service
// with its body unread and not limited by MaxBodyBytes, and its flow
// record keeps none of it; a streamed answer is written with its own
// Cache-Control; every error (the service's, or the front door's own for
// a malformed query) is Storage's XML with x-ms-error-code, without a body
// for HEAD; a private target makes the record storage-private.
func TestBlobRoute(t *testing.T) {
	e, clk := testEngine(t, "00000000-0000-0000-0000-00000000000b")
	account := mustID(t, "/subscriptions/00000000-0000-0000-0000-00000000000b/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct1")
	blobs := &fakeBlobs{}
	flows := &flowList{}
	h := Handler(Options{Engine: e, Auth: anyCaller{}, Clock: clk, Blob: blobs, Flows: flows, MaxBodyBytes: 1 << 20})
	send := func(method, target string, body io.Reader) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "https://acct1.blob.core.windows.net"+target, body)
		r = r.WithContext(proxy.WithHost(r.Context(), "acct1.blob.core.windows.net"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const op = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"

	blobs.resp = &engine.Response{Status: http.StatusCreated}
	blobs.target = blobapi.Target{Account: account, Operation: op, Caller: engine.Caller{ObjectID: "u1"}}
	big := strings.Repeat("x", 3<<20)
	if w := send("PUT", "/ctr/b", strings.NewReader(big)); w.Code != http.StatusCreated || blobs.read != int64(len(big)) {
		t.Fatalf("a 3 MiB upload past a 1 MiB body limit: %d, the service read %d bytes", w.Code, blobs.read)
	}
	o := flows.obs[len(flows.obs)-1]
	if o.Service != netmodel.ServiceBlob || o.Class != netmodel.StoragePublic || len(o.Body) != 0 || o.Operation != op ||
		o.Resource.String() != account.String() || o.CallerObjectID != "u1" {
		t.Errorf("flow record %+v (body %d bytes)", o, len(o.Body))
	}

	blobs.resp = &engine.Response{Status: http.StatusOK, Header: http.Header{"Cache-Control": {"max-age=5"}},
		Body: engine.StreamBody{ContentType: "text/plain", Size: 5, Reader: io.NopCloser(strings.NewReader("hello"))}}
	blobs.target.Private = true
	w := send("GET", "/ctr/b", nil)
	if w.Code != http.StatusOK || w.Body.String() != "hello" || w.Header().Get("Content-Length") != "5" ||
		w.Header().Get("Content-Type") != "text/plain" || w.Header().Get("Cache-Control") != "max-age=5" {
		t.Errorf("streamed GET: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	if o := flows.obs[len(flows.obs)-1]; o.Class != netmodel.StoragePrivate {
		t.Errorf("a private target's class: %s", o.Class)
	}

	blobs.resp, blobs.err = nil, arm.Errorf(http.StatusForbidden, "AuthorizationFailure", "This request is not authorized to perform this operation.")
	for _, method := range []string{"GET", "HEAD"} {
		w := send(method, "/ctr/b", nil)
		body := w.Body.String()
		if w.Code != http.StatusForbidden || w.Header().Get("x-ms-error-code") != "AuthorizationFailure" || w.Header().Get("Content-Type") != "application/xml" ||
			(method == "GET") != strings.HasPrefix(body, `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code>`) ||
			(method == "GET" && !strings.Contains(body, "RequestId:"+w.Header().Get("x-ms-request-id"))) {
			t.Errorf("%s refused: %d %v %s", method, w.Code, w.Header(), body)
		}
	}
	if w := send("GET", "/ctr/b?comp=list&comp=x", nil); w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Body.String(), "<?xml") || w.Header().Get("x-ms-error-code") == "" {
		t.Errorf("a malformed query: %d %s", w.Code, w.Body.String())
	}
}
