package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
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
	if len(rep.Scenarios) != len(AllScenarios) {
		t.Fatalf("%d scenarios, want %d", len(rep.Scenarios), len(AllScenarios))
	}
	for i, s := range append(append([]Stats{}, rep.Scenarios...), rep.Bare) {
		if i < len(AllScenarios) && s.Name != AllScenarios[i] {
			t.Errorf("scenario %d is %q, want %q", i, s.Name, AllScenarios[i])
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
	if len(rep.Targets) != 5 {
		t.Errorf("%d target checks, want 5", len(rep.Targets))
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
	if len(rep.Scenarios) != 2 {
		t.Errorf("bbolt run: %d scenarios, want 2", len(rep.Scenarios))
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
