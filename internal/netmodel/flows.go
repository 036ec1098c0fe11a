package netmodel

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/jsonenc"
	"github.com/armlet/armlet/internal/kv"
)

// Service is which of armlet's services answered a request.
type Service string

// The services a flow can reach.
const (
	ServiceARM       Service = "arm"
	ServiceWorkspace Service = "workspace"
	ServiceToken     Service = "token"
	// ServiceKeyVault is a key vault's data plane, reached by its own
	// host name through armlet's HTTPS proxy.
	ServiceKeyVault Service = "keyvault"
	// ServiceRegistry is an Azure ML registry's data plane.
	ServiceRegistry Service = "registry"
	// ServiceBlob is a storage account's blob data plane, reached by its
	// own host name through armlet's HTTPS proxy.
	ServiceBlob Service = "blob"
)

// Observation is what the front door saw of one request, before it is
// turned into a Flow (off the request path, by the flow writer).
type Observation struct {
	Time    time.Time
	Service Service
	Method  string
	Path    string // escaped URL path
	// RawQuery is the URL's query as received (parsed off the request
	// path, by FlowOf).
	RawQuery    string
	ContentType string
	Body        []byte // owned by the Observation once recorded
	// CallerObjectID and CallerAppID identify the authenticated caller; for
	// the token service, CallerAppID is the client id the request claims.
	CallerObjectID string
	CallerAppID    string
	// CallerTenantID is the tenant of the caller's token.
	CallerTenantID string
	// CorrelationID and ClientRequestID are the request's
	// x-ms-correlation-request-id (generated when the client sent none)
	// and x-ms-client-request-id.
	CorrelationID   string
	ClientRequestID string
	Origin          Origin
	Class           PathClass
	Status          int
	ErrorCode       string
	RequestID       string
	// Decisions are the access decisions taken on the request.
	Decisions []decision.Decision
	// Operation and Resource are what the front door resolved the request
	// to (the action string it authorized, the resource it names); empty
	// when the request was refused before its path was resolved.
	Operation string
	Resource  resourceid.ID
	// Deployment is the ARM template deployment that made the request,
	// by id (its class is that of the deployment's own request).
	Deployment string
}

// Flow is the record of one request (docs/design.md section 2.5).
type Flow struct {
	Time           time.Time `json:"time"`
	RequestID      string    `json:"requestId,omitempty"`
	CallerObjectID string    `json:"callerObjectId,omitempty"`
	CallerAppID    string    `json:"callerAppId,omitempty"`
	CallerTenantID string    `json:"callerTenantId,omitempty"`
	// CorrelationID is the request's x-ms-correlation-request-id;
	// ClientRequestID its x-ms-client-request-id.
	CorrelationID   string `json:"correlationId,omitempty"`
	ClientRequestID string `json:"clientRequestId,omitempty"`
	Method          string `json:"method"`
	Path            string `json:"path"`
	// Operation is the ARM action string, e.g.
	// Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write.
	Operation  string `json:"operation"`
	ResourceID string `json:"resourceId,omitempty"`
	// Workspace is the Azure ML workspace the resource lies in, if any.
	Workspace string `json:"workspace,omitempty"`
	// Registry is the Azure ML registry the resource lies in, if any.
	Registry          string    `json:"registry,omitempty"`
	Class             PathClass `json:"class"`
	Listener          string    `json:"listener"`
	PrivateEndpointID string    `json:"privateEndpointId,omitempty"`
	Metadata          Metadata  `json:"metadata"`
	Status            int       `json:"status"`
	ErrorCode         string    `json:"errorCode,omitempty"`
	// Decisions are the RBAC and policy decisions taken on the request.
	Decisions []decision.Decision `json:"decisions,omitempty"`
	// Deployment is the ARM template deployment that made the request,
	// if one did.
	Deployment string `json:"deployment,omitempty"`
}

// FlowOf turns an observation into a flow record: it names the operation
// and extracts the metadata, with secrets redacted.
func FlowOf(o Observation) Flow {
	op, id := o.Operation, o.Resource
	switch {
	case o.Service == ServiceToken:
		op = "Microsoft.AAD/token/action"
		if o.Method != "POST" {
			op = "Microsoft.AAD/openidConfiguration/read"
		}
	case op == "":
		op = "unknown/" + action.Verb(o.Method)
	}
	f := Flow{
		Time: o.Time.UTC(), RequestID: o.RequestID, CallerObjectID: o.CallerObjectID, CallerAppID: o.CallerAppID,
		CallerTenantID: o.CallerTenantID, CorrelationID: o.CorrelationID, ClientRequestID: o.ClientRequestID,
		Method: o.Method, Path: o.Path, Operation: op, Class: o.Class, Listener: o.Origin.Listener,
		Status: o.Status, ErrorCode: o.ErrorCode, Decisions: o.Decisions, Deployment: o.Deployment,
	}
	if !id.IsRoot() {
		f.ResourceID = id.String()
		f.Workspace = action.WorkspaceOf(id)
		f.Registry = action.RegistryOf(id)
	}
	if o.Origin.Endpoint != nil {
		f.PrivateEndpointID = o.Origin.Endpoint.ID.String()
	}
	query, _ := url.ParseQuery(o.RawQuery) // what parses of a malformed query
	body := o.Body
	if o.Service == ServiceKeyVault {
		body = redactVaultBody(body)
	}
	f.Metadata = ExtractMetadata(f.ResourceID, query, o.ContentType, body)
	return f
}

// Defaults of the flow retention.
const (
	DefaultFlowRetentionRecords = 100000
	DefaultFlowRetention        = 24 * time.Hour
)

// FlowOptions configures a FlowStore.
type FlowOptions struct {
	// Store is the view of kv.SpaceNetModel, shared with Listeners.
	Store kv.View
	// Now is the clock flow ages are measured on (the engine clock).
	Now func() time.Time
	// MaxRecords and MaxAge bound what is kept; the oldest records go
	// first. Zero means the defaults.
	MaxRecords int
	MaxAge     time.Duration
	Logger     *slog.Logger
	// QueueSize is how many observations may wait for the writer before
	// Record drops them; default 8192.
	QueueSize int
	// Leading reports whether this replica runs flow retention for the
	// fleet of replicas sharing Store (see package fleet); nil means
	// always, as for an armlet alone on its store.
	Leading func() bool
}

// FlowStore keeps flow records in kv.SpaceNetModel under "flow\x00", in
// segments keyed by time then sequence (flowsegments.go), written in
// batches by one writer goroutine (Run) so that recording costs a request
// one channel send.
//
// When the queue is full, Record drops the observation and counts it
// (Dropped), which the reports show: a slow disk never slows a request.
//
// Replicas sharing a store each run their own writer. The meta record
// (count and last sequence number) is written with every batch under a
// revision condition, so their writers never reuse a key nor lose a count:
// a writer that loses the race re-reads the meta record and tries again.
// Only the leading replica prunes (FlowOptions.Leading).
type FlowStore struct {
	opts    FlowOptions
	log     *slog.Logger
	queue   chan flowMsg
	stopped chan struct{}
	once    sync.Once
	dropped atomic.Int64 // observations Record could not queue

	// Owned by the writer goroutine (and Open, before it starts).
	count   int
	seq     uint64
	metaRev int64     // revision of the meta record they were read from; 0 when absent
	oldest  time.Time // time of the first record; zero when empty
	seg     segmenter
}

// flowMsg is one request to the writer: an observation to store, a flush
// to acknowledge once everything before it is stored, or a retention pass.
type flowMsg struct {
	obs   *Observation
	flush chan struct{}
	prune bool
}

// maxMetaRaces bounds how often one batch retries after losing the meta
// record to another replica's writer.
const maxMetaRaces = 100

// Store layout, in kv.SpaceNetModel.
var (
	flowPrefix  = []byte("flow\x00")
	flowMetaKey = []byte("flowmeta")
)

// flowBatch bounds the records the writer gathers for one write: one
// commit (one fsync, one etcd round) per batch is most of what a record
// costs. A batch's records are stored in segments (see flowsegments.go),
// as few transactions as etcd's limits allow.
const flowBatch = 1024

// flowLinger is how long the writer waits, after the first observation of
// a batch, for more to join it: under load a batch then holds some
// hundreds of records instead of the few queued during one commit. A
// Flush (every reader of the records flushes first) or a retention pass
// ends the wait.
const flowLinger = 25 * time.Millisecond

type flowMeta struct {
	Count int    `json:"count"`
	Seq   uint64 `json:"seq"`
}

// OpenFlows returns a FlowStore over opts.Store, resuming its counters.
// Call Run to start writing.
func OpenFlows(ctx context.Context, opts FlowOptions) (*FlowStore, error) {
	if opts.Store.Space() != kv.SpaceNetModel {
		return nil, fmt.Errorf("netmodel: flow records live in %v, not %v", kv.SpaceNetModel, opts.Store.Space())
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultFlowRetentionRecords
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultFlowRetention
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 8192
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Leading == nil {
		opts.Leading = func() bool { return true }
	}
	fs := &FlowStore{opts: opts, log: opts.Logger, queue: make(chan flowMsg, opts.QueueSize), stopped: make(chan struct{})}
	if err := fs.reload(ctx); err != nil {
		return nil, err
	}
	return fs, nil
}

// reload reads the writer's counters and the time of the oldest record
// from the store.
func (fs *FlowStore) reload(ctx context.Context) error {
	if err := fs.loadMeta(ctx); err != nil {
		return err
	}
	return fs.loadOldest(ctx)
}

// loadOldest reads the time of the oldest record: its segment's key.
func (fs *FlowStore) loadOldest(ctx context.Context) error {
	first, err := fs.opts.Store.Scan(ctx, flowPrefix, nil, 1)
	if err != nil {
		return err
	}
	fs.oldest = time.Time{}
	if len(first) == 1 {
		fs.oldest = keyTime(first[0].Key)
	}
	return nil
}

// loadMeta reads the meta record into the writer's counters.
func (fs *FlowStore) loadMeta(ctx context.Context) error {
	ent, err := fs.opts.Store.Get(ctx, flowMetaKey)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		fs.count, fs.seq, fs.metaRev = 0, 0, 0
		return nil
	case err != nil:
		return err
	}
	var m flowMeta
	if err := json.Unmarshal(ent.Value, &m); err != nil {
		return fmt.Errorf("corrupt flow meta record: %w", err)
	}
	fs.count, fs.seq, fs.metaRev = m.Count, m.Seq, ent.Revision
	return nil
}

// commitMeta applies ops with the meta record set to count and seq, on
// condition that nobody else wrote the meta record since it was read. It
// reports false, having re-read the meta record, when somebody did.
func (fs *FlowStore) commitMeta(ctx context.Context, ops []kv.Op, count int, seq uint64) (bool, error) {
	ops = append(ops, kv.Put(flowMetaKey, mustMarshal(flowMeta{Count: count, Seq: seq})).If(kv.AtRevision(fs.metaRev)))
	rev, err := fs.opts.Store.Txn(ctx, ops...)
	if errors.Is(err, kv.ErrConflict) {
		return false, fs.loadMeta(ctx)
	}
	if err != nil {
		return false, err
	}
	fs.count, fs.seq, fs.metaRev = count, seq, rev
	return true, nil
}

// RunRetention asks the writer for a retention pass every interval until
// ctx ends, so that records age out even when no request comes. Run it on
// the leading replica only.
func (fs *FlowStore) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-fs.stopped:
			return
		case <-t.C:
			select {
			case fs.queue <- flowMsg{prune: true}:
			default: // the writer is busy, and prunes after its batches anyway
			}
		}
	}
}

// Record queues an observation; the writer turns it into a flow record.
// It never blocks: when the writer's queue is full (the store cannot keep
// up) or Run has stopped, the observation is dropped and counted
// (Dropped), so that a slow disk slows no request.
func (fs *FlowStore) Record(o Observation) {
	select {
	case fs.queue <- flowMsg{obs: &o}:
	default:
		fs.dropped.Add(1)
	}
}

// Dropped is how many observations Record has dropped since the store was
// opened, because the writer's queue was full or the writer had stopped.
func (fs *FlowStore) Dropped() int64 { return fs.dropped.Load() }

// Flush waits until everything recorded before it is stored.
func (fs *FlowStore) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case fs.queue <- flowMsg{flush: done}:
	case <-fs.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-fs.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run writes queued observations until ctx is done, then writes what is
// still queued and returns.
func (fs *FlowStore) Run(ctx context.Context) {
	defer fs.once.Do(func() { close(fs.stopped) })
	// Writes use their own context so the final drain survives ctx.
	wctx := context.WithoutCancel(ctx)
	for {
		var first flowMsg
		select {
		case first = <-fs.queue:
		case <-ctx.Done():
			for {
				batch, acks, _ := fs.collect(flowMsg{}, 0)
				if len(batch) == 0 && len(acks) == 0 {
					return
				}
				fs.write(wctx, batch, false)
				for _, a := range acks {
					close(a)
				}
			}
		}
		batch, acks, prune := fs.collect(first, flowLinger)
		fs.write(wctx, batch, prune)
		for _, a := range acks {
			close(a)
		}
	}
}

// collect gathers first and whatever else is queued or arrives within
// linger, up to one batch, and whether a retention pass was asked for. A
// flush or a retention pass ends the gathering at once.
func (fs *FlowStore) collect(first flowMsg, linger time.Duration) (batch []*Observation, acks []chan struct{}, prune bool) {
	add := func(m flowMsg) {
		if m.obs != nil {
			batch = append(batch, m.obs)
		}
		if m.flush != nil {
			acks = append(acks, m.flush)
		}
		prune = prune || m.prune
	}
	add(first)
	limit := flowBatch
	var wait <-chan time.Time
	if linger > 0 && first.obs != nil {
		t := time.NewTimer(linger)
		defer t.Stop()
		wait = t.C
	}
	for len(batch) < limit && len(acks) == 0 && !prune {
		select {
		case m := <-fs.queue:
			add(m)
			continue
		default:
		}
		if wait == nil {
			break
		}
		select {
		case m := <-fs.queue:
			add(m)
		case <-wait:
			return batch, acks, prune
		}
	}
	return batch, acks, prune
}

// write stores batch and, on the leading replica, prunes. A retention pass
// (refresh) first re-reads the counters, which other replicas' writers may
// have moved.
func (fs *FlowStore) write(ctx context.Context, batch []*Observation, refresh bool) {
	if err := fs.store(ctx, batch); err != nil {
		fs.log.Error("writing flow records", "records", len(batch), "err", err)
	}
	if !fs.opts.Leading() {
		return
	}
	if refresh {
		if err := fs.reload(ctx); err != nil {
			fs.log.Error("reading the flow counters", "err", err)
			return
		}
	}
	if err := fs.prune(ctx); err != nil {
		fs.log.Error("pruning flow records", "err", err)
	}
}

func (fs *FlowStore) store(ctx context.Context, batch []*Observation) error {
	if len(batch) == 0 {
		return nil
	}
	// One buffer holds the JSON of every record of the batch.
	records := make([]flowRecord, 0, len(batch))
	buf := fs.seg.records[:0]
	defer func() { fs.seg.records = buf[:0] }() // the segments' values are copies
	for _, o := range batch {
		f := FlowOf(*o)
		start := len(buf)
		out, err := appendFlow(buf, &f)
		if err != nil {
			fs.log.Error("encoding flow record", "err", err)
			continue
		}
		buf = out
		records = append(records, flowRecord{f.Time, buf[start:len(buf):len(buf)]})
	}
	if len(records) == 0 {
		return nil
	}
	sortRecords(records)
	segments := cut(records)
	values := make([][]byte, len(segments))
	for i, seg := range segments {
		values[i] = fs.seg.encode(seg)
	}
	// Transactions of at most txnBytes of values and txnSegments keys.
	for len(segments) > 0 {
		n, size := 1, len(values[0])
		for n < len(segments) && n < txnSegments && size+len(values[n]) <= txnBytes {
			size += len(values[n])
			n++
		}
		if err := fs.storeSegments(ctx, segments[:n], values[:n]); err != nil {
			return err
		}
		segments, values = segments[n:], values[n:]
	}
	return nil
}

// Bounds of one transaction of the flow writer: etcd refuses a request
// over 1.5 MiB and, by default, a transaction of over 128 operations.
const (
	txnBytes    = 1 << 20
	txnSegments = 98
)

// storeSegments writes segments, whose values are values, in one
// transaction with the meta record, numbering their records after the
// last sequence number stored.
func (fs *FlowStore) storeSegments(ctx context.Context, segments [][]flowRecord, values [][]byte) error {
	records := 0
	for _, seg := range segments {
		records += len(seg)
	}
	for range maxMetaRaces {
		ops := make([]kv.Op, 0, len(segments)+1)
		seq := fs.seq
		for i, seg := range segments {
			ops = append(ops, kv.Put(flowKey(seg[0].t, seq+1), values[i]))
			seq += uint64(len(seg))
		}
		ok, err := fs.commitMeta(ctx, ops, fs.count+records, seq)
		if err != nil {
			return err
		}
		if ok {
			if first := segments[0][0].t; fs.oldest.IsZero() || first.Before(fs.oldest) {
				fs.oldest = first
			}
			return nil
		}
	}
	return fmt.Errorf("the flow meta record kept changing under %d attempts", maxMetaRaces)
}

// pruneScan is how many segments one pass of prune reads.
const pruneScan = 16

// prune deletes the oldest records beyond MaxRecords and those older than
// MaxAge. A segment partly pruned is written again with the records it
// keeps, under the key of the first of them.
func (fs *FlowStore) prune(ctx context.Context) error {
	cutoff := fs.opts.Now().Add(-fs.opts.MaxAge)
	for {
		over := fs.count - fs.opts.MaxRecords
		if over <= 0 && (fs.oldest.IsZero() || !fs.oldest.Before(cutoff)) {
			return nil
		}
		ents, err := fs.opts.Store.Scan(ctx, flowPrefix, nil, pruneScan)
		if err != nil {
			return err
		}
		var ops []kv.Op
		removed := 0
		for _, e := range ents {
			if over <= 0 && !keyTime(e.Key).Before(cutoff) {
				break
			}
			recs, err := fs.seg.reader.records(e.Value)
			if err != nil {
				fs.log.Warn("deleting a corrupt flow segment", "key", fmt.Sprintf("%q", e.Key), "err", err)
				ops = append(ops, kv.Delete(e.Key))
				removed++
				over--
				continue
			}
			drop := 0
			var keep time.Time // time of the first record kept
			for drop < len(recs) {
				if over <= 0 { // only the age decides: read the record's time
					if t, err := recordTime(recs[drop]); err == nil && !t.Before(cutoff) {
						keep = t
						break
					}
				}
				drop++ // beyond the count, too old, or of no readable time
				over--
			}
			if drop == 0 {
				break
			}
			ops = append(ops, kv.Delete(e.Key))
			removed += drop
			if drop < len(recs) {
				rest := make([]flowRecord, 0, len(recs)-drop)
				for _, r := range recs[drop:] {
					rest = append(rest, flowRecord{json: r})
				}
				ops = append(ops, kv.Put(flowKey(keep, keySeq(e.Key)+uint64(drop)), fs.seg.encode(rest)))
				break // the rest of this segment and every later one stay
			}
		}
		if len(ops) == 0 {
			if len(ents) == 0 {
				fs.count = 0 // the meta record overcounted; trust the store
			}
			return fs.loadOldest(ctx)
		}
		ok, err := fs.commitMeta(ctx, ops, max(fs.count-removed, 0), fs.seq)
		if err != nil {
			return err
		}
		if !ok {
			continue // another writer moved the counters: look again
		}
		if err := fs.loadOldest(ctx); err != nil {
			return err
		}
	}
}

// FlowFilter selects flow records. Zero fields select everything.
type FlowFilter struct {
	// Resource is a resource id prefix, matched case-insensitively on
	// whole segments (a workspace id selects the workspace and everything
	// below it).
	Resource string
	Class    PathClass
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	// Limit caps the number of records returned (the oldest first); 0 is
	// no limit.
	Limit int
}

// Match reports whether f passes the filter.
func (ff FlowFilter) Match(f Flow) bool {
	if ff.Class != "" && f.Class != ff.Class {
		return false
	}
	if !ff.Since.IsZero() && f.Time.Before(ff.Since) {
		return false
	}
	if !ff.Until.IsZero() && !f.Time.Before(ff.Until) {
		return false
	}
	if ff.Resource != "" {
		p := strings.ToLower(strings.TrimSuffix(ff.Resource, "/"))
		r := strings.ToLower(f.ResourceID)
		if !(r == p || strings.HasPrefix(r, p+"/")) {
			return false
		}
	}
	return true
}

// List returns the stored flow records the filter selects, oldest first.
// Records still queued are not seen; call Flush first.
func (fs *FlowStore) List(ctx context.Context, ff FlowFilter) ([]Flow, error) {
	var after []byte
	if !ff.Since.IsZero() {
		// A segment holding a record at Since starts at most segmentSpan
		// earlier; every key of an earlier time sorts at or before this one.
		after = append(flowKey(ff.Since.Add(-segmentSpan-time.Nanosecond), 0)[:len(flowPrefix)+16], bytesFF(16)...)
	}
	out := []Flow{}
	// pending are records read whose place is not known yet: a later
	// segment may hold older ones, up to the time it starts at.
	var pending []Flow
	// settle moves the pending records older than bound (all when bound is
	// zero) to out, oldest first, and reports whether out is full.
	settle := func(bound time.Time) bool {
		slices.SortStableFunc(pending, func(a, b Flow) int { return a.Time.Compare(b.Time) })
		n := len(pending)
		if !bound.IsZero() {
			n, _ = slices.BinarySearchFunc(pending, bound, func(f Flow, t time.Time) int { return f.Time.Compare(t) })
		}
		for _, f := range pending[:n] {
			out = append(out, f)
			if ff.Limit > 0 && len(out) >= ff.Limit {
				return true
			}
		}
		pending = slices.Delete(pending, 0, n)
		return false
	}
	const page = 100
	var reader segmentReader // what it reads is decoded before its next read
	for {
		ents, err := fs.opts.Store.Scan(ctx, flowPrefix, after, page)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			start := keyTime(e.Key)
			if !ff.Until.IsZero() && !start.Before(ff.Until) {
				settle(time.Time{})
				return out, nil
			}
			// Every later segment starts at start or after.
			if settle(start) {
				return out, nil
			}
			recs, err := reader.records(e.Value)
			if err != nil {
				fs.log.Warn("skipping corrupt flow segment", "key", fmt.Sprintf("%q", e.Key), "err", err)
				continue
			}
			for _, r := range recs {
				var f Flow
				if err := json.Unmarshal(r, &f); err != nil {
					fs.log.Warn("skipping corrupt flow record", "key", fmt.Sprintf("%q", e.Key), "err", err)
					continue
				}
				if ff.Match(f) {
					pending = append(pending, f)
				}
			}
		}
		if len(ents) < page {
			settle(time.Time{})
			return out, nil
		}
		after = ents[len(ents)-1].Key
	}
}

func flowKey(t time.Time, seq uint64) []byte {
	k := make([]byte, 0, len(flowPrefix)+32)
	k = append(k, flowPrefix...)
	var b [8]byte
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	binary.BigEndian.PutUint64(b[:], uint64(ns))
	k = hex.AppendEncode(k, b[:])
	binary.BigEndian.PutUint64(b[:], seq)
	return hex.AppendEncode(k, b[:])
}

// keySeq is the sequence number in a flow key (of the first record of its
// segment).
func keySeq(k []byte) uint64 {
	var b [8]byte
	if len(k) != len(flowPrefix)+32 {
		return 0
	}
	if _, err := hex.Decode(b[:], k[len(flowPrefix)+16:]); err != nil {
		return 0
	}
	return binary.BigEndian.Uint64(b[:])
}

func keyTime(k []byte) time.Time {
	if len(k) < len(flowPrefix)+16 {
		return time.Time{}
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], k[len(flowPrefix):len(flowPrefix)+16]); err != nil {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:]))).UTC()
}

func bytesFF(n int) []byte { return []byte(strings.Repeat("f", n)) }

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// appendFlow appends json.Marshal(f), written member by member: the flow
// writer encodes every request's record, and reflection was most of its
// CPU. On an error (Marshal's) dst is returned as it was.
func appendFlow(dst []byte, f *Flow) ([]byte, error) {
	if !jsonenc.EncodableTime(f.Time) {
		// A copy, so that f stays on its caller's stack on every other path.
		_, err := json.Marshal(*f)
		return dst, err
	}
	b := append(dst, `{"time":`...)
	b = jsonenc.AppendTime(b, f.Time)
	start := len(dst) + 1 // the members start after the brace
	b = jsonenc.AppendStringMember(b, start, "requestId", f.RequestID)
	b = jsonenc.AppendStringMember(b, start, "callerObjectId", f.CallerObjectID)
	b = jsonenc.AppendStringMember(b, start, "callerAppId", f.CallerAppID)
	b = jsonenc.AppendStringMember(b, start, "callerTenantId", f.CallerTenantID)
	b = jsonenc.AppendStringMember(b, start, "correlationId", f.CorrelationID)
	b = jsonenc.AppendStringMember(b, start, "clientRequestId", f.ClientRequestID)
	b = append(b, `,"method":`...)
	b = jsonenc.AppendString(b, f.Method)
	b = append(b, `,"path":`...)
	b = jsonenc.AppendString(b, f.Path)
	b = append(b, `,"operation":`...)
	b = jsonenc.AppendString(b, f.Operation)
	b = jsonenc.AppendStringMember(b, start, "resourceId", f.ResourceID)
	b = jsonenc.AppendStringMember(b, start, "workspace", f.Workspace)
	b = jsonenc.AppendStringMember(b, start, "registry", f.Registry)
	b = append(b, `,"class":`...)
	b = jsonenc.AppendString(b, string(f.Class))
	b = append(b, `,"listener":`...)
	b = jsonenc.AppendString(b, f.Listener)
	b = jsonenc.AppendStringMember(b, start, "privateEndpointId", f.PrivateEndpointID)
	b = append(b, `,"metadata":{`...)
	b = appendMetadata(b, &f.Metadata)
	b = append(b, `},"status":`...)
	b = strconv.AppendInt(b, int64(f.Status), 10)
	b = jsonenc.AppendStringMember(b, start, "errorCode", f.ErrorCode)
	if len(f.Decisions) > 0 {
		b = append(b, `,"decisions":[`...)
		for i := range f.Decisions {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDecision(b, &f.Decisions[i])
		}
		b = append(b, ']')
	}
	b = jsonenc.AppendStringMember(b, start, "deployment", f.Deployment)
	return append(b, '}'), nil
}

// appendMetadata appends m's members (json.Marshal's, without the braces).
func appendMetadata(b []byte, m *Metadata) []byte {
	start := len(b)
	if len(m.ResourceIDs) > 0 {
		b = jsonenc.AppendKey(b, start, "resourceIds")
		b = appendStrings(b, m.ResourceIDs)
	}
	params := func(key string, ps []Param) {
		if len(ps) == 0 {
			return
		}
		b = jsonenc.AppendKey(b, start, key)
		b = append(b, '[')
		for i, p := range ps {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = jsonenc.AppendString(b, p.Name)
			b = append(b, `,"value":`...)
			b = jsonenc.AppendString(b, p.Value)
			if p.Redacted {
				b = append(b, `,"redacted":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	params("query", m.Query)
	params("body", m.Body)
	if m.Truncated {
		b = jsonenc.AppendKey(b, start, "truncated")
		b = append(b, "true"...)
	}
	return b
}

// appendDecision appends json.Marshal(d).
func appendDecision(b []byte, d *decision.Decision) []byte {
	start := len(b) + 1
	b = append(b, `{"kind":`...)
	b = jsonenc.AppendString(b, d.Kind)
	b = append(b, `,"outcome":`...)
	b = jsonenc.AppendString(b, d.Outcome)
	b = jsonenc.AppendStringMember(b, start, "action", d.Action)
	b = jsonenc.AppendStringMember(b, start, "scope", d.Scope)
	b = append(b, `,"reason":`...)
	b = jsonenc.AppendString(b, d.Reason)
	if len(d.Refs) > 0 {
		b = append(b, `,"refs":`...)
		b = appendStrings(b, d.Refs)
	}
	return append(b, '}')
}

// appendStrings appends a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
	}
	return append(b, ']')
}
