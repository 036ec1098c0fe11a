package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/guid"
	"github.com/armlet/armlet/internal/jsonenc"
	"github.com/armlet/armlet/internal/kv"
)

// DefaultRenderCacheBytes bounds the rendered-body cache when
// Options.RenderCacheBytes is zero: 64 MiB, some 50,000 workspace bodies
// at one api-version.
const DefaultRenderCacheBytes = 64 << 20

// StableRenderer is implemented by strategies with a Renderer whose
// bodies the engine may keep and serve again to GETs (the rendered-body
// cache). A Renderer without it is rendered afresh on every GET.
//
// RenderStableUntil reports until when the body of r rendered at now
// stays what a fresh render would give, as long as nothing is written to
// the store: the earliest time at which the strategy's Render shows
// something else by the passing of time alone (a managed network turning
// active, a connection's operation ending). The zero time means never;
// ok false means the body must not be kept. The engine adds what it knows
// itself: r's and its ancestors' operations and deletes.
type StableRenderer interface {
	RenderStableUntil(ctx context.Context, r *Resource, now time.Time) (until time.Time, ok bool)
}

// SubtreeRenderer is implemented by StableRenderer strategies that can
// say their Render of r reads nothing from the store but r and r's
// descendants: a kept body of r then ends only with writes there, where
// otherwise any write ends it. Types without a Renderer read only r.
type SubtreeRenderer interface {
	RendersFromSubtree(r *Resource) bool
}

// countingStore is the store as the engine and the providers' views see
// it: it counts the transactions made through it. Whatever a render reads
// lies in the store and is written only through an engine, so a body
// rendered after the count was read stays right until the count moves.
// On a shared store (etcd) the other replicas' engines write too: each
// transaction then also rewrites the marker key (SpaceWrites) with the
// records it wrote, whose changes every replica follows (FollowWrites) to
// move its own count.
type countingStore struct {
	kv.Store
	writes atomic.Int64
	// marker is the marker's absolute key on a shared store, else nil;
	// heard is what FollowWrites has heard of it.
	marker []byte
	// replica names this engine in the markers it writes (a random GUID).
	replica string
	heard   heardWrites
	reads   markerReads
	// written says, for what counted transactions wrote, the count of the
	// last write, so that a kept body that reads only some records
	// outlives the writes to others however many there were.
	written writeLog
}

// writeLog is when (by write count) each resource record, and each
// subtree, was last written. It forgets everything at once when it holds
// too much (floor), and a write whose records are unknown (another
// replica's, heard of through the marker) counts for every record (all).
type writeLog struct {
	mu sync.RWMutex
	// records maps a record key (in SpaceResources) to the count of its
	// last write; subtrees maps the key of a resource (resourceid.ID.Key)
	// to the count of the last write of a record below it.
	records, subtrees map[string]int64
	// floor is the last count whose writes were forgotten; all the last
	// count whose records are unknown.
	floor, all int64
}

// maxLoggedKeys bounds the write log: past it the log starts afresh, and
// bodies rendered before are rendered again at their next use.
const maxLoggedKeys = 1 << 17

// loggedWrite is one counted transaction: the resource records it wrote
// (keys in SpaceResources), or all when what it wrote is unknown (another
// replica's write, heard of through the marker).
type loggedWrite struct {
	records []string
	all     bool
}

// Txn counts the transaction once it has returned (committed or not), so
// that a writer's acknowledgement always follows the count's move.
func (s *countingStore) Txn(ctx context.Context, ops ...kv.Op) (int64, error) {
	var records []string
	for _, op := range ops {
		if k, ok := bytes.CutPrefix(op.Key, resourcesPrefix); ok {
			records = append(records, string(k))
		}
	}
	if s.marker != nil {
		ops = append(ops[:len(ops):len(ops)], kv.Put(s.marker, s.markerValue(records)))
	}
	rev, err := s.Store.Txn(ctx, ops...)
	s.count(loggedWrite{records: records})
	return rev, err
}

// markerRecords bounds the record keys a marker names; a transaction
// that writes more names none, and the other replicas count it for every
// record.
const markerRecords = 32

// marker is the value of the write marker: which replica's engine made
// the transaction and which resource records it wrote, so that the
// replica itself skips its own transaction when it hears of it (it counted
// it already) and the others end only the kept bodies that read those
// records. A marker that does not read as one (All, or from an older
// armlet) counts for every record.
type marker struct {
	By      string   `json:"by"`
	Records []string `json:"records,omitempty"`
	All     bool     `json:"all,omitempty"`
}

// markerValue is the marker of a transaction of this replica that writes
// records.
func (s *countingStore) markerValue(records []string) []byte {
	m := marker{By: s.replica, Records: records}
	if len(records) > markerRecords {
		m.Records, m.All = nil, true
	}
	return rawJSON(m)
}

// heardMarker counts a transaction heard of through the marker, unless
// this replica made it.
func (s *countingStore) heardMarker(value []byte) {
	var m marker
	if err := json.Unmarshal(value, &m); err != nil || m.By == "" {
		s.count(loggedWrite{all: true})
		return
	}
	if m.By == s.replica {
		return // counted when it was made
	}
	s.count(loggedWrite{records: m.Records, all: m.All})
}

// ScanKeys passes the store's keys-only scan on (kv.KeyScanner).
func (s *countingStore) ScanKeys(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	return kv.ScanKeys(ctx, s.Store, prefix, after, limit)
}

// resourcesPrefix is SpaceResources' prefix, as bytes.
var resourcesPrefix = []byte(kv.SpaceResources.Prefix())

// count moves the write count and logs w as the write of the new count;
// readers of the count find every count up to it in the log.
func (s *countingStore) count(w loggedWrite) {
	l := &s.written
	l.mu.Lock()
	defer l.mu.Unlock()
	n := s.writes.Add(1)
	if w.all {
		l.all = n
		return
	}
	if l.records == nil || len(l.records)+len(l.subtrees) > maxLoggedKeys {
		l.records, l.subtrees, l.floor = map[string]int64{}, map[string]int64{}, n-1
	}
	for _, k := range w.records {
		l.records[k] = n
		// The record lies in the subtree of its parent and of each of the
		// parent's ancestors: every prefix of the parent's key that ends
		// before a '/' (some are not resource keys; no one asks for those).
		parent, _, _ := strings.Cut(k, sep)
		l.subtrees[parent] = n
		for i := 1; i < len(parent); i++ {
			if parent[i] == '/' {
				l.subtrees[parent[:i]] = n
			}
		}
	}
}

// changedSince reports whether a transaction counted after since, up to
// upTo, may have written what deps reads (true too when the log has
// forgotten writes after since).
func (s *countingStore) changedSince(since, upTo int64, deps *renderDeps) bool {
	if deps.all {
		return upTo > since
	}
	l := &s.written
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.all > since || l.floor > since {
		return true
	}
	for _, k := range deps.records {
		if l.records[k] > since {
			return true
		}
	}
	for _, k := range deps.subtrees {
		if l.subtrees[k] > since {
			return true
		}
	}
	return false
}

// renderDeps is what a kept body was rendered from: resource records by
// key (the resource, the ancestors a GET checked) and whole subtrees by
// the key of their root resource (resourceid.ID.Key); all when that is not
// known (any write ends the body).
type renderDeps struct {
	all      bool
	records  []string
	subtrees []string
}

// writesMarker is the marker's key in SpaceWrites.
const writesMarker = "written"

// heardWrites is the highest revision of the marker a replica has heard
// of, with a way to wait for it to move.
type heardWrites struct {
	revision atomic.Int64
	mu       sync.Mutex
	moved    chan struct{} // closed when revision moves; nil until waited on
}

func (h *heardWrites) hear(rev int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev > h.revision.Load() {
		h.revision.Store(rev)
		if h.moved != nil {
			close(h.moved)
			h.moved = nil
		}
	}
}

// waitFor reports whether revision rev has been heard of, waiting up to d.
func (h *heardWrites) waitFor(ctx context.Context, rev int64, d time.Duration) bool {
	if h.revision.Load() >= rev {
		return true // the usual case: no timer for it
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		h.mu.Lock()
		if h.revision.Load() >= rev {
			h.mu.Unlock()
			return true
		}
		if h.moved == nil {
			h.moved = make(chan struct{})
		}
		moved := h.moved
		h.mu.Unlock()
		select {
		case <-moved:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// maxHearingWait bounds how long a read waits for this replica to hear of
// the writes other replicas made before it; past it the read goes to the
// store.
const maxHearingWait = 100 * time.Millisecond

// FollowWrites hears, until ctx ends, of every transaction any replica's
// engine makes on a shared store, so that this replica's kept bodies and
// memos end with them. It returns at once on a store of armlet's own.
func (e *Engine) FollowWrites(ctx context.Context) {
	c := e.counted
	if c == nil || c.marker == nil {
		return
	}
	_ = kv.SpaceWrites.Of(c.Store).Watch(ctx, []byte(writesMarker), func(ent kv.Entry) {
		c.heardMarker(ent.Value)
		c.heard.hear(ent.Revision)
	})
}

// keptWrites returns the write count that kept bodies and memos are
// checked against, and whether they may be used at all. On a shared store
// kept values are used only once this replica has heard of every write
// acknowledged before the call, which makes a read from them as current
// as a read of the store; that takes a read of the marker, batched with
// concurrent requests' and made once per request (fence.go).
func (e *Engine) keptWrites(ctx context.Context) (int64, bool) {
	c := e.counted
	if c == nil {
		return 0, false
	}
	if c.marker != nil {
		rev, err := c.markerRevision(ctx)
		if err != nil || !c.heard.waitFor(ctx, rev, maxHearingWait) {
			return 0, false // not heard of in time: read the store
		}
	}
	return c.writes.Load(), true
}

// countingWatcher is a countingStore over a shared store, which keeps
// its Watcher for the providers' views.
type countingWatcher struct {
	*countingStore
	kv.Watcher
}

// counting wraps st in a countingStore, keeping what st is (Shared or not).
func counting(st kv.Store) (kv.Store, *countingStore) {
	c := &countingStore{Store: st}
	if w, ok := st.(kv.Watcher); ok {
		c.marker = []byte(kv.SpaceWrites.Prefix() + writesMarker)
		var id [16]byte
		_, _ = rand.Read(id[:]) // crypto/rand never fails
		c.replica = guid.V4(id)
		c.reads.read = readMarker(st, c.marker)
		return countingWatcher{countingStore: c, Watcher: w}, c
	}
	return c, c
}

// renderedKey is one resource at one api-version for clients at one base
// URL (a Renderer may name it: BaseURLFrom).
type renderedKey struct {
	record     string // the resource's record key
	apiVersion string // lower-cased
	baseURL    string // Request.BaseURL
}

// renderedKeyOf is the key of the record key for req.
func renderedKeyOf(record []byte, req *Request) renderedKey {
	return renderedKey{record: string(record), apiVersion: strings.ToLower(req.APIVersion), baseURL: req.BaseURL}
}

// renderedEntry is a GET's answer kept for later GETs of the same
// resource at the same api-version and base URL.
type renderedEntry struct {
	// writes is the store's write count read before the render, moved on
	// (atomically: entries are shared) once no write since touched deps.
	writes     int64
	deps       *renderDeps
	renderedAt time.Time // the clock when rendered
	until      time.Time // the body may change by time from here on; zero: never
	body       json.RawMessage
	revision   int64 // the resource's
	etag       string
	// ancestors is set once the entry holds what a GET needs beside the
	// body (a list's render does not check the ancestors): gates, r's
	// ancestors whose strategy gates its children with the type below
	// each, checked again on every GET (their verdict depends on the
	// request); and until, lowered to their own time-driven changes.
	ancestors bool
	gates     []gateCheck
}

type gateCheck struct {
	ancestor  *Resource // read-only: shared by every GET that hits
	childType string
}

// valid reports whether e answers a request made at now, after the
// store's write count reached writes: no time-driven change is due, and
// no write since the render touched what it read.
//
// An entry rendered or checked after the request began (a concurrent
// request's: since beyond writes, renderedAt beyond now) answers it too:
// it shows every write acknowledged before the request began, and what it
// may show besides was written while the request was under way, which a
// read concurrent with a write may see. Refusing such entries made
// concurrent lists of the same items render them again and again.
func (e *renderedEntry) valid(c *countingStore, writes int64, now time.Time) bool {
	if !e.until.IsZero() && !now.Before(e.until) {
		return false
	}
	since := atomic.LoadInt64(&e.writes)
	switch {
	case since >= writes:
		return true
	case e.deps.all || c.changedSince(since, writes, e.deps):
		return false
	}
	atomic.StoreInt64(&e.writes, writes)
	return true
}

func (e *renderedEntry) size() int {
	return len(e.body) + len(e.etag) + 128
}

// renderedCache keeps rendered GET bodies, bounded in bytes. When full it
// drops arbitrary entries, which is simpler than LRU: a dropped body is
// rendered again at its next use.
type renderedCache struct {
	mu    sync.RWMutex
	max   int
	bytes int
	items map[renderedKey]*renderedEntry
}

func newRenderedCache(maxBytes int) *renderedCache {
	return &renderedCache{max: maxBytes, items: map[renderedKey]*renderedEntry{}}
}

func (c *renderedCache) get(k renderedKey) *renderedEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.items[k]
}

func (c *renderedCache) put(k renderedKey, e *renderedEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[k]; ok {
		c.bytes -= old.size()
		delete(c.items, k)
	}
	for key, old := range c.items {
		if c.bytes+e.size() <= c.max {
			break
		}
		c.bytes -= old.size()
		delete(c.items, key)
	}
	if e.size() > c.max {
		return
	}
	c.items[k] = e
	c.bytes += e.size()
}

// getRendered answers a client's GET of the resource id of type t: from
// the rendered-body cache when the entry is still right, else by loading
// and rendering it (and keeping the body when it may be kept). A hit
// reads nothing from the store: the ancestors' existence and the
// resource's body are those the entry was rendered from, and no write
// since touched what it read; only the ancestors' gates run again.
func (e *Engine) getRendered(ctx context.Context, req *Request, t *Type, id resourceid.ID) (*Response, error) {
	if e.rendered == nil {
		return e.get(ctx, req, t, id)
	}
	writes, ok := e.keptWrites(ctx)
	if !ok {
		return e.get(ctx, req, t, id)
	}
	key := renderedKeyOf(resourceKey(id), req)
	ent := e.rendered.get(key)
	if ent != nil && !ent.valid(e.counted, writes, req.Now) {
		ent = nil
	}
	if ent != nil && ent.ancestors {
		for _, g := range ent.gates {
			if err := e.gate(ctx, req, g.ancestor, g.childType); err != nil {
				return nil, err
			}
		}
		return renderedResponse(ent), nil
	}
	gates, ancestors, until, err := e.checkAncestorsForCache(ctx, req, id)
	if err != nil {
		return nil, err
	}
	keepable := true
	if ent == nil { // else a list rendered the body: still right, as nothing it read was written since
		r, err := e.loadPresent(ctx, req, id)
		if err != nil {
			return nil, err
		}
		if ent, keepable, err = e.renderBody(ctx, req, t, r, writes); err != nil {
			return nil, err
		}
	}
	// A GET's entry reads the ancestors too: their existence and gates.
	deps := *ent.deps
	deps.records = append(slices.Clip(deps.records), ancestors...)
	full := &renderedEntry{
		writes: atomic.LoadInt64(&ent.writes), deps: &deps, renderedAt: ent.renderedAt, until: earliest(ent.until, until),
		body: ent.body, revision: ent.revision, etag: ent.etag, ancestors: true, gates: gates,
	}
	if keepable {
		e.rendered.put(key, full)
	}
	return renderedResponse(full), nil
}

// renderBody renders r for req as a cache entry, and says whether the
// entry may be kept.
func (e *Engine) renderBody(ctx context.Context, req *Request, t *Type, r *Resource, writes int64) (*renderedEntry, bool, error) {
	body, err := t.render(ctx, r, req.APIVersion, req.Now)
	if err != nil {
		return nil, false, err
	}
	raw, err := jsonenc.Marshal(body)
	if err != nil {
		return nil, false, err
	}
	ent := &renderedEntry{writes: writes, deps: renderDepsOf(t, r), renderedAt: req.Now, body: raw, revision: r.Revision, etag: r.ETag()}
	keepable := e.stableUntil(ctx, t, r, req.Now, &ent.until)
	return ent, keepable, nil
}

// renderDepsOf is what r's render by t reads from the store.
func renderDepsOf(t *Type, r *Resource) *renderDeps {
	d := &renderDeps{records: []string{string(resourceKey(r.ID))}}
	if _, renders := t.Strategy.(Renderer); !renders {
		return d
	}
	if sr, ok := t.Strategy.(SubtreeRenderer); ok && sr.RendersFromSubtree(r) {
		d.subtrees = []string{r.ID.Key()}
		return d
	}
	return &renderDeps{all: true}
}

// keptBody is the body kept for the record ent at req's api-version, if
// it is still right.
func (e *Engine) keptBody(req *Request, key []byte, revision int64, writes int64) (json.RawMessage, bool) {
	c := e.rendered.get(renderedKeyOf(key, req))
	if c == nil || !c.valid(e.counted, writes, req.Now) || c.revision != revision {
		return nil, false
	}
	return c.body, true
}

// listedBody is the body of r, decoded from the record ent, for a list at
// req's api-version: the kept one when it is still right, else rendered
// and kept.
func (e *Engine) listedBody(ctx context.Context, req *Request, t *Type, ent kv.Entry, r *Resource, writes int64) (json.RawMessage, error) {
	if body, ok := e.keptBody(req, ent.Key, ent.Revision, writes); ok {
		return body, nil
	}
	c, keepable, err := e.renderBody(ctx, req, t, r, writes)
	if err != nil {
		return nil, err
	}
	if keepable {
		e.rendered.put(renderedKeyOf(ent.Key, req), c)
	}
	return c.body, nil
}

// renderedResponse is the GET answer of ent.
func renderedResponse(ent *renderedEntry) *Response {
	h := make(http.Header, 1)
	h["Etag"] = []string{ent.etag}
	return &Response{Status: http.StatusOK, Header: h, Body: ent.body}
}

// checkAncestorsForCache is checkAncestors for a GET that may be kept: it
// also returns the ancestors whose gates must run on every GET, the
// record keys of every ancestor checked, and the first of their
// time-driven changes (a delete under way).
func (e *Engine) checkAncestorsForCache(ctx context.Context, req *Request, id resourceid.ID) (gates []gateCheck, records []string, until time.Time, err error) {
	err = e.walkAncestors(ctx, req, id, false, func(r *Resource, childType string) {
		records = append(records, string(resourceKey(r.ID)))
		until = earliest(until, r.changesAfter(req.Now))
		if t, ok := e.reg.Lookup(r.Type); ok {
			if _, gated := t.Strategy.(ChildGate); gated {
				gates = append(gates, gateCheck{ancestor: r, childType: childType})
			}
		}
	})
	return gates, records, until, err
}

// stableUntil folds into until the time-driven changes of r's body and
// reports whether the body may be kept at all.
func (e *Engine) stableUntil(ctx context.Context, t *Type, r *Resource, now time.Time, until *time.Time) bool {
	*until = earliest(*until, r.changesAfter(now))
	if _, renders := t.Strategy.(Renderer); !renders {
		return true
	}
	sr, ok := t.Strategy.(StableRenderer)
	if !ok {
		return false
	}
	u, ok := sr.RenderStableUntil(ctx, r, now)
	if !ok {
		return false
	}
	*until = earliest(*until, u)
	return true
}

// changesAfter is the first time after now at which r's state changes by
// time alone (its operation or its delete ends); zero if none is pending.
func (r *Resource) changesAfter(now time.Time) time.Time {
	var t time.Time
	if p := r.Internal.Provisioning; p != nil && now.Before(p.Until) {
		t = p.Until
	}
	if !r.Internal.DeleteAt.IsZero() && now.Before(r.Internal.DeleteAt) {
		t = earliest(t, r.Internal.DeleteAt)
	}
	return t
}

// ChangesAfter is r.changesAfter for strategies (a StableRenderer that
// renders other resources into r's body).
func ChangesAfter(r *Resource, now time.Time) time.Time { return r.changesAfter(now) }

// earliest is the earlier of two times, the zero time standing for never.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// Earliest is earliest for strategies: the earlier of a and b, the zero
// time standing for never.
func Earliest(a, b time.Time) time.Time { return earliest(a, b) }
