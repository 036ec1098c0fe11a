package netmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/boltkv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

const ws = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"key": true, "keys": true, "primaryKey": true, "accountKey": true, "apiKey": true, "private_key": true,
		"secret": true, "clientSecret": true, "client_secret": true, "Password": true, "adminPassword": true,
		"ADMINPASSWORD": true, "token": true, "sasToken": true, "SASToken": true, "sasUri": true, "sig": true,
		"credentials": true, "connectionString": true, "ConnectionStrings": true, "connection-string": true,
		"certificate": true, "pfxBlob": true, "client_assertion": true, "Authorization": true, "x-ms-secret-thing": true,
		"keyVault": false, "keyName": false, "name": false, "location": false, "description": false, "v1LegacyMode": false,
		"publicNetworkAccess": false, "authMode": false, "api-version": false, "client_id": false, "storageAccount": false,
		"monitor": false, "subnet": false, "grant_type": false, "scope": false, "$top": false,
	} {
		if got := SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestRedactJSON: every secret-named member's value is replaced at any
// depth, inside arrays too, the rest is kept, nulls stay null, and the
// input is not changed.
func TestRedactJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"flat", `{"name":"n","password":"p"}`, `{"name":"n","password":"[REDACTED]"}`},
		{"nested object replaced whole", `{"data":{"secrets":{"secretsType":"AccountKey","key":"k"}}}`,
			`{"data":{"secrets":"[REDACTED]"}}`},
		{"inside arrays", `{"items":[{"name":"a","clientSecret":"s"},{"name":"b"}]}`,
			`{"items":[{"clientSecret":"[REDACTED]","name":"a"},{"name":"b"}]}`},
		{"keys and tokens", `{"keys":{"primaryKey":"p"},"kubeToken":"t","keyVault":"kv"}`,
			`{"keyVault":"kv","keys":"[REDACTED]","kubeToken":"[REDACTED]"}`},
		{"null stays null", `{"password":null,"n":1}`, `{"n":1,"password":null}`},
		{"scalar", `"password"`, `"password"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in any
			if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(RedactJSON(in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("RedactJSON(%s) = %s, want %s", tt.in, got, tt.want)
			}
			if again, _ := json.Marshal(in); !jsonEqual(t, string(again), tt.in) {
				t.Errorf("the input changed: %s", again)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		t.Fatalf("not JSON: %s / %s", a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestExtractMetadata(t *testing.T) {
	body := `{"location":"eastus","tags":{"env":"prod"},"properties":{"description":"d","v1LegacyMode":true,"count":3,
		"keyVault":"` + "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1" + `",
		"credentials":{"accountKey":"AAAA","nested":{"x":1}},"authMode":"Key","primaryKey":"sekrit",
		"items":[{"name":"a","password":"p"},{"name":"b"}],"empty":{},"none":[],"nil":null}}`
	q := url.Values{"api-version": {"2024-04-01"}, "sig": {"abc"}, "$filter": {"name eq 'x'"}}
	m := ExtractMetadata(ws+"/connections/c1", q, "application/json; charset=utf-8", []byte(body))
	got := map[string]string{}
	for _, p := range m.Body {
		got[p.Name] = p.Value
	}
	want := map[string]string{
		"location": "eastus", "tags.env": "prod", "properties.description": "d", "properties.v1LegacyMode": "true",
		"properties.count": "3", "properties.keyVault": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",
		"properties.credentials": Redacted, "properties.authMode": "Key", "properties.primaryKey": Redacted,
		"properties.items[0].name": "a", "properties.items[0].password": Redacted, "properties.items[1].name": "b",
		"properties.empty": "{}", "properties.none": "[]", "properties.nil": "null",
	}
	if len(got) != len(want) {
		t.Errorf("body params = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("body %s = %q, want %q", k, got[k], v)
		}
	}
	raw, _ := json.Marshal(m)
	for _, secret := range []string{"AAAA", "sekrit", `"p"`, "abc"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("metadata leaks %s: %s", secret, raw)
		}
	}
	// Sent without a Content-Type, a JSON body is read (and redacted) the
	// same way.
	if bare := ExtractMetadata(ws+"/connections/c1", q, "", []byte(body)); !slices.Equal(bare.Body, m.Body) {
		t.Errorf("body params without a Content-Type = %v, want %v", bare.Body, m.Body)
	}
	wantQuery := []Param{{"$filter", "name eq 'x'", false}, {"api-version", "2024-04-01", false}, {"sig", Redacted, true}}
	if !slices.Equal(m.Query, wantQuery) {
		t.Errorf("query = %v, want %v", m.Query, wantQuery)
	}
	wantIDs := []string{ws + "/connections/c1", "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"}
	if !slices.Equal(m.ResourceIDs, wantIDs) {
		t.Errorf("resource ids = %v, want %v", m.ResourceIDs, wantIDs)
	}

	// A form body (the token service) is read like a query.
	m = ExtractMetadata("", nil, "application/x-www-form-urlencoded", []byte("grant_type=client_credentials&client_id=abc&client_secret=hunter2&scope=x%2F.default"))
	if raw, _ := json.Marshal(m); bytes.Contains(raw, []byte("hunter2")) || !bytes.Contains(raw, []byte(`"client_id","value":"abc"`)) {
		t.Errorf("form metadata = %s", raw)
	}
	// Not JSON, not a form: nothing from the body; malformed JSON: nothing.
	if m := ExtractMetadata("", nil, "application/octet-stream", []byte("password=x")); len(m.Body) != 0 {
		t.Errorf("octet-stream body read: %v", m.Body)
	}
	if m := ExtractMetadata("", nil, "application/json", []byte(`{"a":`)); len(m.Body) != 0 {
		t.Errorf("malformed body read: %v", m.Body)
	}
	// Limits.
	var big strings.Builder
	big.WriteString(`{"v":"` + strings.Repeat("x", 1000) + `"`)
	for i := range 500 {
		fmt.Fprintf(&big, `,"p%d":%d`, i, i)
	}
	big.WriteString("}")
	m = ExtractMetadata("", nil, "", []byte(big.String()))
	if !m.Truncated || len(m.Body) != maxParams {
		t.Errorf("big body: %d params, truncated %v", len(m.Body), m.Truncated)
	}
}

func TestLoopbackAddress(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "127.77.0.1", 1: "127.77.0.2", 253: "127.77.0.254", 254: "127.77.1.1", 256*254 - 1: "127.77.255.254",
		256 * 254: "127.78.0.1", 178*256*254 - 1: "127.254.255.254",
	} {
		if got, err := LoopbackAddress(n); got != want || err != nil {
			t.Errorf("LoopbackAddress(%d) = %q, %v; want %q", n, got, err, want)
		}
	}
	if _, err := LoopbackAddress(178 * 256 * 254); err == nil {
		t.Error("LoopbackAddress beyond 127.254.255.254 did not fail")
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startFlows(t testing.TB, store kv.Store, clk *fakeClock, maxRecords int, maxAge time.Duration) (*FlowStore, func()) {
	t.Helper()
	fs, err := OpenFlows(context.Background(), FlowOptions{Store: kv.SpaceNetModel.Of(store), Now: clk.Now, MaxRecords: maxRecords, MaxAge: maxAge})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fs.Run(ctx); close(done) }()
	return fs, func() { cancel(); <-done }
}

func obs(clk *fakeClock, path string) Observation {
	return resolved(Observation{Time: clk.Now(), Service: ServiceARM, Method: "GET", Path: path, Class: ARMPublic, Status: 200})
}

// resolved fills in what the front door resolves an ARM observation to.
func resolved(o Observation) Observation {
	p, err := resourceid.ParsePath(o.Path)
	if err != nil {
		panic(err)
	}
	o.Operation, o.Resource = action.Of(o.Method, p)
	return o
}

// flowTxns is a store that remembers, for every transaction, how many
// flow records it wrote (in all its segments).
type flowTxns struct {
	kv.Store
	mu       sync.Mutex
	sizes    []int // records per transaction
	segBytes []int // bytes of segment values per transaction
}

func (s *flowTxns) Txn(ctx context.Context, ops ...kv.Op) (int64, error) {
	n, size := 0, 0
	for _, op := range ops {
		if !op.Delete && bytes.Contains(op.Key, flowPrefix) {
			recs, err := segmentRecords(op.Value)
			if err != nil {
				panic(err)
			}
			n += len(recs)
			size += len(op.Value)
		}
	}
	if n > 0 {
		s.mu.Lock()
		s.sizes = append(s.sizes, n)
		s.segBytes = append(s.segBytes, size)
		s.mu.Unlock()
	}
	return s.Store.Txn(ctx, ops...)
}

func (s *flowTxns) segmentBytes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.segBytes)
}

func (s *flowTxns) written() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sizes)
}

// TestFlowBatching proves the batching of flow records: records queued
// together are written together, flowBatch to a transaction at the most,
// and a record queued alone is written at once, without a Flush. A shared
// store (etcd) gets the same batches.
// sharedFlowTxns is a flowTxns the writer takes for a store other
// processes write too (its batches keep to etcd's limit).
type sharedFlowTxns struct{ *flowTxns }

func (sharedFlowTxns) Watch(ctx context.Context, _ []byte, _ func(kv.Entry)) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestFlowBatching(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shared bool
		batch  int
	}{
		{"store of its own", false, flowBatch},
		{"shared store", true, flowBatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			txns := &flowTxns{Store: memkv.New()}
			var store kv.Store = txns
			if tc.shared {
				store = sharedFlowTxns{txns}
			}
			clk := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			fs, err := OpenFlows(ctx, FlowOptions{Store: kv.SpaceNetModel.Of(store), Now: clk.Now, QueueSize: 4 * flowBatch})
			if err != nil {
				t.Fatal(err)
			}
			// Queued before the writer starts, so that it finds them all waiting.
			queued := 2*tc.batch + 54
			for i := range queued {
				clk.Add(time.Millisecond)
				fs.Record(obs(clk, fmt.Sprintf("%s/jobs/j%d", ws, i)))
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { fs.Run(runCtx); close(done) }()
			defer func() { cancel(); <-done }()
			if err := fs.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := txns.written(), []int{tc.batch, tc.batch, 54}; !slices.Equal(got, want) {
				t.Fatalf("%d queued records written in transactions of %v, want %v", queued, got, want)
			}

			// One more record, with the writer idle: it is stored without a Flush.
			clk.Add(time.Millisecond)
			fs.Record(obs(clk, ws+"/jobs/alone"))
			deadline := time.Now().Add(5 * time.Second)
			for {
				got, err := fs.List(ctx, FlowFilter{Resource: ws + "/jobs/alone"})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a record queued alone was not written within 5 s without a Flush; transactions %v", txns.written())
				}
				time.Sleep(time.Millisecond)
			}
			if got := txns.written(); len(got) != 4 || got[3] != 1 {
				t.Fatalf("transactions %v, want a fourth of one record", got)
			}

			// Records arriving one by one, faster than the linger, share
			// transactions: a commit each would cost an fsync each.
			for i := range 10 {
				clk.Add(time.Millisecond)
				fs.Record(obs(clk, fmt.Sprintf("%s/jobs/trickle%d", ws, i)))
				time.Sleep(time.Millisecond)
			}
			if err := fs.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := txns.written()[4:]; len(got) > 5 {
				t.Errorf("10 records a millisecond apart written in %d transactions %v, want them batched", len(got), got)
			}
		})
	}
}

func TestFlowRetention(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	clk := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	fs, stop := startFlows(t, store, clk, 100, time.Hour)
	for i := range 250 {
		clk.Add(time.Millisecond)
		fs.Record(obs(clk, fmt.Sprintf("%s/jobs/j%d", ws, i)))
	}
	if err := fs.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := fs.List(ctx, FlowFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 100 || !strings.HasSuffix(all[0].ResourceID, "/j150") || !strings.HasSuffix(all[99].ResourceID, "/j249") {
		t.Fatalf("kept %d records, first %q", len(all), all[0].ResourceID)
	}
	if fs.count != 100 {
		t.Errorf("count = %d, want 100", fs.count)
	}

	// Filters.
	mid := all[50].Time
	for _, c := range []struct {
		name   string
		filter FlowFilter
		want   int
	}{
		{"since", FlowFilter{Since: mid}, 50},
		{"until", FlowFilter{Until: mid}, 50},
		{"resource", FlowFilter{Resource: ws + "/jobs/j200"}, 1},
		{"resource prefix matching a longer name", FlowFilter{Resource: ws + "/jobs/j20"}, 0},
		{"class", FlowFilter{Class: ARMPrivate}, 0},
		{"limit", FlowFilter{Limit: 7}, 7},
	} {
		got, err := fs.List(ctx, c.filter)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(got) != c.want {
			t.Errorf("%s: %d records, want %d", c.name, len(got), c.want)
		}
		if c.filter.Since.Equal(mid) && len(got) > 0 && !got[0].Time.Equal(mid) {
			t.Errorf("since: first record at %v, want %v", got[0].Time, mid)
		}
	}

	// Counters survive a restart.
	stop()
	fs, stop = startFlows(t, store, clk, 100, time.Hour)
	defer stop()
	if fs.count != 100 || fs.seq != 250 {
		t.Fatalf("reopened with count %d seq %d", fs.count, fs.seq)
	}

	// Age: an hour after the last record, one new record pushes out every
	// older one.
	clk.Add(time.Hour + time.Millisecond)
	fs.Record(obs(clk, ws+"/jobs/late"))
	if err := fs.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if all, err = fs.List(ctx, FlowFilter{}); err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || !strings.HasSuffix(all[0].ResourceID, "/late") || fs.count != 1 {
		t.Fatalf("after aging: %d records (count %d)", len(all), fs.count)
	}
}

func TestFlowOf(t *testing.T) {
	ep := &Endpoint{ID: mustID(t, "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe1"), GroupID: "amlworkspace"}
	f := FlowOf(Observation{
		Time: time.Unix(100, 0), Service: ServiceWorkspace, Method: "GET", Path: "/history/v1.0" + ws + "/experiments/e1/runs",
		RawQuery: "api-version=1", CallerObjectID: "oid", CallerAppID: "app",
		Origin: Origin{Listener: "127.77.0.1:8443", Endpoint: ep}, Class: WorkspacePrivate, Status: 404, ErrorCode: "NotFound",
		Operation: "Microsoft.MachineLearningServices/workspaces/experiments/runs/read", Resource: mustID(t, ws+"/experiments/e1"),
	})
	if f.Operation != "Microsoft.MachineLearningServices/workspaces/experiments/runs/read" || f.Workspace != ws ||
		f.PrivateEndpointID != ep.ID.String() || f.Listener != "127.77.0.1:8443" || f.ErrorCode != "NotFound" || f.CallerAppID != "app" {
		t.Errorf("flow = %+v", f)
	}
	tok := FlowOf(Observation{Service: ServiceToken, Method: "POST", Path: "/t/oauth2/v2.0/token", ContentType: "application/x-www-form-urlencoded",
		Body: []byte("client_id=a&client_secret=s3cr3t")})
	if tok.Operation != "Microsoft.AAD/token/action" || tok.Workspace != "" {
		t.Errorf("token flow = %+v", tok)
	}
	if raw, _ := json.Marshal(tok); bytes.Contains(raw, []byte("s3cr3t")) {
		t.Errorf("token flow leaks the secret: %s", raw)
	}
	// A Key Vault body's value is a secret whatever it looks like: not a
	// body property, not a resource ID; a body that is not a JSON object
	// is kept not at all.
	for _, body := range []string{
		`{"value":"/subscriptions/s1/resourceGroups/hunter2","contentType":"text/plain"}`,
		`{"Value":"hunter2"}`,
		`hunter2`,
		`["hunter2"]`,
	} {
		vf := FlowOf(Observation{Service: ServiceKeyVault, Method: "PUT", Path: "/secrets/s1", ContentType: "application/json", Body: []byte(body)})
		if raw, _ := json.Marshal(vf); bytes.Contains(raw, []byte("hunter2")) {
			t.Errorf("a key vault flow of %s leaks the value: %s", body, raw)
		}
	}
	// A request refused before its path was resolved names no resource:
	// the flow never guesses from the raw path.
	unresolved := FlowOf(Observation{Service: ServiceWorkspace, Method: "GET", Path: "/history/v1.0/%73ubscriptions/s1/x", Status: 400})
	if unresolved.Operation != "unknown/read" || unresolved.ResourceID != "" || unresolved.Workspace != "" {
		t.Errorf("unresolved flow = %+v", unresolved)
	}
}

func mustID(t testing.TB, s string) resourceid.ID {
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestListenersReconcile(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	var mu sync.Mutex
	var eps []Endpoint
	source := func(context.Context) ([]Endpoint, error) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(eps), nil
	}
	set := func(e ...Endpoint) { mu.Lock(); eps = e; mu.Unlock() }
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := OriginFrom(r.Context())
		fmt.Fprintf(w, "%s %s %s", o.Endpoint.ID, o.Endpoint.GroupID, o.Listener)
	})
	newL := func() *Listeners {
		return NewListeners(ListenerOptions{Source: source, Handler: handler, Store: kv.SpaceNetModel.Of(store)})
	}
	l := newL()
	defer l.Close()

	pe := func(name, group string) Endpoint {
		return Endpoint{ID: mustID(t, "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/"+name),
			PrivateIP: "10.0.0.4", TargetID: mustID(t, ws), GroupID: group}
	}
	get := func(addr string) (string, error) {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + addr + "/x")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	set(pe("pe1", "amlworkspace"), pe("pe2", "amlworkspace"))
	if err := l.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	ls := l.List()
	if len(ls) != 2 || !strings.HasPrefix(ls[0].Address, "127.77.0.1:") || !strings.HasPrefix(ls[1].Address, "127.77.0.2:") {
		t.Fatalf("listeners = %+v", ls)
	}
	for _, x := range ls {
		body, err := get(x.Address)
		if err != nil || body != x.PrivateEndpointID+" amlworkspace "+x.Address {
			t.Errorf("GET on %s = %q, %v", x.Address, body, err)
		}
	}

	// The first endpoint goes away, its details change for the other,
	// and a third arrives.
	p2 := pe("pe2", "ResourceManagement")
	set(p2, pe("pe3", "amlworkspace"))
	if err := l.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := get(ls[0].Address); err == nil {
		t.Errorf("the listener of a removed endpoint still answers on %s", ls[0].Address)
	}
	if body, err := get(ls[1].Address); err != nil || !strings.Contains(body, "ResourceManagement") {
		t.Errorf("GET on %s after the change = %q, %v", ls[1].Address, body, err)
	}
	ls2 := l.List()
	if len(ls2) != 2 || ls2[0].Address != ls[1].Address || !strings.HasPrefix(ls2[1].Address, "127.77.0.3:") {
		t.Fatalf("listeners = %+v", ls2)
	}

	// A restart keeps every endpoint's address and port; pe1 returning
	// gets its old address back.
	l.Close()
	set(p2, pe("pe3", "amlworkspace"), pe("pe1", "amlworkspace"))
	l2 := newL()
	defer l2.Close()
	if err := l2.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range l2.List() {
		got[x.PrivateEndpointID[strings.LastIndexByte(x.PrivateEndpointID, '/')+1:]] = x.Address
	}
	if got["pe1"] != ls[0].Address || got["pe2"] != ls[1].Address || got["pe3"] != ls2[1].Address {
		t.Errorf("after restart: %v; before %v %v", got, ls, ls2)
	}

	// A failing source changes nothing.
	l2.opts.Source = func(context.Context) ([]Endpoint, error) { return nil, fmt.Errorf("store down") }
	if err := l2.Reconcile(ctx); err == nil || len(l2.List()) != 3 {
		t.Errorf("failing source: err %v, %d listeners", err, len(l2.List()))
	}
}

// BenchmarkRecord measures what recording a flow costs a request: one
// queue send, with the batching writer storing into bbolt (fsync'd)
// behind it. BenchmarkRecordDirect is the cost without batching: one
// store transaction per request.
func BenchmarkRecord(b *testing.B) {
	store := benchBolt(b)
	clk := &fakeClock{now: time.Now()}
	fs, stop := startFlows(b, store, clk, 1_000_000, 24*time.Hour)
	defer stop()
	o := benchObservation(clk)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fs.Record(o)
	}
	b.StopTimer()
	if err := fs.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRecordDirect(b *testing.B) {
	store := benchBolt(b)
	clk := &fakeClock{now: time.Now()}
	o := benchObservation(clk)
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		seq++
		raw, _ := json.Marshal(FlowOf(o))
		if _, err := kv.SpaceNetModel.Of(store).Txn(context.Background(), kv.Put(flowKey(o.Time, seq), raw)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlowWriter measures what the writer spends per record in the
// steady state of a long-running armlet: records of workspace GETs with
// their RBAC decision, stored in batches into bbolt while retention prunes
// as many as each batch adds. It is the CPU the flow records take from the
// requests beside them (the writer shares the cores), not a request's wait.
func BenchmarkFlowWriter(b *testing.B) {
	store := benchBolt(b)
	clk := &fakeClock{now: time.Now()}
	const retained = 20000
	fs, stop := startFlows(b, store, clk, retained, 24*time.Hour)
	defer stop()
	ctx := context.Background()
	o := resolved(Observation{
		Service: ServiceARM, Method: "GET", Path: ws, RawQuery: "api-version=2024-04-01",
		Class: ARMPublic, Status: 200, CallerObjectID: "ce6da557-9999-4988-b7fa-395e4db88396",
		CallerAppID: "6eb6dc90-39c4-41d1-af53-d8d928009643", CallerTenantID: "c8a32d93-9ee0-4177-99b7-4777f93df583",
		RequestID: "617bd443-f6e3-49ee-ad8b-8e3af657a8ff", CorrelationID: "60fe33a4-afa9-4b9f-8385-0e3af657a8fa",
		Decisions: []decision.Decision{{Kind: "rbac", Outcome: "allowed", Action: "Microsoft.MachineLearningServices/workspaces/read", Scope: ws,
			Reason: "Role assignment '/providers/Microsoft.Authorization/roleAssignments/e5399e15-3c39-51df-8d2d-6934565acb8c' gives role 'Owner' to principal 'ce6da557-9999-4988-b7fa-395e4db88396' at scope '/', which grants action 'Microsoft.MachineLearningServices/workspaces/read'.",
			Refs:   []string{"/providers/Microsoft.Authorization/roleAssignments/e5399e15-3c39-51df-8d2d-6934565acb8c", "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}}},
	})
	record := func(n int) {
		for range n {
			clk.Add(50 * time.Microsecond)
			o.Time = clk.Now()
			fs.Record(o)
			if fs.Dropped() > 0 {
				b.Fatal("the writer's queue overflowed: record in smaller steps")
			}
		}
		if err := fs.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for range retained / flowBatch * 2 { // past retention: every batch prunes
		record(flowBatch)
	}
	b.ReportAllocs()
	cpu := processCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i += flowBatch {
		record(min(flowBatch, b.N-i))
	}
	b.StopTimer()
	// The wall time includes the fsync of each batch's commit; the CPU
	// time is what the requests would lose.
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time the process has used (user and system).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBolt opens a bbolt store in a temporary directory for a benchmark,
// closed when it ends.
func benchBolt(b *testing.B) *boltkv.Store {
	store, err := boltkv.Open(filepath.Join(b.TempDir(), "flows.db"), boltkv.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	return store
}

func benchObservation(clk *fakeClock) Observation {
	return resolved(Observation{
		Time: clk.Now(), Service: ServiceARM, Method: "PUT", Path: ws + "/onlineEndpoints/ep1",
		RawQuery: "api-version=2024-04-01", ContentType: "application/json",
		Body:  []byte(`{"location":"eastus","properties":{"authMode":"Key","description":"bench","traffic":{"blue":100}}}`),
		Class: ARMPublic, Status: 200, CallerObjectID: "oid", CallerAppID: "app",
	})
}

// TestFlowWritersShareOneStore runs two flow stores on one kv store, as two
// replicas do: their concurrent batches keep every record under a key of its own
// and the count exact, only the leader prunes, and its retention pass ages
// records out with no request coming.
func TestFlowWritersShareOneStore(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	clk := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	open := func(leading bool, maxRecords int) (*FlowStore, func()) {
		fs, err := OpenFlows(ctx, FlowOptions{Store: kv.SpaceNetModel.Of(store), Now: clk.Now, MaxRecords: maxRecords, MaxAge: time.Hour,
			Leading: func() bool { return leading }})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); fs.Run(rctx) }()
		go func() { defer wg.Done(); fs.RunRetention(rctx, 5*time.Millisecond) }()
		return fs, func() { cancel(); wg.Wait() }
	}
	leader, stopLeader := open(true, 10000)
	defer stopLeader()
	follower, stopFollower := open(false, 10)
	defer stopFollower()

	var wg sync.WaitGroup
	for w, fs := range []*FlowStore{leader, follower} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				fs.Record(obs(clk, fmt.Sprintf("%s/jobs/w%d-%d", ws, w, i)))
				if i%50 == 0 {
					_ = fs.Flush(ctx)
				}
			}
			if err := fs.Flush(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	all, err := leader.List(ctx, FlowFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// The follower's MaxRecords of 10 must not have pruned anything.
	if len(all) != 600 {
		t.Fatalf("stored %d records, want 600", len(all))
	}
	ent, err := kv.SpaceNetModel.Of(store).Get(ctx, flowMetaKey)
	if err != nil {
		t.Fatal(err)
	}
	var m flowMeta
	if err := json.Unmarshal(ent.Value, &m); err != nil {
		t.Fatal(err)
	}
	if m.Count != 600 || m.Seq != 600 {
		t.Fatalf("meta record %+v, want count and seq 600", m)
	}

	// An hour later, with no request, the leader's retention pass removes
	// them all.
	clk.Add(time.Hour + time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; {
		all, err = leader.List(ctx, FlowFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records still stored after their age", len(all))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRecordNeverBlocks: with the writer's queue full, Record returns at
// once and counts what it dropped; what was queued is stored.
func TestRecordNeverBlocks(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	clk := &fakeClock{now: time.Now()}
	fs, err := OpenFlows(ctx, FlowOptions{Store: kv.SpaceNetModel.Of(store), Now: clk.Now, QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // the writer is not running: the queue fills at once
		for range 10 {
			fs.Record(benchObservation(clk))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a full queue")
	}
	if got := fs.Dropped(); got != 8 {
		t.Errorf("Dropped = %d, want 8 (10 recorded, room for 2)", got)
	}
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { fs.Run(runCtx); close(stopped) }()
	if err := fs.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-stopped
	if got, err := fs.List(ctx, FlowFilter{}); err != nil || len(got) != 2 {
		t.Errorf("stored %d records (err %v), want the 2 queued", len(got), err)
	}
}
