package workspaceapi

import (
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/netmodel"
)

// FuzzServe sends arbitrary methods, paths, queries and bodies: the
// service must never panic nor answer a 5xx.
func FuzzServe(f *testing.F) {
	ws := wsPath + "ws1"
	for _, seed := range []struct{ method, path, body string }{
		{"GET", "/discovery", ""},
		{"GET", "/discovery/workspaces/x", ""},
		{"PATCH", "/history/v1.0" + ws + "/experiments/e/runs/r?x=1", `{"status":"Running","tags":{"a":"b"},"properties":{"p":"q"},"startTimeUtc":"2024-01-01T00:00:00Z"}`},
		{"PUT", "/history/v1.0" + ws + "/experiments/e", `{"description":null,"tags":null}`},
		{"GET", "/history/v1.0" + ws + "/experimentids/abc/runs/r/details", ""},
		{"POST", "/datastore/v1.0" + ws + "/datastores", `{"name":"d","dataStoreType":"AzureBlob","azureStorageSection":{"accountName":"a","containerName":"c"}}`},
		{"PUT", "/datastore/v1.0" + ws + "/default", `{"name":"d"}`},
		{"POST", "/modelmanagement/v1.0" + ws + "/models", `{"name":"m","kvTags":{"a":"b"}}`},
		{"GET", "/modelmanagement/v1.0" + ws + "/models/m:1", ""},
		{"POST", "/metric/v2.0" + ws + "/runs/r/batchsync", `{"values":[{"name":"n","value":[{"data":{"n":1}}]}]}`},
		{"POST", "/artifact/v2.0" + ws + "/artifacts/o/c/batch/metadata", `{"paths":[{"path":"p"}]}`},
		{"POST", "/artifact/v2.0" + ws + "/artifacts/o/c/content?path=a%2Fb", "data"},
		{"POST", "/artifact/v2.0" + ws + "/artifacts/batch/metadata", `{"artifactIds":["o/c/p"]}`},
		{"GET", "/history/v1.0/subscriptions/%00/resourceGroups/rg/providers/x/workspaces/y", ""},
	} {
		f.Add(seed.method, seed.path, seed.body, false)
	}
	h := newHarness(f)
	closed := h.workspace(f, "ws1", "Enabled")
	f.Fuzz(func(t *testing.T, method, path, body string, private bool) {
		origin := netmodel.Origin{}
		if private {
			origin = privateTo(closed)
		}
		resp, err := h.serve(method, path, body, origin)
		if err != nil {
			ae, ok := arm.AsError(err)
			if !ok {
				t.Fatalf("%s %q: non-ARM error %v", method, path, err)
			}
			if ae.Status >= 500 || ae.Status < 400 {
				t.Fatalf("%s %q: error status %d %v", method, path, ae.Status, ae)
			}
			return
		}
		if resp.Status >= 500 || resp.Status < 200 {
			t.Fatalf("%s %q: status %d", method, path, resp.Status)
		}
		if resp.Status == http.StatusOK && resp.Body != nil {
			toJSON(t, resp.Body)
		}
	})
}
