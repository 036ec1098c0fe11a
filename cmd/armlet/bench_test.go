package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/bench"
)

func TestBenchFlags(t *testing.T) {
	o, asJSON, err := benchFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Connections != 64 || o.Duration != 10*time.Second || o.ListSize != 10000 || asJSON ||
		!slices.Equal(o.Scales, []int{1000, 10000, 100000}) || !slices.Equal(o.Scenarios, bench.AllScenarios) ||
		o.Binary == "" || o.Target != "" || o.Peer != "" || o.BlobBlock != 8<<20 || o.BlobConnections != 0 {
		t.Errorf("defaults: %+v json=%v", o, asJSON)
	}
	o, asJSON, err = benchFlags([]string{"--connections", "8", "--duration", "1s", "--scale", "10, 100", "--scenarios", "get,list",
		"--target", "/x/connection.json", "--peer", "azurite", "--azurite", "/opt/azurite", "--no-startup", "--json", "--list-size", "50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Connections != 8 || o.Duration != time.Second || !slices.Equal(o.Scales, []int{10, 100}) ||
		!slices.Equal(o.Scenarios, []string{"get", "list"}) || o.Target != "/x/connection.json" || o.Peer != "azurite" ||
		o.AzuritePath != "/opt/azurite" || o.Binary != "" || !asJSON || o.ListSize != 50 {
		t.Errorf("parsed: %+v json=%v", o, asJSON)
	}
	o, _, err = benchFlags([]string{"--store", "etcd://127.0.0.1:2379", "--replicas", "1, 2,3", "--compact"}, io.Discard)
	if err != nil || o.Store != "etcd://127.0.0.1:2379" || !slices.Equal(o.Replicas, []int{1, 2, 3}) || !o.Compact {
		t.Errorf("replicas: %q %v %v", o.Store, o.Replicas, err)
	}
	// The blob scenarios run only when named; "blob" names all four.
	o, _, err = benchFlags([]string{"--scenarios", "get,blob", "--blob-connections", "4", "--blob-block-mib", "64"}, io.Discard)
	if err != nil || !slices.Equal(o.Scenarios, append([]string{"get"}, bench.BlobScenarios...)) || o.BlobConnections != 4 || o.BlobBlock != 64<<20 {
		t.Errorf("blob: %v %d %v", o.Scenarios, o.BlobConnections, err)
	}
	if o, _, err := benchFlags([]string{"--scenarios", "blob-download-64m"}, io.Discard); err != nil || !slices.Equal(o.Scenarios, []string{"blob-download-64m"}) || o.BlobConnections != 0 {
		t.Errorf("one blob scenario: %v %v", o.Scenarios, err)
	}
	if slices.ContainsFunc(bench.AllScenarios, func(s string) bool { return strings.HasPrefix(s, "blob") }) {
		t.Errorf("a blob scenario is in the default list: %v", bench.AllScenarios)
	}
	if o, _, err := benchFlags([]string{"--scale", ""}, io.Discard); err != nil || o.Scales != nil {
		t.Errorf("empty --scale: %v %v", o.Scales, err)
	}
	for _, bad := range [][]string{
		{"--connections", "0"}, {"--duration", "0s"}, {"--scale", "10,x"}, {"--scale", "100,10"},
		{"--scenarios", "get,delete"}, {"--replicas", "2"}, {"--store", "etcd://h:1", "--replicas", "2,1"},
		{"--store", "etcd://h:1", "--replicas", "0"}, {"--store", "/var/etcd"}, {"--compact"}, {"--peer", "localstack"}, {"extra"}, {"--list-size", "0"}, {"--nope"},
		{"--scenarios", "blob-upload-2m"}, {"--blob-connections", "-1"}, {"--blob-block-mib", "0"}, {"--blob-block-mib", "4001"},
	} {
		if _, _, err := benchFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	var out strings.Builder
	if _, _, err := benchFlags([]string{"-h"}, &out); err == nil || !strings.Contains(out.String(), "--connections") && !strings.Contains(out.String(), "-connections") {
		t.Errorf("-h: %v %q", err, out.String())
	}
}
