// Package etcdtest gives a test a real etcd cluster and a key prefix of its
// own on it, for the tests of etcdkv and of armlet on etcd. It is test
// support only: armlet itself never embeds etcd.
//
// By default every Start embeds a fresh single-member etcd server
// (go.etcd.io/etcd/server/v3/embed). When the environment variable
// EnvCluster names the client URLs of a running cluster (CI starts a
// three-member one with .ci/etcd-cluster), every Start uses that cluster
// instead, and tests running at once in several packages share it: the
// fresh prefix of each Start keeps their keys apart.
package etcdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/armlet/armlet/internal/kv/etcdkv"
)

// EnvCluster is the environment variable naming an external cluster to test
// on: its client URLs, comma-separated.
const EnvCluster = "ARMLET_TEST_ETCD"

// MaxTxnOps is the limit of operations per transaction that the servers
// need (--max-txn-ops): above etcd's default of 128 so that the
// benchmarks' 1,000-key fills fit in one Txn. armlet's engine stays under
// 100 writes per Txn, within the default. Start checks that an external
// cluster accepts it.
const MaxTxnOps = 2048

// checkTimeout bounds each request Start makes to an external cluster.
const checkTimeout = 10 * time.Second

// Cluster is an etcd cluster for one test: its client URLs and the key
// prefix the test owns on it. No other Start returns the same prefix, and
// none of the prefixes nests in another.
type Cluster struct {
	Endpoints []string
	Prefix    string
}

// Options returns etcdkv options for a store under the cluster's prefix.
// Tests that open several stores at once append a distinct "name/" to
// Prefix for each.
func (c Cluster) Options() etcdkv.Options {
	return etcdkv.Options{Endpoints: c.Endpoints, Prefix: c.Prefix}
}

// Start returns a cluster for t with a fresh prefix. An embedded server
// lives in t.TempDir() on free loopback ports and stops when the test ends.
// On an external cluster (EnvCluster) Start fails the test unless every
// endpoint answers and the cluster accepts MaxTxnOps operations per
// transaction, and deletes the prefix's keys when the test ends.
func Start(t testing.TB) Cluster {
	t.Helper()
	c := Cluster{Prefix: "t-" + randomHex() + "/"}
	if env := os.Getenv(EnvCluster); env != "" {
		for ep := range strings.SplitSeq(env, ",") {
			if ep = strings.TrimSpace(ep); ep != "" {
				c.Endpoints = append(c.Endpoints, ep)
			}
		}
		useExternal(t, c)
		return c
	}
	c.Endpoints = []string{embedded(t, "http", nil)}
	return c
}

// useExternal checks the external cluster c and arranges for the test's
// keys to be deleted at its end.
func useExternal(t testing.TB, c Cluster) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("etcd cluster %s=%q: %s", EnvCluster, os.Getenv(EnvCluster), fmt.Sprintf(format, args...))
	}
	if len(c.Endpoints) == 0 {
		fail("no endpoints")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints, DialTimeout: checkTimeout, Logger: zap.NewNop()})
	if err != nil {
		fail("%v", err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	// Status goes to the one member named, so every member must answer.
	for _, ep := range c.Endpoints {
		if _, err := cli.Status(ctx, ep); err != nil {
			fail("member %s does not answer: %v", ep, err)
		}
	}
	// A cluster started without the limit would fail only the large Txns
	// of some tests, with a less obvious error: check it once here.
	gets := make([]clientv3.Op, MaxTxnOps)
	for i := range gets {
		gets[i] = clientv3.OpGet(fmt.Sprintf("%sprobe%d", c.Prefix, i))
	}
	if _, err := cli.Txn(ctx).Then(gets...).Commit(); err != nil {
		fail("a transaction of %d reads fails (start etcd with --max-txn-ops %d): %v", MaxTxnOps, MaxTxnOps, err)
	}
	// Registered after the cli.Close cleanup, so it runs before it, and
	// after the cleanups of the test's own stores.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		defer cancel()
		if _, err := cli.Delete(ctx, c.Prefix, clientv3.WithPrefix()); err != nil {
			t.Errorf("delete the test's keys under %q: %v", c.Prefix, err)
		}
	})
}

// embedded starts a single-member etcd server for t and returns its client
// URL, which has the scheme given (http or https). configure, when not nil,
// changes the server's configuration (its client TLS) before it starts.
func embedded(t testing.TB, scheme string, configure func(*embed.Config)) string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "armlet-test"
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "fatal" // its shutdown logs errors about closed listeners
	cfg.MaxTxnOps = MaxTxnOps
	client, peer := freeURL(t), freeURL(t)
	client.Scheme = scheme
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = fmt.Sprintf("%s=%s", cfg.Name, peer.String())
	if configure != nil {
		configure(cfg)
	}
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

// randomHex returns 16 random hex digits: with 64 random bits, prefixes of
// concurrent test runs on one cluster do not collide.
func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
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

// StoreURL is the cluster as armlet's --store names it:
// "etcd://host:port[,host:port...]".
func (c Cluster) StoreURL() string { return storeURL(c.Endpoints...) }

// StoreURL is the server as armlet's --store names it, "etcd://host:port";
// TLS is chosen by --etcd-ca and the client certificate flags.
func (c *SecureCluster) StoreURL() string { return storeURL(c.Endpoint) }

// storeURL drops the scheme of each client URL and joins the host:port
// pairs after "etcd://".
func storeURL(endpoints ...string) string {
	hosts := make([]string, len(endpoints))
	for i, ep := range endpoints {
		_, hosts[i], _ = strings.Cut(ep, "://")
	}
	return "etcd://" + strings.Join(hosts, ",")
}

// WaitKeys polls the cluster every 10 ms until exactly want keys start
// with prefix (a whole etcd key, not one under Prefix), and fails t when
// that has not happened within the given time.
func (c Cluster) WaitKeys(t testing.TB, prefix string, want int64, within time.Duration) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints, DialTimeout: checkTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for deadline := time.Now().Add(within); ; time.Sleep(10 * time.Millisecond) {
		resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		if resp.Count == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys under %q after %v, want %d", resp.Count, prefix, within, want)
		}
	}
}
