package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

const sub = "00000000-0000-0000-0000-00000000aaaa"

// widgets is a minimal tracked test type with an asynchronous PUT and
// DELETE and a child type, so the engine is tested without any provider.
type widgetStrategy struct{}

func (widgetStrategy) Validate(_ context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	if v, ok := desired.Properties["size"]; ok {
		if _, isNum := v.(json.Number); !isNum {
			return arm.InvalidContent("properties.size", "The value of 'properties.size' must be a number.")
		}
	}
	return nil
}

type harness struct {
	t   testing.TB
	e   *engine.Engine
	clk *clock.Offset
	st  kv.Store // the engine's store, whole
}

func newHarness(t testing.TB) *harness {
	clk := clock.NewOffset(0)
	reg := engine.NewRegistry()
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets", APIVersions: []string{"2024-01-01"}, Tracked: true,
		Put: engine.AsyncOperation, Delete: engine.Location, Strategy: widgetStrategy{}})
	reg.Register(&engine.Type{Name: "Test.Widgets/widgets/parts", APIVersions: []string{"2024-01-01"},
		Put: engine.Sync, Delete: engine.Sync, Strategy: widgetStrategy{}})
	st := memkv.New()
	e := engine.New(engine.Options{Store: st, Clock: clk, Registry: reg, OperationDuration: time.Second})
	if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, e: e, clk: clk, st: st}
}

// call serves one request and returns status, headers and decoded body
// (errors rendered as ARM would, with their status).
func (h *harness) call(method, path, apiVersion, body string, hdr map[string]string) (int, http.Header, map[string]any) {
	h.t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		h.t.Fatal(err)
	}
	q := u.Query()
	if apiVersion != "" {
		q.Set("api-version", apiVersion)
	}
	apiVersion = q.Get("api-version")
	req := &engine.Request{Method: method, Path: u.EscapedPath(), Query: q, APIVersion: apiVersion, Body: []byte(body),
		Header: http.Header{}, BaseURL: "https://armlet.test", Now: h.clk.Now(), Caller: engine.Caller{AppID: "app", ObjectID: "oid"}}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.e.Serve(context.Background(), req)
	if err != nil {
		ae, ok := arm.AsError(err)
		if !ok {
			h.t.Fatalf("%s %s: internal error %v", method, path, err)
		}
		return ae.Status, ae.Header, map[string]any{"error": map[string]any{"code": ae.Code, "message": ae.Message, "target": ae.Target}}
	}
	var out map[string]any
	if resp.Body != nil {
		b, _ := json.Marshal(resp.Body)
		_ = json.Unmarshal(b, &out)
	}
	return resp.Status, resp.Header, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

const rg = "/subscriptions/" + sub + "/resourceGroups/rg1"
const widget = rg + "/providers/Test.Widgets/widgets/w1"

func (h *harness) mustRG() {
	h.t.Helper()
	if st, _, b := h.call("PUT", rg, "2021-04-01", `{"location":"East US"}`, nil); st != 201 {
		h.t.Fatalf("create rg: %d %v", st, b)
	}
}

func TestErrors(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	tests := []struct {
		name, method, path, version, body string
		hdr                               map[string]string
		wantStatus                        int
		wantCode                          string
	}{
		{"missing api-version", "GET", rg, "", "", nil, 400, "MissingApiVersionParameter"},
		{"bad core api-version", "GET", rg, "2099-01-01", "", nil, 400, "InvalidApiVersionParameter"},
		{"malformed api-version", "GET", widget, "yesterday", "", nil, 400, "InvalidApiVersionParameter"},
		{"bad rp api-version", "GET", widget, "2020-01-01", "", nil, 400, "NoRegisteredProviderFound"},
		{"unknown namespace", "GET", rg + "/providers/No.Such/things/x", "2020-01-01", "", nil, 400, "InvalidResourceNamespace"},
		{"unknown type", "GET", rg + "/providers/Test.Widgets/gadgets/x", "2024-01-01", "", nil, 400, "InvalidResourceType"},
		{"missing subscription", "GET", "/subscriptions/nope/resourceGroups/rg1", "2021-04-01", "", nil, 404, "SubscriptionNotFound"},
		{"missing group", "GET", "/subscriptions/" + sub + "/resourceGroups/nope/providers/Test.Widgets/widgets/w", "2024-01-01", "", nil, 404, "ResourceGroupNotFound"},
		{"delete missing group", "DELETE", "/subscriptions/" + sub + "/resourceGroups/nope", "2021-04-01", "", nil, 404, "ResourceGroupNotFound"},
		{"missing resource", "GET", widget, "2024-01-01", "", nil, 404, "ResourceNotFound"},
		{"missing parent", "PUT", widget + "/parts/p1", "2024-01-01", `{}`, nil, 404, "ParentResourceNotFound"},
		{"no body", "PUT", widget, "2024-01-01", "", nil, 400, "InvalidRequestContent"},
		{"bad json", "PUT", widget, "2024-01-01", `{"location":`, nil, 400, "InvalidRequestContent"},
		{"array body", "PUT", widget, "2024-01-01", `[1]`, nil, 400, "InvalidRequestContent"},
		{"trailing json", "PUT", widget, "2024-01-01", `{"location":"eastus"} {}`, nil, 400, "InvalidRequestContent"},
		{"no location", "PUT", widget, "2024-01-01", `{}`, nil, 400, "LocationRequired"},
		{"bad location", "PUT", widget, "2024-01-01", `{"location":"mars"}`, nil, 400, "LocationNotAvailableForResourceType"},
		{"location not string", "PUT", widget, "2024-01-01", `{"location":7}`, nil, 400, "InvalidRequestContent"},
		{"unknown member", "PUT", widget, "2024-01-01", `{"location":"eastus","colour":"red"}`, nil, 400, "InvalidRequestContent"},
		{"properties not object", "PUT", widget, "2024-01-01", `{"location":"eastus","properties":[]}`, nil, 400, "InvalidRequestContent"},
		{"tags not object", "PUT", widget, "2024-01-01", `{"location":"eastus","tags":"x"}`, nil, 400, "InvalidRequestContent"},
		{"tag value not string", "PUT", widget, "2024-01-01", `{"location":"eastus","tags":{"a":1}}`, nil, 400, "InvalidRequestContent"},
		{"tag name bad chars", "PUT", widget, "2024-01-01", `{"location":"eastus","tags":{"a/b":"x"}}`, nil, 400, "InvalidTagNameCharacters"},
		{"tag value too long", "PUT", widget, "2024-01-01", `{"location":"eastus","tags":{"a":"` + strings.Repeat("x", 257) + `"}}`, nil, 400, "InvalidTagValueLength"},
		{"too many tags", "PUT", widget, "2024-01-01", `{"location":"eastus","tags":{` + manyTags(51) + `}}`, nil, 400, "InvalidTagsCount"},
		{"strategy refuses", "PUT", widget, "2024-01-01", `{"location":"eastus","properties":{"size":"big"}}`, nil, 400, "InvalidRequestContent"},
		{"bad name chars", "PUT", rg + "/providers/Test.Widgets/widgets/a%3Cb", "2024-01-01", `{"location":"eastus"}`, nil, 400, "InvalidResourceName"},
		{"bad group name", "PUT", "/subscriptions/" + sub + "/resourceGroups/bad!name", "2021-04-01", `{"location":"eastus"}`, nil, 400, "InvalidResourceName"},
		{"if-match on missing", "PUT", widget, "2024-01-01", `{"location":"eastus"}`, map[string]string{"If-Match": `"abc"`}, 412, "PreconditionFailed"},
		{"patch missing", "PATCH", widget, "2024-01-01", `{}`, nil, 404, "ResourceNotFound"},
		{"method not allowed", "POST", widget, "2024-01-01", "", nil, 405, "MethodNotAllowed"},
		{"bad path", "GET", "/subscriptions//resourceGroups", "2021-04-01", "", nil, 400, "InvalidRequestUri"},
		{"dot segment", "GET", "/subscriptions/" + sub + "/resourceGroups/..", "2021-04-01", "", nil, 400, "InvalidRequestUri"},
		{"bad top", "GET", rg + "/providers/Test.Widgets/widgets?$top=-1", "2024-01-01", "", nil, 400, "InvalidTopInQueryString"},
		{"bad skiptoken", "GET", rg + "/providers/Test.Widgets/widgets?$skipToken=!!", "2024-01-01", "", nil, 400, "InvalidSkipToken"},
		{"bad filter", "GET", rg + "/resources?$filter=drop table", "2021-04-01", "", nil, 400, "InvalidFilterInQueryString"},
		{"unknown operation", "GET", "/subscriptions/" + sub + "/providers/Test.Widgets/locations/eastus/operationStatuses/nope", "2024-01-01", "", nil, 404, "OperationNotFound"},
		{"root", "GET", "/", "2021-04-01", "", nil, 404, "InvalidRequestUri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			st, _, body := h.call(tt.method, tt.path, tt.version, tt.body, tt.hdr)
			if st != tt.wantStatus || errCode(body) != tt.wantCode {
				t.Errorf("%s %s = %d %v, want %d %s", tt.method, tt.path, st, body, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

// TestUnknownAPIVersionHint: a well-formed api-version armlet does not know
// may be one Azure serves, so its refusal names --lenient-api-versions; a
// malformed one cannot be, so its refusal does not.
func TestUnknownAPIVersionHint(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	tests := []struct {
		name, path, version string
		wantHint            bool
	}{
		{"unknown preview of a provider type", widget, "2022-10-01-preview", true},
		{"unknown stable of a provider type", widget, "2020-01-01", true},
		{"unknown core version", rg, "2099-01-01", true},
		{"malformed", widget, "yesterday", false},
		{"malformed preview", widget, "2022-10-01-previewx", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			st, _, body := h.call("GET", tt.path, tt.version, "", nil)
			msg, _ := body["error"].(map[string]any)["message"].(string)
			if st != 400 || strings.Contains(msg, "--lenient-api-versions") != tt.wantHint {
				t.Errorf("api-version %s: %d %q, want the hint: %v", tt.version, st, msg, tt.wantHint)
			}
		})
	}
}

func manyTags(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"t%d":"v"`, i)
	}
	return strings.Join(parts, ",")
}

func TestAsyncPutAndETags(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	st, hdr, body := h.call("PUT", widget, "2024-01-01", `{"location":"eastus","properties":{"size":3}}`, nil)
	if st != 201 || hdr.Get("Azure-AsyncOperation") == "" || hdr.Get("Retry-After") != "1" {
		t.Fatalf("async PUT = %d %v %v", st, hdr, body)
	}
	if got := body["properties"].(map[string]any)["provisioningState"]; got != "Creating" {
		t.Errorf("provisioningState right after PUT = %v, want Creating", got)
	}
	opURL, _ := url.Parse(hdr.Get("Azure-AsyncOperation"))
	st, opHdr, op := h.call("GET", opURL.Path, "2024-01-01", "", nil)
	if st != 200 || op["status"] != "InProgress" || opHdr.Get("Retry-After") != "1" {
		t.Errorf("operation status = %d %v (Retry-After %q), want InProgress with Retry-After 1", st, op, opHdr.Get("Retry-After"))
	}
	h.clk.Advance(2 * time.Second)
	if _, opHdr, op = h.call("GET", opURL.Path, "2024-01-01", "", nil); op["status"] != "Succeeded" || opHdr.Get("Retry-After") != "" {
		t.Errorf("operation status after the clock moved = %v (Retry-After %q), want Succeeded without Retry-After", op, opHdr.Get("Retry-After"))
	}
	st, hdr, body = h.call("GET", strings.ToUpper(widget), "2024-01-01", "", nil)
	if st != 200 || body["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Fatalf("GET = %d %v", st, body)
	}
	if body["id"] != widget {
		t.Errorf("id = %v, want the creation casing %s", body["id"], widget)
	}
	etag := hdr.Get("ETag")
	// A stale If-Match is refused; the current one is accepted; If-None-Match * refuses an existing resource.
	if st, _, _ := h.call("PATCH", widget, "2024-01-01", `{"tags":{"a":"b"}}`, map[string]string{"If-Match": `"0000000000000001"`}); st != 412 {
		t.Errorf("PATCH with stale If-Match = %d, want 412", st)
	}
	st, hdr2, body := h.call("PATCH", widget, "2024-01-01", `{"tags":{"a":"b"},"properties":{"colour":"red"}}`, map[string]string{"If-Match": etag})
	if st != 200 || hdr2.Get("ETag") == etag {
		t.Fatalf("PATCH with current If-Match = %d %v (etag %s -> %s)", st, body, etag, hdr2.Get("ETag"))
	}
	if p := body["properties"].(map[string]any); p["size"] != float64(3) || p["colour"] != "red" {
		t.Errorf("PATCH must merge properties: %v", p)
	}
	if st, _, _ := h.call("PUT", widget, "2024-01-01", `{"location":"eastus"}`, map[string]string{"If-None-Match": "*"}); st != 412 {
		t.Errorf("PUT If-None-Match * on existing = %d, want 412", st)
	}
	if st, _, b := h.call("PUT", widget, "2024-01-01", `{"location":"westus"}`, nil); st != 409 || errCode(b) != "InvalidResourceLocation" {
		t.Errorf("moving location = %d %v, want 409 InvalidResourceLocation", st, b)
	}
}

func TestPagingAndLists(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	for i := range 25 {
		path := fmt.Sprintf("%s/providers/Test.Widgets/widgets/w%02d", rg, i)
		if st, _, b := h.call("PUT", path, "2024-01-01", `{"location":"eastus"}`, nil); st != 201 {
			t.Fatalf("PUT %s: %d %v", path, st, b)
		}
	}
	for _, list := range []string{
		rg + "/providers/Test.Widgets/widgets?api-version=2024-01-01",
		"/subscriptions/" + sub + "/providers/Test.Widgets/widgets?api-version=2024-01-01",
		rg + "/resources?api-version=2021-04-01",
		"/subscriptions/" + sub + "/resources?api-version=2021-04-01",
	} {
		seen := map[string]bool{}
		next := list + "&$top=7"
		pages := 0
		for next != "" {
			u, _ := url.Parse(next)
			st, _, body := h.call("GET", u.Path+"?"+u.RawQuery, "", "", nil)
			if st != 200 {
				t.Fatalf("list %s: %d %v", next, st, body)
			}
			for _, v := range body["value"].([]any) {
				name := v.(map[string]any)["name"].(string)
				if seen[name] {
					t.Fatalf("%s: %s listed twice", list, name)
				}
				seen[name] = true
			}
			next, _ = body["nextLink"].(string)
			pages++
		}
		if len(seen) != 25 || pages != 4 {
			t.Errorf("%s: %d items in %d pages, want 25 in 4", list, len(seen), pages)
		}
	}
	_, _, body := h.call("GET", rg+"/resources?$filter="+url.QueryEscape("name eq 'w03'"), "2021-04-01", "", nil)
	if n := len(body["value"].([]any)); n != 1 {
		t.Errorf("filtered list has %d items, want 1", n)
	}
}

func TestGroupDeleteCascades(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	h.call("PUT", widget, "2024-01-01", `{"location":"eastus"}`, nil)
	if st, _, b := h.call("PUT", widget+"/parts/p1", "2024-01-01", `{}`, nil); st != 201 {
		t.Fatalf("PUT part: %d %v", st, b)
	}
	st, hdr, _ := h.call("DELETE", rg, "2021-04-01", "", nil)
	if st != 202 || hdr.Get("Location") == "" {
		t.Fatalf("DELETE group = %d, want 202 with Location", st)
	}
	loc, _ := url.Parse(hdr.Get("Location"))
	if st, _, _ := h.call("GET", loc.Path, "2021-04-01", "", nil); st != 202 {
		t.Errorf("polling while deleting = %d, want 202", st)
	}
	_, _, body := h.call("GET", rg, "2021-04-01", "", nil)
	if body["properties"].(map[string]any)["provisioningState"] != "Deleting" {
		t.Errorf("group during delete: %v", body)
	}
	if st, _, b := h.call("PUT", rg+"/providers/Test.Widgets/widgets/w2", "2024-01-01", `{"location":"eastus"}`, nil); st != 409 || errCode(b) != "ResourceGroupBeingDeleted" {
		t.Errorf("PUT into a deleting group = %d %v", st, b)
	}
	h.clk.Advance(2 * time.Second)
	if st, _, _ := h.call("GET", loc.Path, "2021-04-01", "", nil); st != 204 {
		t.Errorf("polling after delete = %d, want 204", st)
	}
	if err := h.e.ReapDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.mustRG()
	if st, _, _ := h.call("GET", widget+"/parts/p1", "2024-01-01", "", nil); st != 404 {
		t.Errorf("a child survived its group's delete: %d", st)
	}
	if st, _, _ := h.call("DELETE", widget, "2024-01-01", "", nil); st != 204 {
		t.Errorf("DELETE of a missing resource = %d, want 204", st)
	}
}

// FuzzDecodeRequest sends arbitrary paths and bodies through the engine:
// every answer must be a response or an *arm.Error below 500, never a
// panic or an internal error.
func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"PUT", widget, `{"location":"eastus","tags":{"a":"b"},"properties":{"size":1}}`},
		{"PATCH", widget, `{"properties":{"size":null},"tags":{}}`},
		{"PUT", rg, `{"location":"westus","managedBy":"x"}`},
		{"GET", rg + "/resources?$filter=tagName eq 'a' and tagValue eq 'b'", ""},
		{"PUT", widget + "/parts/p", `{"properties":{}}`},
		{"POST", widget + "/listKeys", `{}`},
		{"DELETE", widget, ""},
		{"PUT", widget, `{"location":"eastus","properties":{"a":[1,{"b":null}]}}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	h := newHarness(f)
	h.mustRG()
	f.Fuzz(func(t *testing.T, method, path, body string) {
		u, err := url.Parse(path)
		if err != nil || !strings.HasPrefix(u.EscapedPath(), "/") {
			return
		}
		req := &engine.Request{Method: method, Path: u.EscapedPath(), Query: u.Query(), Body: []byte(body),
			Header: http.Header{}, BaseURL: "https://armlet.test", Now: h.clk.Now()}
		req.APIVersion = req.QueryValue("api-version")
		if req.APIVersion == "" {
			req.APIVersion = "2024-01-01"
		}
		resp, err := h.e.Serve(context.Background(), req)
		if err != nil {
			ae, ok := arm.AsError(err)
			if !ok || ae.Status >= 500 || ae.Status < 400 {
				t.Fatalf("%s %s %q: %v", method, path, body, err)
			}
			return
		}
		if resp.Status >= 500 {
			t.Fatalf("%s %s: status %d", method, path, resp.Status)
		}
		if _, err := json.Marshal(resp.Body); err != nil {
			t.Fatalf("%s %s: unmarshallable body: %v", method, path, err)
		}
	})
}

// TestLocationPut: a request that asks for it gets the Location style of
// a type whose PUT answers with Azure-AsyncOperation, and the poller it
// implies ends with the resource.
func TestLocationPut(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	req := &engine.Request{Method: "PUT", Path: widget, APIVersion: "2024-01-01", Query: url.Values{"api-version": {"2024-01-01"}},
		Body: []byte(`{"location":"eastus","properties":{"size":3}}`), Header: http.Header{}, BaseURL: "https://armlet.test",
		Now: h.clk.Now(), Caller: engine.Caller{AppID: "app", ObjectID: "oid"}, LocationPut: true}
	resp, err := h.e.Serve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" || resp.Header.Get("Azure-AsyncOperation") != "" {
		t.Fatalf("PUT asking for the Location style = %d %v", resp.Status, resp.Header)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if st, _, _ := h.call("GET", loc.Path, "2024-01-01", "", nil); st != http.StatusAccepted {
		t.Errorf("Location while running = %d, want 202", st)
	}
	h.clk.Advance(2 * time.Second)
	if st, _, body := h.call("GET", loc.Path, "2024-01-01", "", nil); st != http.StatusOK || body["id"] != widget {
		t.Errorf("Location once done = %d %v, want 200 with the widget", st, body)
	}
	// Without it, the type's own style.
	if st, hdr, _ := h.call("PUT", rg+"/providers/Test.Widgets/widgets/w2", "2024-01-01", `{"location":"eastus"}`, nil); st != 201 || hdr.Get("Azure-AsyncOperation") == "" {
		t.Errorf("PUT = %d %v, want 201 with Azure-AsyncOperation", st, hdr)
	}
}

// TestPageSizes holds the README's limits on pages: 100 items by default,
// $top up to 1000 (a larger $top gives pages of 1000), the rest behind
// nextLink.
func TestPageSizes(t *testing.T) {
	h := newHarness(t)
	h.mustRG()
	const made = 1003
	for i := range made {
		path := fmt.Sprintf("%s/providers/Test.Widgets/widgets/w%04d", rg, i)
		if st, _, b := h.call("PUT", path, "2024-01-01", `{"location":"eastus"}`, nil); st != 201 {
			t.Fatalf("PUT %s: %d %v", path, st, b)
		}
	}
	list := rg + "/providers/Test.Widgets/widgets"
	for _, tc := range []struct {
		top  string
		want int
	}{{"", 100}, {"1000", 1000}, {"5000", 1000}, {"7", 7}} {
		query := ""
		if tc.top != "" {
			query = "?$top=" + tc.top
		}
		st, _, body := h.call("GET", list+query, "2024-01-01", "", nil)
		if st != 200 {
			t.Fatalf("$top %q: %d %v", tc.top, st, body)
		}
		next, _ := body["nextLink"].(string)
		if n := len(body["value"].([]any)); n != tc.want || next == "" {
			t.Errorf("$top %q: a first page of %d items (nextLink %q), want %d and a nextLink", tc.top, n, next, tc.want)
		}
	}
}
