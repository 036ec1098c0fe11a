package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// readCounting counts the reads made of a store, and the values read
// (Get, and each entry of a Scan; a ScanKeys reads none).
type readCounting struct {
	kv.Store
	reads  atomic.Int64
	values atomic.Int64
}

func (s *readCounting) Get(ctx context.Context, key []byte) (kv.Entry, error) {
	s.reads.Add(1)
	s.values.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *readCounting) Scan(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	s.reads.Add(1)
	ents, err := s.Store.Scan(ctx, prefix, after, limit)
	s.values.Add(int64(len(ents)))
	return ents, err
}

func (s *readCounting) ScanKeys(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	s.reads.Add(1)
	return kv.ScanKeys(ctx, s.Store, prefix, after, limit)
}

// stampStrategy renders a count of its renders into each body; with
// stable set it lets the engine keep bodies until stableUntil.
type stampStrategy struct {
	widgetStrategy
	renders     *atomic.Int64
	stable      bool
	stableUntil time.Time
}

func (s stampStrategy) Render(_ context.Context, _ *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	body["properties"].(map[string]any)["renders"] = s.renders.Add(1)
	return nil
}

type stableStampStrategy struct{ stampStrategy }

// baseStrategy renders the base URL of the request it serves
// (engine.BaseURLFrom) into each body, and lets the engine keep them.
type baseStrategy struct{ widgetStrategy }

func (baseStrategy) Render(ctx context.Context, _ *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	body["properties"].(map[string]any)["base"] = engine.BaseURLFrom(ctx)
	return nil
}

func (baseStrategy) RenderStableUntil(context.Context, *engine.Resource, time.Time) (time.Time, bool) {
	return time.Time{}, true
}

func (s stableStampStrategy) RenderStableUntil(context.Context, *engine.Resource, time.Time) (time.Time, bool) {
	return s.stableUntil, true
}

// gateCounting counts its gate checks and refuses while *refuse is set
// (a verdict that depends on something else than the stored parent, as
// v1LegacyMode's depends on the request's time).
type gateCounting struct {
	widgetStrategy
	checks *atomic.Int64
	refuse *atomic.Bool
}

func (g gateCounting) GateChild(context.Context, *engine.Request, *engine.Resource, string) error {
	g.checks.Add(1)
	if g.refuse.Load() {
		return arm.BadRequest("Refused", "refused")
	}
	return nil
}

type renderedHarness struct {
	*harness
	store          *readCounting
	renders        atomic.Int64
	gateChecks     atomic.Int64
	refuse         atomic.Bool
	stableUntilFor time.Time
}

func newRenderedHarness(t *testing.T, cacheBytes int) *renderedHarness {
	rh := &renderedHarness{store: &readCounting{Store: memkv.New()}}
	clk := clock.NewOffset(0)
	rh.stableUntilFor = clk.Now().Add(time.Hour)
	reg := engine.NewRegistry()
	for _, typ := range []*engine.Type{
		{Name: "Test.Cache/plain", Tracked: true, Put: engine.AsyncOperation, Delete: engine.Location, Strategy: widgetStrategy{}},
		{Name: "Test.Cache/plain/parts", Strategy: widgetStrategy{}},
		{Name: "Test.Cache/stamped", Strategy: stampStrategy{renders: &rh.renders}},
		{Name: "Test.Cache/stable", Strategy: stableStampStrategy{stampStrategy{renders: &rh.renders, stableUntil: rh.stableUntilFor}}},
		{Name: "Test.Cache/based", Strategy: baseStrategy{}},
		{Name: "Test.Cache/gated", Strategy: gateCounting{checks: &rh.gateChecks, refuse: &rh.refuse}},
		{Name: "Test.Cache/gated/parts", Strategy: widgetStrategy{}},
	} {
		typ.APIVersions = []string{"2024-01-01", "2024-06-01"}
		reg.Register(typ)
	}
	e := engine.New(engine.Options{Store: rh.store, Clock: clk, Registry: reg, OperationDuration: time.Second, RenderCacheBytes: cacheBytes})
	if err := e.EnsureSubscription(context.Background(), sub, "tenant", "test"); err != nil {
		t.Fatal(err)
	}
	rh.harness = &harness{t: t, e: e, clk: clk, st: rh.store}
	rh.mustRG()
	return rh
}

const cacheBase = rg + "/providers/Test.Cache/"

// get GETs path and returns its body and how many store reads it took.
func (rh *renderedHarness) get(path, apiVersion string) (map[string]any, int64) {
	rh.t.Helper()
	before := rh.store.reads.Load()
	st, _, body := rh.call(http.MethodGet, path, apiVersion, "", nil)
	if st != http.StatusOK {
		rh.t.Fatalf("GET %s = %d %v", path, st, body)
	}
	return body, rh.store.reads.Load() - before
}

func props(body map[string]any) map[string]any {
	p, _ := body["properties"].(map[string]any)
	return p
}

// TestRenderedCache: a GET answered from the rendered-body cache reads
// nothing from the store, yet never shows a body older than the last
// acknowledged write, nor a state that time has changed since.
func TestRenderedCache(t *testing.T) {
	rh := newRenderedHarness(t, 0)
	p := cacheBase + "plain/p1"
	rh.call(http.MethodPut, p, "2024-01-01", `{"location":"eastus","tags":{"v":"1"}}`, nil)

	body, _ := rh.get(p, "2024-01-01")
	if got := props(body)["provisioningState"]; got != "Creating" {
		t.Fatalf("provisioningState during the PUT = %v, want Creating", got)
	}
	if _, reads := rh.get(p, "2024-01-01"); reads != 0 {
		t.Errorf("a second GET during the operation read the store %d times, want none (kept until the operation ends)", reads)
	}
	rh.clk.Advance(2 * time.Second)
	body, reads := rh.get(p, "2024-01-01")
	if got := props(body)["provisioningState"]; got != "Succeeded" || reads == 0 {
		t.Fatalf("after the operation's end: provisioningState %v with %d reads, want Succeeded, read afresh", got, reads)
	}
	if _, reads := rh.get(p, "2024-01-01"); reads != 0 {
		t.Errorf("a settled resource's second GET read the store %d times, want none", reads)
	}
	if _, reads := rh.get(p, "2024-06-01"); reads == 0 {
		t.Error("another api-version was answered from the first one's body")
	}

	// A write to the resource ends its kept body; a write to a resource
	// its render does not read (a type without a Renderer reads only
	// itself) leaves it; a write to an ancestor ends it (a GET checks
	// them).
	rh.call(http.MethodPatch, p, "2024-01-01", `{"tags":{"v":"2"}}`, nil)
	body, _ = rh.get(p, "2024-01-01")
	if tags, _ := body["tags"].(map[string]any); tags["v"] != "2" {
		t.Errorf("GET after an acknowledged PATCH shows tags %v, want v=2", body["tags"])
	}
	rh.call(http.MethodPut, p+"/parts/x", "2024-01-01", `{}`, nil)
	if _, reads := rh.get(p, "2024-01-01"); reads != 0 {
		t.Errorf("a write to a child ended the kept body of a type that reads only itself (%d reads)", reads)
	}
	rh.call(http.MethodPatch, rg, "2021-04-01", `{"tags":{"rg":"changed"}}`, nil)
	if _, reads := rh.get(p, "2024-01-01"); reads == 0 {
		t.Error("a write to the resource group did not end the kept body of a resource in it")
	}

	// A DELETE under way shows Deleting, and the end of the delete 404.
	rh.get(p, "2024-01-01")
	rh.call(http.MethodDelete, p, "2024-01-01", "", nil)
	if body, _ := rh.get(p, "2024-01-01"); props(body)["provisioningState"] != "Deleting" {
		t.Errorf("during the DELETE: %v, want Deleting", props(body)["provisioningState"])
	}
	rh.clk.Advance(2 * time.Second)
	if st, _, _ := rh.call(http.MethodGet, p, "2024-01-01", "", nil); st != http.StatusNotFound {
		t.Errorf("GET after the DELETE's end = %d, want 404", st)
	}
}

// TestRenderedCacheRenderers: a strategy that renders is kept only when
// it says until when its body holds.
func TestRenderedCacheRenderers(t *testing.T) {
	rh := newRenderedHarness(t, 0)
	for _, n := range []string{"stamped/s1", "stable/s1"} {
		rh.call(http.MethodPut, cacheBase+n, "2024-01-01", `{}`, nil)
	}
	a, _ := rh.get(cacheBase+"stamped/s1", "2024-01-01")
	b, _ := rh.get(cacheBase+"stamped/s1", "2024-01-01")
	if props(a)["renders"] == props(b)["renders"] {
		t.Error("a Renderer without RenderStableUntil was answered from a kept body")
	}
	a, _ = rh.get(cacheBase+"stable/s1", "2024-01-01")
	b, reads := rh.get(cacheBase+"stable/s1", "2024-01-01")
	if props(a)["renders"] != props(b)["renders"] || reads != 0 {
		t.Errorf("a StableRenderer's second GET rendered again (%v, %v; %d reads)", props(a)["renders"], props(b)["renders"], reads)
	}
	rh.clk.Advance(rh.stableUntilFor.Sub(rh.clk.Now()))
	c, _ := rh.get(cacheBase+"stable/s1", "2024-01-01")
	if props(c)["renders"] == props(b)["renders"] {
		t.Error("a body was kept past the time its strategy gave")
	}
}

// TestRenderedCacheGates: an ancestor's gate runs on every GET, kept body
// or not.
func TestRenderedCacheGates(t *testing.T) {
	rh := newRenderedHarness(t, 0)
	rh.call(http.MethodPut, cacheBase+"gated/g1", "2024-01-01", `{}`, nil)
	rh.call(http.MethodPut, cacheBase+"gated/g1/parts/p", "2024-01-01", `{}`, nil)
	rh.get(cacheBase+"gated/g1/parts/p", "2024-01-01")
	before := rh.gateChecks.Load()
	if _, reads := rh.get(cacheBase+"gated/g1/parts/p", "2024-01-01"); reads != 0 {
		t.Fatalf("the kept GET read the store %d times", reads)
	}
	if rh.gateChecks.Load() == before {
		t.Error("a kept body was served without its ancestor's gate")
	}
	rh.refuse.Store(true)
	if st, _, _ := rh.call(http.MethodGet, cacheBase+"gated/g1/parts/p", "2024-01-01", "", nil); st < 400 {
		t.Errorf("the gate's refusal did not stop a kept body: %d", st)
	}
}

// TestRenderedCacheOff: a negative size turns the cache off.
func TestRenderedCacheOff(t *testing.T) {
	rh := newRenderedHarness(t, -1)
	rh.call(http.MethodPut, cacheBase+"gated/g1", "2024-01-01", `{}`, nil)
	rh.get(cacheBase+"gated/g1", "2024-01-01")
	if _, reads := rh.get(cacheBase+"gated/g1", "2024-01-01"); reads == 0 {
		t.Error("with the cache off a GET read nothing")
	}
}

// TestRenderedCacheReadsYourWrites: under concurrent writers and readers,
// a GET made after a PATCH was acknowledged never shows an older value.
func TestRenderedCacheReadsYourWrites(t *testing.T) {
	rh := newRenderedHarness(t, 0)
	p := cacheBase + "gated/g1"
	rh.call(http.MethodPut, p, "2024-01-01", `{"properties":{"n":0}}`, nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			path := fmt.Sprintf("%s/parts/w%d", p, w)
			for i := 1; i <= 40; i++ {
				rh.call(http.MethodPut, path, "2024-01-01", fmt.Sprintf(`{"properties":{"n":%d}}`, i), nil)
				st, _, body := rh.call(http.MethodGet, path, "2024-01-01", "", nil)
				if st != http.StatusOK {
					t.Errorf("GET %s = %d", path, st)
					return
				}
				if got := fmt.Sprint(props(body)["n"]); got != fmt.Sprint(i) {
					t.Errorf("GET %s after the acknowledged PUT of n=%d shows n=%s", path, i, got)
					return
				}
			}
		})
	}
	wg.Go(func() { // a reader keeping bodies of other resources warm
		for range 200 {
			rh.call(http.MethodGet, p, "2024-01-01", "", nil)
		}
	})
	wg.Wait()
}

// TestRenderedCacheLists: a list page uses and keeps the bodies a GET
// would show, and shows every acknowledged write.
func TestRenderedCacheLists(t *testing.T) {
	rh := newRenderedHarness(t, 0)
	coll := cacheBase + "gated"
	for _, n := range []string{"a", "b", "c"} {
		rh.call(http.MethodPut, coll+"/"+n, "2024-01-01", `{"properties":{"n":1}}`, nil)
	}
	list := func() []any {
		t.Helper()
		body, _ := rh.get(coll, "2024-01-01")
		items, _ := body["value"].([]any)
		return items
	}
	first := list()
	if len(first) != 3 {
		t.Fatalf("listed %d items, want 3", len(first))
	}
	// The list kept the bodies: a GET of an item reads only its ancestors.
	_, reads := rh.get(coll+"/b", "2024-01-01")
	if again, _ := rh.get(coll+"/b", "2024-01-01"); fmt.Sprint(again) != fmt.Sprint(first[1]) {
		t.Errorf("GET after the list = %v, the list showed %v", again, first[1])
	}
	if reads > 2 {
		t.Errorf("GET of a listed item read the store %d times, want its ancestors' reads only", reads)
	}
	rh.call(http.MethodPut, coll+"/b", "2024-01-01", `{"properties":{"n":2}}`, nil)
	if got := props(list()[1].(map[string]any))["n"]; fmt.Sprint(got) != "2" {
		t.Errorf("list after an acknowledged PUT shows n=%v, want 2", got)
	}
	if st, _, body := rh.call(http.MethodGet, coll, "2024-01-01", "", map[string]string{}); st != 200 || body["nextLink"] != nil {
		t.Errorf("list = %d %v", st, body)
	}
	// A list whose bodies are all kept reads keys, not values: only the
	// ancestors' records.
	list()
	before := rh.store.values.Load()
	if got := list(); len(got) != 3 {
		t.Fatalf("listed %d items, want 3", len(got))
	}
	if n := rh.store.values.Load() - before; n > 2 {
		t.Errorf("a list of kept bodies read %d values, want the ancestors' only", n)
	}
	// A record deleted after its body was kept is not listed.
	rh.call(http.MethodDelete, coll+"/c", "2024-01-01", "", nil)
	if got := list(); len(got) != 2 {
		t.Errorf("after a delete, listed %d items, want 2", len(got))
	}
	// Pages: a nextLink survives the joined body, and continues after the
	// key-only scan's last item.
	st, _, body := rh.call(http.MethodGet, coll+"?$top=1", "2024-01-01", "", nil)
	next, _ := body["nextLink"].(string)
	if st != 200 || next == "" || len(body["value"].([]any)) != 1 {
		t.Fatalf("first page of 1 = %d %v", st, body)
	}
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	st, _, body = rh.call(http.MethodGet, coll+"?$top=1&$skipToken="+url.QueryEscape(u.Query().Get("$skipToken")), "2024-01-01", "", nil)
	if items, _ := body["value"].([]any); st != 200 || len(items) != 1 || fmt.Sprint(items[0]) == fmt.Sprint(first[0]) {
		t.Errorf("second page = %d %v, want the second item", st, body)
	}
}

// subtreeStrategy renders the names of its resource's parts into its body
// and says it reads nothing else.
type subtreeStrategy struct {
	stableStampStrategy
	e **engine.Engine
}

func (s subtreeStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	parts, err := (*s.e).List(ctx, r.ID, "parts")
	if err != nil {
		return err
	}
	body["properties"].(map[string]any)["parts"] = len(parts)
	return nil
}

func (subtreeStrategy) RendersFromSubtree(*engine.Resource) bool { return true }

// TestRenderedCacheDependencies: a body kept for a strategy that reads
// its subtree ends with a write there, and with nothing else; one kept for
// a strategy that does not say what it reads ends with any write.
func TestRenderedCacheDependencies(t *testing.T) {
	rh := newRenderedHarness(t, 0)
	var e *engine.Engine
	rh.e.Registry().Register(&engine.Type{Name: "Test.Cache/trees", APIVersions: []string{"2024-01-01"},
		Strategy: subtreeStrategy{stableStampStrategy{stampStrategy{renders: &rh.renders}}, &e}})
	rh.e.Registry().Register(&engine.Type{Name: "Test.Cache/trees/parts", APIVersions: []string{"2024-01-01"}, Strategy: widgetStrategy{}})
	e = rh.e
	tree, other, stable := cacheBase+"trees/t1", cacheBase+"trees/t2", cacheBase+"stable/s1"
	for _, p := range []string{tree, other, stable} {
		rh.call(http.MethodPut, p, "2024-01-01", `{}`, nil)
	}
	for _, p := range []string{tree, stable} {
		rh.get(p, "2024-01-01")
	}
	rh.call(http.MethodPut, other+"/parts/a", "2024-01-01", `{}`, nil) // outside t1's subtree
	if _, reads := rh.get(tree, "2024-01-01"); reads != 0 {
		t.Errorf("a write outside the subtree ended t1's kept body (%d reads)", reads)
	}
	if _, reads := rh.get(stable, "2024-01-01"); reads == 0 {
		t.Error("a write anywhere left the kept body of a strategy that does not say what it reads")
	}
	// However many writes there are elsewhere: the log keeps, per record
	// and subtree, the last write (it once remembered only the last 1,024
	// writes, and every body older than that was rendered again).
	for i := range 2000 {
		rh.call(http.MethodPut, fmt.Sprintf("%s/parts/p%d", other, i), "2024-01-01", `{}`, nil)
	}
	if _, reads := rh.get(tree, "2024-01-01"); reads != 0 {
		t.Errorf("2,000 writes outside the subtree ended t1's kept body (%d reads)", reads)
	}
	rh.call(http.MethodPut, tree+"/parts/a", "2024-01-01", `{}`, nil)
	if body, _ := rh.get(tree, "2024-01-01"); fmt.Sprint(props(body)["parts"]) != "1" {
		t.Errorf("after a part was written in t1's subtree its GET shows %v parts, want 1", props(body)["parts"])
	}
}

// TestRenderedCacheBaseURL: a body that names the request's base URL
// (engine.BaseURLFrom) is kept per base URL: GETs and lists made at two
// hosts, in either order and again from the cache, each see their own.
func TestRenderedCacheBaseURL(t *testing.T) {
	rh := newRenderedHarness(t, 1<<20)
	if st, _, body := rh.call(http.MethodPut, cacheBase+"based/b1", "2024-01-01", `{"properties":{}}`, nil); st >= 300 {
		t.Fatalf("PUT = %d %v", st, body)
	}
	serve := func(path, base string) map[string]any {
		t.Helper()
		resp, err := rh.e.Serve(context.Background(), &engine.Request{Method: http.MethodGet, Path: path,
			Query: map[string][]string{"api-version": {"2024-01-01"}}, APIVersion: "2024-01-01",
			Header: http.Header{}, BaseURL: base, Now: rh.clk.Now(), Caller: engine.Caller{AppID: "app", ObjectID: "oid"}})
		if err != nil {
			t.Fatalf("GET %s at %s: %v", path, base, err)
		}
		var body map[string]any
		if err := json.Unmarshal(resp.Body.(json.RawMessage), &body); err != nil {
			t.Fatal(err)
		}
		return body
	}
	for _, base := range []string{"https://a.test", "https://b.test", "https://a.test", "https://b.test"} {
		if got := props(serve(cacheBase+"based/b1", base))["base"]; got != base {
			t.Errorf("GET at %s shows base %v", base, got)
		}
		list, _ := serve(cacheBase+"based", base)["value"].([]any)
		if len(list) != 1 || props(list[0].(map[string]any))["base"] != base {
			t.Errorf("list at %s = %v", base, list)
		}
	}
}
