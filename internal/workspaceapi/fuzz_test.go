package workspaceapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// FuzzResolveSpellings checks that a path and any re-spelling of it with
// unreserved characters percent-encoded resolve to the same target (the
// same workspace, resource and action) or are both refused: how a path is
// written never changes what is authorized.
func FuzzResolveSpellings(f *testing.F) {
	ws := wsPath + "ws1"
	for _, p := range []string{
		"/history/v1.0" + ws + "/experiments/e/runs/r",
		"/datastore/v1.0" + ws + "/datastores/d?includeSecret=true",
		"/artifact/v2.0" + ws + "/artifacts/ExperimentRun/dcid.r/content",
		"/metric/v2.0" + ws + "/runs/r/batchsync",
		"/modelmanagement/v1.0" + ws + "/models/m:1",
		"/discovery",
	} {
		f.Add("GET", p, uint64(0x5555555555555555))
		f.Add("POST", p, uint64(1))
	}
	h := newHarness(f)
	h.workspace(f, "ws1", "Enabled")
	resolve := func(method, path string) (*Target, error) {
		p, q, _ := strings.Cut(path, "?")
		query, err := url.ParseQuery(q)
		if err != nil {
			return nil, err
		}
		return h.s.Resolve(context.Background(), &Request{Method: method, Path: p, Query: query, Header: http.Header{}, BaseURL: baseURL})
	}
	f.Fuzz(func(t *testing.T, method, path string, mask uint64) {
		path, _, _ = strings.Cut(path, "?")
		var b strings.Builder
		inEscape := 0 // characters left of a %XX escape already in path
		for i := 0; i < len(path); i++ {
			c := path[i]
			unreserved := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
			if c == '%' {
				inEscape = 3
			}
			if inEscape > 0 {
				inEscape--
				b.WriteByte(c)
				continue
			}
			if unreserved && mask&(1<<(i%64)) != 0 {
				fmt.Fprintf(&b, "%%%02X", c)
				continue
			}
			b.WriteByte(c)
		}
		t1, err1 := resolve(method, path)
		t2, err2 := resolve(method, b.String())
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q: %v; re-spelt %q: %v", path, err1, b.String(), err2)
		}
		if err1 != nil {
			return
		}
		if !t1.Workspace.Equal(t2.Workspace) || !t1.Resource.Equal(t2.Resource) || t1.Action != t2.Action || t1.Open() != t2.Open() {
			t.Fatalf("%q resolves to %v %v %s; re-spelt %q to %v %v %s", path, t1.Workspace, t1.Resource, t1.Action, b.String(), t2.Workspace, t2.Resource, t2.Action)
		}
		if !t1.Open() && !strings.HasPrefix(t1.Action, TypeWorkspaces+"/") {
			t.Fatalf("%q: action %q", path, t1.Action)
		}
	})
}
