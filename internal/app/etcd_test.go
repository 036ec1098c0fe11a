package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
)

// TestEtcdStoreSurvivesRestart runs armlet with --store etcd://... on the
// test's etcd (etcdtest), creates a resource group and a workspace with the
// Go SDK (through the poller), checks that the state is in etcd under the
// prefix, restarts armlet on the same etcd and finds the workspace again.
func TestEtcdStoreSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	cluster := etcdtest.Start(t)
	// armlet's prefix is within the test's: all the test's keys must be
	// under it.
	prefix := cluster.Prefix + "team-a/"
	hosts := make([]string, len(cluster.Endpoints))
	for i, ep := range cluster.Endpoints {
		hosts[i] = strings.TrimPrefix(ep, "http://")
	}
	dataDir := t.TempDir() // the local CA and connection.json stay on disk
	onEtcd := func(c *config.Config) {
		c.InMemory = false
		c.DataDir = dataDir
		c.Store = config.StoreEtcdScheme + strings.Join(hosts, ",")
		c.EtcdPrefix = prefix
	}

	s := startArmlet(t, onEtcd)
	cred := s.credential(t, s.conn.ClientID, s.conn.ClientSecret)
	ws := createMLWorkspace(t, s, cred, "rg-etcd", false)
	before, err := ws.Get(ctx, "rg-etcd", "ws1", nil)
	if err != nil {
		t.Fatalf("get workspace: %v", err)
	}

	// The state is in etcd, under the prefix, and the leader election
	// beside it, and nowhere else in the test's part of the cluster (other
	// tests may share it).
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	all, err := cli.Get(ctx, cluster.Prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Kvs) == 0 {
		t.Fatalf("etcd holds no keys under %s after creating a workspace", cluster.Prefix)
	}
	for _, kv := range all.Kvs {
		election := strings.TrimSuffix(prefix, "/") + ".leader/"
		if !strings.HasPrefix(string(kv.Key), prefix) && !strings.HasPrefix(string(kv.Key), election) {
			t.Errorf("etcd key %q is outside the prefix %s and the election %s", kv.Key, prefix, election)
		}
	}
	s.Close()

	s2 := startArmlet(t, onEtcd)
	cred2 := s2.credential(t, s2.conn.ClientID, s2.conn.ClientSecret)
	client, err := armmachinelearning.NewWorkspacesClient(s2.conn.SubscriptionID, cred2, s2.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	after, err := client.Get(ctx, "rg-etcd", "ws1", nil)
	if err != nil {
		t.Fatalf("get workspace after restart: %v", err)
	}
	if *after.ID != *before.ID || *after.Properties.WorkspaceID != *before.Properties.WorkspaceID {
		t.Errorf("workspace after restart = %s (%s), want %s (%s)",
			*after.ID, *after.Properties.WorkspaceID, *before.ID, *before.Properties.WorkspaceID)
	}
	if after.Properties.ProvisioningState == nil || *after.Properties.ProvisioningState != armmachinelearning.ProvisioningStateSucceeded {
		t.Errorf("provisioningState after restart = %v, want Succeeded", after.Properties.ProvisioningState)
	}
}
