package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
)

// TestRunTiny runs every scenario for a second at a tiny scale against an
// in-process armlet and checks the figures are sane and the JSON shape.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("drives armlet for several seconds")
	}
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Options{
		Connections: 4, Duration: time.Second, ListSize: 250,
		Scales: []int{50, 300}, ScaleDuration: 300 * time.Millisecond,
		Peer: "azurite", AzuritePath: "/nonexistent/azurite",
		Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	want := ran(AllScenarios)
	if len(rep.Scenarios) != len(want) {
		t.Fatalf("%d scenarios, want %d", len(rep.Scenarios), len(want))
	}
	for i, s := range append(append([]Stats{}, rep.Scenarios...), rep.Bare) {
		if i < len(want) && s.Name != want[i] {
			t.Errorf("scenario %d is %q, want %q", i, s.Name, want[i])
		}
		if s.Requests == 0 || s.RPS <= 0 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %.0f/s, %d errors (%s)", s.Name, s.Requests, s.RPS, s.Errors, s.Note)
		}
		if !(0 < s.P50Ms && s.P50Ms <= s.P99Ms && s.P99Ms <= s.MaxMs) {
			t.Errorf("%s: latencies p50 %v p99 %v max %v out of order", s.Name, s.P50Ms, s.P99Ms, s.MaxMs)
		}
	}
	if l, _ := rep.Scenario(ScenarioList); !strings.Contains(l.Note, "whole listings/s") || strings.Contains(l.Note, "no whole listing") {
		t.Errorf("list note: %q", l.Note)
	}
	if m, _ := rep.Scenario(ScenarioMixed); !strings.Contains(m.Note, "GET p50") || !strings.Contains(m.Note, "PATCH p50") || !strings.Contains(m.Note, "list p50") {
		t.Errorf("mixed note lacks each kind's latencies: %q", m.Note)
	}
	if f, _ := rep.Scenario(ScenarioGetFirst); f.Requests != 250 {
		t.Errorf("first reads: %d requests, want one per workspace (250)", f.Requests)
	}
	if rep.GetToBare <= 0 {
		t.Errorf("GET ratio to bare %v", rep.GetToBare)
	}
	if len(rep.Scale) != 2 || rep.Scale[1].Workspaces != 300 || rep.Scale[1].Get.Requests == 0 || rep.Scale[1].ListFirstPage.Requests == 0 || rep.Scale[1].HeapMB <= 0 {
		t.Errorf("scale: %+v", rep.Scale)
	}
	if rep.Peer == nil || !strings.Contains(rep.Peer.Skipped, "nonexistent") {
		t.Errorf("peer with a missing azurite: %+v", rep.Peer)
	}
	if rep.Startup != nil {
		t.Errorf("startup measured without a binary")
	}
	if len(rep.Targets) != 6 {
		t.Errorf("%d target checks, want 6", len(rep.Targets))
	}
	if bl := rep.BareList; bl == nil || bl.Requests == 0 || bl.Name != "bare-list" || !strings.Contains(bl.Note, "fixed") {
		t.Errorf("bare server with a list page's body: %+v", bl)
	}
	if c := rep.Targets[4]; !c.Measured || !strings.Contains(c.Actual, "at 50 workspaces (bare server: ") {
		t.Errorf("list page target: %+v", c)
	}

	// The JSON shape is an interface (armlet bench --json).
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine", "protocol", "target", "connections", "secondsPerScenario", "scenarios", "bare", "getRatioToBare", "scale", "peer", "targets"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	sc := m["scenarios"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "requests", "errors", "seconds", "requestsPerSecond", "p50Ms", "p99Ms", "maxMs"} {
		if _, ok := sc[k]; !ok {
			t.Errorf("scenario JSON lacks %q: %v", k, sc)
		}
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GET workspace", "bare", "armlet GET / bare server GET", "azurite: skipped", "scale", "targets (issue 6)"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	t.Logf("\n%s", table.String())
}

// TestSharedKey checks the string to sign of Azure Storage's Shared Key
// scheme for a container call: the signature changes with each part.
func TestSharedKey(t *testing.T) {
	h := map[string][]string{"X-Ms-Date": {"Mon, 01 Jan 2024 00:00:00 GMT"}, "X-Ms-Version": {azVersion}}
	a := sharedKey("PUT", h, "/"+azAccount+"/c1", map[string]string{"restype": "container"})
	if !strings.HasPrefix(a, "SharedKey devstoreaccount1:") || len(a) < 40 {
		t.Fatalf("header %q", a)
	}
	for _, other := range []string{
		sharedKey("GET", h, "/"+azAccount+"/c1", map[string]string{"restype": "container"}),
		sharedKey("PUT", h, "/"+azAccount+"/c2", map[string]string{"restype": "container"}),
		sharedKey("PUT", h, "/"+azAccount+"/c1", nil),
	} {
		if other == a {
			t.Errorf("signature does not depend on every part")
		}
	}
}

// TestRunReplicas runs GET and PUT briefly on one, two and three armlet
// replicas sharing a real etcd, beside the bbolt run, and checks every
// count has figures without errors (the token of the first replica is
// accepted by all) and that the run leaves no keys in etcd, compacted.
func TestRunReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("drives armlet replicas for several seconds")
	}
	cluster := etcdtest.Start(t)
	endpoint := cluster.Endpoints[0]
	// Compaction drops the history of every key in the cluster: not on a
	// cluster other tests share (CI's), whose scans read at a revision.
	compact := os.Getenv(etcdtest.EnvCluster) == ""
	const listSize = 40
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Options{
		Connections: 4, Duration: 300 * time.Millisecond, ListSize: listSize,
		Scenarios: []string{ScenarioGet, ScenarioPut},
		Store:     cluster.StoreURL(),
		Replicas:  []int{1, 2, 3}, Compact: compact,
		Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	if len(rep.Scenarios) != 3 {
		t.Errorf("bbolt run: %d scenarios, want 3 (get-first, get, put)", len(rep.Scenarios))
	}
	if len(rep.Replicas) != 3 {
		t.Fatalf("%d replica runs, want 3", len(rep.Replicas))
	}
	prefixes := map[string]bool{}
	for i, rr := range rep.Replicas {
		if rr.Replicas != i+1 || !strings.HasPrefix(rr.EtcdPrefix, EtcdPrefixRoot) || prefixes[rr.EtcdPrefix] {
			t.Errorf("run %d: %d replicas under %q", i, rr.Replicas, rr.EtcdPrefix)
		}
		prefixes[rr.EtcdPrefix] = true
		for _, name := range []string{ScenarioGet, ScenarioPut} {
			s, ok := rr.Scenario(name)
			if !ok || s.Requests == 0 || s.RPS <= 0 || s.Errors != 0 || !(0 < s.P50Ms && s.P50Ms <= s.P99Ms) {
				t.Errorf("%d replicas, %s: %+v", rr.Replicas, name, s)
			}
		}
	}

	// The armlets wrote to etcd (its revision counts every write), and
	// nothing of the run is left there, not even its history.
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	left, err := cli.Get(context.Background(), EtcdPrefixRoot, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	if left.Count != 0 || left.Header.Revision < 3*listSize {
		t.Errorf("after the run etcd holds %d keys under %s at revision %d", left.Count, EtcdPrefixRoot, left.Header.Revision)
	}
	if _, err := cli.Get(context.Background(), EtcdPrefixRoot, clientv3.WithPrefix(), clientv3.WithRev(2)); compact && (err == nil || !strings.Contains(err.Error(), "compacted")) {
		t.Errorf("reading revision 2 after the run: %v, want compacted", err)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replicas on one etcd", "bbolt", "etcd"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	t.Logf("\n%s", table.String())
}

// TestTargetRotates checks that requests rotate over the replicas' base
// URLs, and stay on the one base without replicas.
func TestTargetRotates(t *testing.T) {
	for _, tc := range []struct {
		rotate []string
		want   []string
	}{
		{nil, []string{"https://a", "https://a", "https://a"}},
		{[]string{"https://a", "https://b", "https://c"}, []string{"https://a", "https://b", "https://c", "https://a"}},
	} {
		tg := &target{base: "https://a", rotate: tc.rotate}
		var got []string
		for range tc.want {
			got = append(got, tg.baseURL())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("rotate %v: %v, want %v", tc.rotate, got, tc.want)
		}
	}
}

// TestRunBlobTiny runs the four blob scenarios briefly with small blobs (a
// "64m" blob of 1 MiB in 256 KiB blocks) against an in-process armlet
// through its HTTPS proxy, Azurite missing: each moves blobs without
// errors, reports MiB/s and the memory around it, and the issue 21 target
// is listed as not measured.
func TestRunBlobTiny(t *testing.T) {
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Options{
		Connections: 2, Duration: 300 * time.Millisecond, ListSize: 10,
		Scenarios: []string{ScenarioGet, ScenarioBlobUpload1M, ScenarioBlobUpload64M, ScenarioBlobDownload1M, ScenarioBlobDownload64M},
		BlobSmall: 64 << 10, BlobLarge: 1 << 20, BlobBlock: 256 << 10,
		Peer: "azurite", AzuritePath: "/nonexistent/azurite",
		Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	if len(rep.Scenarios) != 2 || rep.Scenarios[0].Name != ScenarioGetFirst || rep.Scenarios[1].Name != ScenarioGet {
		t.Errorf("scenarios beside the blob ones: %+v", rep.Scenarios)
	}
	if len(rep.Blob) != len(BlobScenarios) {
		t.Fatalf("%d blob runs, want %d", len(rep.Blob), len(BlobScenarios))
	}
	wantCalls := map[string]string{
		ScenarioBlobUpload1M: "Put Blob, single shot", ScenarioBlobDownload1M: "Get Blob, whole, streamed",
		ScenarioBlobUpload64M: "4 Put Block of 256 KiB in turn, then Put Block List", ScenarioBlobDownload64M: "Get Blob, whole, streamed",
	}
	for i, b := range rep.Blob {
		a := b.Armlet
		if b.Name != BlobScenarios[i] || a.Name != b.Name || b.Calls != wantCalls[b.Name] {
			t.Errorf("blob run %d: %q %q calls %q", i, b.Name, a.Name, b.Calls)
		}
		size, conns := 64<<10, 8
		if strings.HasSuffix(b.Name, "-64m") {
			size, conns = 1<<20, 2
		}
		if b.Bytes != size || b.Connections != conns {
			t.Errorf("%s: %d bytes on %d connections, want %d on %d", b.Name, b.Bytes, b.Connections, size, conns)
		}
		if a.Requests == 0 || a.Errors != 0 || a.RPS <= 0 || !(0 < a.P50Ms && a.P50Ms <= a.P99Ms) {
			t.Errorf("%s: %+v", b.Name, a)
		}
		if want := round(float64(a.Requests)*float64(size)/(1<<20)/a.Seconds, 1); a.MiBPerSecond != want {
			t.Errorf("%s: %v MiB/s, want %v", b.Name, a.MiBPerSecond, want)
		}
		if m := b.Memory; m == nil || !strings.Contains(m.Process, "in-process") || m.HeapBeforeMB <= 0 || m.HeapAfterMB <= 0 || m.HeapPeakMB < m.HeapBeforeMB || m.RSSBeforeMB <= 0 || m.RSSPeakMB < m.RSSBeforeMB {
			t.Errorf("%s: memory %+v", b.Name, b.Memory)
		}
		if b.Azurite != nil || b.Ratio != 0 {
			t.Errorf("%s: azurite figures without azurite: %+v", b.Name, b.Azurite)
		}
	}
	if c := rep.Targets[len(rep.Targets)-1]; !strings.Contains(c.Target, "issue 21") || c.Measured || c.Met {
		t.Errorf("blob target: %+v", c)
	}
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Blob []map[string]any `json:"blob"`
	}
	if err := json.Unmarshal(raw, &m); err != nil || len(m.Blob) != 4 {
		t.Fatalf("JSON blob: %v %s", err, raw)
	}
	for _, k := range []string{"name", "bytes", "connections", "calls", "armlet", "memory"} {
		if _, ok := m.Blob[0][k]; !ok {
			t.Errorf("blob JSON lacks %q: %v", k, m.Blob[0])
		}
	}
	if a := m.Blob[0]["armlet"].(map[string]any); a["mibPerSecond"] == nil {
		t.Errorf("blob JSON lacks armlet.mibPerSecond: %v", a)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"blob data plane", "armlet MiB/s", "blob-upload-64m", "memory around each blob scenario", "issue 21"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	t.Logf("\n%s", table.String())
}

// TestBlobEndpointRoundTrip uploads a blob in blocks and in one shot
// through armlet's proxy with the bench's own Shared Key signing, and
// reads back exactly what was written (the blocks in their order).
func TestBlobEndpointRoundTrip(t *testing.T) {
	o := Options{Connections: 1, ListSize: 1, Scenarios: []string{ScenarioBlobUpload64M}}.withDefaults()
	a, err := openArmlet(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	b := &armletBench{o: o, a: a, logf: t.Logf, sub: a.conn.SubscriptionID}
	e, err := b.armletBlobEndpoint(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	payload := blobPayload([]blobCase{{size: 300 << 10}})
	for _, block := range []int{64 << 10, 1 << 20} {
		if err := e.upload(t.Context(), "rt", payload, block); err != nil {
			t.Fatalf("upload in blocks of %d: %v", block, err)
		}
		resp, err := e.send(t.Context(), http.MethodGet, "rt", nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, payload) {
			t.Errorf("blocks of %d: read back %d: %d bytes, equal %v (%v)", block, resp.StatusCode, len(got), bytes.Equal(got, payload), err)
		}
	}
	// A wrong key is refused: the signature is checked, not ignored.
	e.key = []byte("not the key")
	if err := e.download(t.Context(), "rt", len(payload)); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("download with a wrong key: %v", err)
	}
}

// TestBlobCheck: issue 21's target is met when every blob scenario moves at
// least twice Azurite's MiB/s, and not measured when one lacks Azurite.
func TestBlobCheck(t *testing.T) {
	az := func(mibs float64) *Stats { return &Stats{MiBPerSecond: mibs} }
	for _, tc := range []struct {
		name               string
		runs               []BlobRun
		present, met, meas bool
	}{
		{"none", nil, false, false, false},
		{"all twice", []BlobRun{{Name: "a", Azurite: az(10), Ratio: 2}, {Name: "b", Azurite: az(10), Ratio: 3.5}}, true, true, true},
		{"one below", []BlobRun{{Name: "a", Azurite: az(10), Ratio: 2}, {Name: "b", Azurite: az(10), Ratio: 1.9}}, true, false, true},
		{"one without azurite", []BlobRun{{Name: "a", Azurite: az(10), Ratio: 5}, {Name: "b"}}, true, false, false},
	} {
		c, ok := blobCheck(&Report{Blob: tc.runs})
		if ok != tc.present || c.Met != tc.met || c.Measured != tc.meas {
			t.Errorf("%s: %+v present %v", tc.name, c, ok)
		}
	}
}

// TestTargetPID: a --target's memory is read from the process its data
// dir's armlet.pid names, when that process runs here.
func TestTargetPID(t *testing.T) {
	for _, tc := range []struct {
		name, pidFile string
		want          int
	}{
		{"this process", strconv.Itoa(os.Getpid()) + "\n", os.Getpid()},
		{"no pid file", "", 0},
		{"not a number", "armlet\n", 0},
		{"not running", "2147483646\n", 0},
	} {
		dir := t.TempDir()
		if tc.pidFile != "" {
			if err := os.WriteFile(filepath.Join(dir, "armlet.pid"), []byte(tc.pidFile), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if got := targetPID(filepath.Join(dir, "connection.json")); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestNextLinkOf(t *testing.T) {
	for _, tc := range []struct{ page, want string }{
		{`{"value":[{"name":"a","nextLink":"inner"}],"nextLink":"https://h/x?$skipToken=a%2Fb"}`, "https://h/x?$skipToken=a%2Fb"},
		{`{"value":[{"name":"a"}]}` + "\n", ""},
		{`{"value":[{"name":"a","nextLink":"inner"}]}`, ""},
		{`{"nextLink":"https://h/\u0026x","value":[]}`, "https://h/&x"},
		{`{"value":[], "nextLink" : "spaced"}`, "spaced"},
	} {
		if got := nextLinkOf([]byte(tc.page)); got != tc.want {
			t.Errorf("nextLinkOf(%s) = %q, want %q", tc.page, got, tc.want)
		}
	}
}

// ran is the scenarios a run of asked reports: the first reads before GET.
func ran(asked []string) []string {
	var out []string
	for _, sc := range asked {
		if sc == ScenarioGet {
			out = append(out, ScenarioGetFirst)
		}
		out = append(out, sc)
	}
	return out
}
