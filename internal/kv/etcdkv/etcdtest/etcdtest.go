// Package etcdtest starts a real, single-member etcd server inside a test
// (go.etcd.io/etcd/server/v3/embed), for the tests of etcdkv and of armlet on
// etcd. It is test support only: armlet itself never embeds etcd.
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// MaxTxnOps is the server's limit of operations per transaction: above
// etcd's default of 128 so that the benchmarks' 1,000-key fills fit in one
// Txn. armlet's engine stays under 100 writes per Txn, within the default.
const MaxTxnOps = 2048

// Start starts an etcd server in t.TempDir() on free loopback ports and
// returns its client URL. The server stops when the test ends.
func Start(t testing.TB) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "armlet-test"
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "fatal" // its shutdown logs errors about closed listeners
	cfg.MaxTxnOps = MaxTxnOps
	client, peer := freeURL(t), freeURL(t)
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = fmt.Sprintf("%s=%s", cfg.Name, peer.String())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start embedded etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("embedded etcd: %v", err)
	case <-time.After(30 * time.Second):
		e.Server.Stop()
		t.Fatal("embedded etcd not ready after 30s")
	}
	return client.String()
}

// freeURL returns an http URL on a loopback port that was free a moment
// ago. Another process may take it before etcd listens; StartEtcd then
// fails and so does the test, loudly.
func freeURL(t testing.TB) url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return url.URL{Scheme: "http", Host: addr}
}
