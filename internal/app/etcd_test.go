package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/kv/etcdkv"
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
	dataDir := t.TempDir() // the local CA and connection.json stay on disk
	onEtcd := func(c *config.Config) {
		c.InMemory = false
		c.DataDir = dataDir
		c.Store = cluster.StoreURL()
		c.EtcdPrefix = prefix
	}

	s := e2e.Start(t, e2e.WithConfig(onEtcd))
	ws := s.CreateWorkspace(t, "rg-etcd", "ws1", false)
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

	s2 := e2e.Start(t, e2e.WithConfig(onEtcd))
	cred2 := s2.Credential(t)
	client, err := armmachinelearning.NewWorkspacesClient(s2.Conn.SubscriptionID, cred2, s2.ARMOptions())
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

// etcdReplicas starts two armlets sharing one prefix of the test's etcd.
func etcdReplicas(t *testing.T) (a, b *e2e.Armlet) {
	t.Helper()
	cluster := etcdtest.Start(t)
	onEtcd := func(c *config.Config) {
		c.InMemory = false
		c.Store = cluster.StoreURL()
		c.EtcdPrefix = cluster.Prefix
	}
	return e2e.Start(t, e2e.WithConfig(onEtcd)), e2e.Start(t, e2e.WithConfig(onEtcd))
}

// TestEtcdReplicasShareRBAC runs two armlets on one etcd prefix: a
// principal created on one gets tokens from the other, and a role
// assignment made and removed through one takes effect on the other, whose
// RBAC cache had already seen the principal denied, and each replica's
// flow records show in the other's.
func TestEtcdReplicasShareRBAC(t *testing.T) {
	ctx := context.Background()
	a, b := etcdReplicas(t)
	a.CreateWorkspace(t, "rg-share", "ws1", false)

	p, _ := a.NewPrincipal(t, "shared-reader")
	onB := rbacWorkspaces(t, b, b.CredentialOf(t, p))
	_, err := onB.Get(ctx, "rg-share", "ws1", nil)
	rbacDenied(t, err, p, "Microsoft.MachineLearningServices/workspaces/read")

	scope := "/subscriptions/" + a.Conn.SubscriptionID + "/resourceGroups/rg-share"
	// The flow records are shared too: the denial on b is in a's records.
	e2e.WaitFor(t, "the denial on one replica to show in the other's flow records", func() bool {
		flows, _ := a.FlowRecords(t, "?workspace="+url.QueryEscape(scope))
		for _, f := range flows {
			if f.CallerObjectID == p.ObjectID && f.Status == http.StatusForbidden {
				return true
			}
		}
		return false
	})
	assignment := a.Assign(t, scope, "Reader", p.ObjectID)
	e2e.WaitFor(t, "the assignment made on one replica to allow the read on the other", func() bool {
		_, err := onB.Get(ctx, "rg-share", "ws1", nil)
		return err == nil
	})

	assignments, err := armauthorization.NewRoleAssignmentsClient(a.Conn.SubscriptionID, a.Credential(t), a.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := assignments.DeleteByID(ctx, *assignment.ID, nil); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, "the assignment deleted on one replica to deny the read on the other", func() bool {
		_, err := onB.Get(ctx, "rg-share", "ws1", nil)
		return e2e.IsResponseError(err, http.StatusForbidden, "AuthorizationFailed")
	})
}

// TestEtcdStoreSecure runs armlet on an etcd that serves TLS only, requires
// a client certificate and has authentication on, configured as a user
// would: --store etcd://host:port (no scheme: the CA turns TLS on),
// --etcd-ca, --etcd-cert, --etcd-key, --etcd-username, --etcd-password and
// --etcd-prefix. armlet starts, leads its fleet of one and serves a
// resource group and a workspace through the Go SDK.
func TestEtcdStoreSecure(t *testing.T) {
	cluster := etcdtest.StartSecure(t, etcdtest.SecureOptions{ClientCerts: true, Auth: true})
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
		c.InMemory = false
		c.Store = cluster.StoreURL()
		c.EtcdCA, c.EtcdCert, c.EtcdKey = cluster.CAFile, cluster.CertFile, cluster.KeyFile
		c.EtcdUsername, c.EtcdPassword = cluster.Username, cluster.Password
		c.EtcdPrefix = cluster.Prefix
	}))
	s.CreateWorkspace(t, "rg-secure", "ws1", false)
	e2e.WaitFor(t, "armlet to lead its fleet through the election beside the prefix", func() bool {
		var fleet struct{ Leading bool }
		code, _, body := s.Do(t, "GET", "/_armlet/fleet", "", nil)
		return code == http.StatusOK && json.Unmarshal([]byte(body), &fleet) == nil && fleet.Leading
	})
}

// TestEtcdStoreWithoutElectionPermission: an etcd user with readwrite on
// the store prefix but not on the election beside it cannot lead, so armlet
// refuses to start and says which prefix the user needs.
func TestEtcdStoreWithoutElectionPermission(t *testing.T) {
	cluster := etcdtest.StartSecure(t, etcdtest.SecureOptions{Auth: true})
	password := cluster.AddUser(t, "store-only", cluster.Prefix)
	cfg := config.Default()
	cfg.Listen, cfg.ProxyListen, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Store = cluster.StoreURL()
	cfg.EtcdCA, cfg.EtcdUsername, cfg.EtcdPassword, cfg.EtcdPrefix = cluster.CAFile, "store-only", password, cluster.Prefix
	srv, err := app.Start(context.Background(), cfg, nil)
	if err == nil {
		srv.Close()
		t.Fatal("armlet started without permission on the election")
	}
	if want := etcdkv.ElectionPrefix(cluster.Prefix); !strings.Contains(err.Error(), want) {
		t.Fatalf("the error does not name the election prefix %s: %v", want, err)
	}
}

// TestEtcdReplicasReadTheirWrites: with GETs answered from each replica's
// kept bodies, a GET on one replica made after a write on another was
// acknowledged shows it, every time, and the bodies are kept (a second
// GET of an unchanged workspace reads nothing new from etcd).
func TestEtcdReplicasReadTheirWrites(t *testing.T) {
	a, b := etcdReplicas(t)
	a.CreateWorkspace(t, "rg-ryw", "ws1", false)
	ws := "/subscriptions/" + a.Conn.SubscriptionID + "/resourceGroups/rg-ryw/providers/Microsoft.MachineLearningServices/workspaces/ws1?api-version=2024-04-01"
	for i := range 20 {
		want := fmt.Sprint(i)
		if code, _, out := a.Do(t, "PATCH", ws, `{"tags":{"n":"`+want+`"}}`, nil); code != http.StatusOK && code != http.StatusAccepted {
			t.Fatalf("PATCH on a = %d %s", code, out)
		}
		for _, r := range []*e2e.Armlet{b, a} {
			code, _, out := r.Do(t, "GET", ws, "", nil)
			var body struct {
				Tags map[string]string `json:"tags"`
			}
			if err := json.Unmarshal([]byte(out), &body); err != nil || code != http.StatusOK {
				t.Fatalf("GET = %d %s", code, out)
			}
			if body.Tags["n"] != want {
				t.Fatalf("GET after the acknowledged PATCH n=%s shows n=%s", want, body.Tags["n"])
			}
		}
	}
}
