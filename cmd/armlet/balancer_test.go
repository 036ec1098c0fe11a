package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
	"github.com/armlet/armlet/internal/testtool"
)

// balancer is a round-robin TCP load balancer, as a team would put in front
// of armlet replicas: each connection goes to the next backend that
// accepts it. TLS passes through.
type balancer struct {
	ln       net.Listener
	backends []string
	next     atomic.Uint64
	wg       sync.WaitGroup
}

func startBalancer(t *testing.T, backends []string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, backends: backends}
	b.wg.Go(b.serve)
	t.Cleanup(func() { ln.Close(); b.wg.Wait() })
	return b
}

func (b *balancer) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.wg.Go(func() { b.relay(c) })
	}
}

func (b *balancer) relay(c net.Conn) {
	defer c.Close()
	start := b.next.Add(1)
	for i := range len(b.backends) {
		up, err := net.DialTimeout("tcp", b.backends[(int(start)+i)%len(b.backends)], time.Second)
		if err != nil {
			continue // a dead replica: try the next
		}
		defer up.Close()
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
		go func() { _, _ = io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
		<-done
		<-done
		return
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestFleetBehindBalancerAzureCLI is the team setup end to end: three
// replicas on one etcd behind a TCP load balancer, started with
// --public-url naming the balancer, and the Azure CLI pointed at the
// balancer only. The CLI registers the cloud, logs in and creates resource
// groups, each request on whichever replica the balancer picks; a replica
// is killed with SIGKILL and the CLI carries on, sees every group it
// created and deletes them.
func TestFleetBehindBalancerAzureCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts armlet replicas and the Azure CLI")
	}
	az := testtool.Require(t, "az", "apt-get install -y azure-cli")
	cluster := etcdtest.Start(t)
	const n = 3
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = freeAddr(t)
	}
	lb := startBalancer(t, addrs)
	public := "https://" + lb.ln.Addr().String()
	dirs := make([]string, n)
	children := make([]*crashChild, n)
	for i := range n {
		dirs[i] = t.TempDir()
		children[i] = crashSpawn(t, dirs[i], "ARMLET_STORE="+cluster.StoreURL(), "ARMLET_ETCD_PREFIX="+cluster.Prefix,
			"ARMLET_LEADER_LEASE=2s", "ARMLET_LISTEN="+addrs[i], "ARMLET_PROXY_LISTEN=127.0.0.1:0", "ARMLET_PUBLIC_URL="+public, fmt.Sprintf("ARMLET_REPLICA_NAME=r%d", i))
	}
	for i, c := range children {
		c.await(t, dirs[i])
		if c.conn.ARMEndpoint != public+"/" || c.conn.ReplicaEndpoint != "https://"+addrs[i]+"/" {
			t.Fatalf("connection.json of r%d: ARM %s, replica %s", i, c.conn.ARMEndpoint, c.conn.ReplicaEndpoint)
		}
	}
	conn := children[0].conn

	env := testtool.AzureCLIEnv(t, filepath.Join(dirs[0], "ca.pem"))
	run := func(args ...string) string {
		t.Helper()
		return testtool.Run(t, az, env, args...)
	}
	run("cloud", "register", "-n", "armletTeam", "--endpoint-resource-manager", public+"/")
	run("cloud", "set", "-n", "armletTeam")
	if out := run("login", "--service-principal", "-u", conn.ClientID, "-p", conn.ClientSecret, "--tenant", conn.TenantID, "-o", "json"); !strings.Contains(out, conn.SubscriptionID) {
		t.Fatalf("az login did not list the subscription:\n%s", out)
	}
	var groups []string
	create := func(k int) {
		for i := range k {
			name := fmt.Sprintf("team-%d", len(groups)+i)
			run("group", "create", "-n", name, "-l", "eastus", "-o", "none")
			groups = append(groups, name)
		}
	}
	create(4)
	// Kill one replica; the balancer sends new connections to the others.
	victim := children[1]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	create(4)

	var listed []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(run("group", "list", "-o", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, g := range listed {
		seen[g.Name] = true
	}
	for _, g := range groups {
		if !seen[g] {
			t.Errorf("az group list lacks %s, created through the balancer", g)
		}
	}
	for _, g := range groups[:2] {
		run("group", "delete", "-n", g, "--yes")
		if out := run("group", "exists", "-n", g); strings.TrimSpace(out) != "false" {
			t.Errorf("az group exists %s after delete: %s", g, out)
		}
	}
}
