package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
)

// replica is one armlet of the fleet, with real Azure SDK clients on it.
type replica struct {
	*crashChild
	name       string
	groups     *armresources.ResourceGroupsClient
	workspaces *armmachinelearning.WorkspacesClient
	pipeline   runtime.Pipeline // the SDK's ARM pipeline, for If-Match requests
}

func newReplica(t *testing.T, c *crashChild, name string) *replica {
	t.Helper()
	base := c.base
	cfg := cloud.Configuration{
		ActiveDirectoryAuthorityHost: c.conn.LoginEndpoint,
		Services:                     map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: base, Audience: c.conn.Audience}},
	}
	cred, err := azidentity.NewClientSecretCredential(c.conn.TenantID, c.conn.ClientID, c.conn.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Cloud: cfg, Transport: c.client}, DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	// No retries: a request that failed must be seen failing, not resent to
	// a replica that may have applied it.
	opts := &arm.ClientOptions{ClientOptions: policy.ClientOptions{Cloud: cfg, Transport: c.client, Retry: policy.RetryOptions{MaxRetries: -1}}}
	r := &replica{crashChild: c, name: name}
	if r.groups, err = armresources.NewResourceGroupsClient(c.conn.SubscriptionID, cred, opts); err != nil {
		t.Fatal(err)
	}
	if r.workspaces, err = armmachinelearning.NewWorkspacesClient(c.conn.SubscriptionID, cred, opts); err != nil {
		t.Fatal(err)
	}
	cl, err := arm.NewClient("armletfleettest", "v0.0.1", cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.pipeline = cl.Pipeline()
	return r
}

// fleetInfo is GET /_armlet/fleet.
type fleetInfo struct {
	Replica string `json:"replica"`
	Leader  string `json:"leader"`
	Leading bool   `json:"leading"`
	Store   string `json:"store"`
}

func (r *replica) fleet() (fleetInfo, error) {
	st, _, b, err := r.do("GET", "/_armlet/fleet", "")
	var f fleetInfo
	if err == nil && st != 200 {
		err = fmt.Errorf("GET /_armlet/fleet: %d %s", st, b)
	}
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	return f, err
}

// TestFleetSurvivesLeaderKill runs three armlet replicas on one etcd,
// drives concurrent writes through all of them with the Azure SDK for Go,
// kills the replica leading the time-driven work with SIGKILL midway, and
// checks that another takes the lead within seconds, that every write
// acknowledged by any replica is there, that no increment made under
// If-Match is lost, that every long-running operation finishes (the new
// leader finishes the deletes the dead one had in flight), that tokens the
// dead replica issued still verify, and that a clock advance made on one
// replica reaches the others.
func TestFleetSurvivesLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts armlet replicas as child processes")
	}
	cluster := etcdtest.Start(t)
	env := []string{"ARMLET_STORE=" + cluster.StoreURL(), "ARMLET_ETCD_PREFIX=" + cluster.Prefix,
		"ARMLET_LEADER_LEASE=2s", "ARMLET_OPERATION_DURATION=2s"}

	// Start the three at once: they race for the tenant, the signing key,
	// the CA and the bootstrap principal, and must agree.
	const n = 3
	dirs := make([]string, n)
	children := make([]*crashChild, n)
	for i := range n {
		dirs[i] = t.TempDir()
		children[i] = crashSpawn(t, dirs[i], append(env, fmt.Sprintf("ARMLET_REPLICA_NAME=r%d", i))...)
	}
	reps := make([]*replica, n)
	for i, c := range children {
		c.await(t, dirs[i])
		reps[i] = newReplica(t, c, fmt.Sprintf("r%d", i))
	}
	ca0, _ := os.ReadFile(filepath.Join(dirs[0], "ca.pem"))
	for i, r := range reps[1:] {
		ca, _ := os.ReadFile(filepath.Join(dirs[i+1], "ca.pem"))
		if r.conn.TenantID != reps[0].conn.TenantID || r.conn.ClientID != reps[0].conn.ClientID || string(ca) != string(ca0) {
			t.Fatalf("replica %s disagrees with r0 on the tenant, the bootstrap principal or the CA", r.name)
		}
	}
	leader := waitLeader(t, reps, "")
	t.Logf("leader: %s", leader.name)

	ctx := context.Background()
	sub := reps[0].conn.SubscriptionID
	if _, err := reps[0].groups.CreateOrUpdate(ctx, "base", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatal(err)
	}
	counterWS := "/subscriptions/" + sub + "/resourceGroups/base/providers/Microsoft.MachineLearningServices/workspaces/counter"
	poller, err := reps[1].workspaces.BeginCreateOrUpdate(ctx, "base", "counter", armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}

	// live is the replica a worker should use: its own until it dies, then
	// the next one alive, as behind a load balancer.
	var dead atomic.Int32
	dead.Store(-1)
	live := func(i int) *replica {
		if int(dead.Load()) == i {
			return reps[(i+1)%n]
		}
		return reps[i]
	}

	var (
		mu         sync.Mutex
		groups     []string // acknowledged resource group creates
		created    []string // acknowledged workspace creates
		deleted    []string // acknowledged workspace deletes
		increments int      // acknowledged If-Match increments
		unknown    int      // increments whose replica died before answering
		failures   []string // 5xx or unexpected answers from live replicas
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 * n {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := live(w % n)
				name := fmt.Sprintf("w%d-%d", w, i)
				switch i % 3 {
				case 0:
					_, err := r.groups.CreateOrUpdate(ctx, "g-"+name, armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil)
					if err == nil {
						mu.Lock()
						groups = append(groups, "g-"+name)
						mu.Unlock()
					} else if !transportError(err) {
						fail("create group on %s: %v", r.name, err)
					}
				case 1:
					_, err := r.workspaces.BeginCreateOrUpdate(ctx, "base", "ws-"+name, armmachinelearning.Workspace{Location: to.Ptr("eastus")}, nil)
					if err == nil {
						mu.Lock()
						created = append(created, "ws-"+name)
						mu.Unlock()
					} else if !transportError(err) {
						fail("create workspace on %s: %v", r.name, err)
					}
				case 2:
					// Delete the workspace this worker created last round,
					// once its create finished.
					prev := fmt.Sprintf("ws-w%d-%d", w, i-1)
					if !waitProvisioned(ctx, r, prev) {
						continue
					}
					_, err := r.workspaces.BeginDelete(ctx, "base", prev, nil)
					if err == nil {
						mu.Lock()
						deleted = append(deleted, prev)
						mu.Unlock()
					} else if !transportError(err) {
						fail("delete workspace on %s: %v", r.name, err)
					}
				}
			}
		})
	}
	for c := range n {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := incrementUnderIfMatch(ctx, live(c), counterWS)
				if err != nil {
					fail("increment: %v", err)
					return
				}
				mu.Lock()
				switch out {
				case applied:
					increments++
				case unanswered:
					unknown++
				}
				mu.Unlock()
			}
		})
	}

	time.Sleep(3 * time.Second)
	killed := time.Now()
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-leader.exited
	for i, r := range reps {
		if r == leader {
			dead.Store(int32(i))
		}
	}
	var survivors []*replica
	for _, r := range reps {
		if r != leader {
			survivors = append(survivors, r)
		}
	}
	next := waitLeader(t, survivors, leader.name)
	t.Logf("%s took the lead %v after %s was killed", next.name, time.Since(killed).Round(time.Millisecond), leader.name)
	// armlet fleet, on any survivor's data dir, names the new leader.
	for i, r := range reps {
		if r == leader {
			continue
		}
		var out strings.Builder
		getenv := func(string) string { return "" }
		if code := run(ctx, []string{"fleet", "--data-dir", dirs[i]}, getenv, &out, &out); code != 0 {
			t.Fatalf("armlet fleet: %d %s", code, out.String())
		}
		var f fleetInfo
		if err := json.Unmarshal([]byte(out.String()), &f); err != nil || f.Replica != r.name || f.Leader != next.name || f.Store != "etcd" || f.Leading != (r == next) {
			t.Fatalf("armlet fleet on %s: %s (%v)", r.name, out.String(), err)
		}
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d requests failed on live replicas; first: %s", len(failures), failures[0])
	}
	t.Logf("acknowledged: %d groups, %d workspace creates, %d deletes, %d increments (%d unanswered)", len(groups), len(created), len(deleted), increments, unknown)
	if len(groups) == 0 || len(created) == 0 || len(deleted) == 0 || increments == 0 {
		t.Fatal("the workload did not exercise every kind of write")
	}

	// Tokens issued by the dead replica verify on the others.
	for _, r := range survivors {
		st, _, b, err := r.do("GET", "/subscriptions/"+sub+"?api-version=2022-12-01", "", "Authorization", "Bearer "+leader.token)
		if err != nil || st != 200 {
			t.Fatalf("the dead replica's token on %s: %d %s %v", r.name, st, b, err)
		}
	}

	// Every acknowledged write is there.
	check := survivors[0]
	for _, g := range groups {
		if _, err := check.groups.Get(ctx, g, nil); err != nil {
			t.Errorf("acknowledged resource group %s lost: %v", g, err)
		}
	}
	gone := map[string]bool{}
	for _, d := range deleted {
		gone[d] = true
	}
	for _, ws := range created {
		if gone[ws] {
			continue
		}
		if !waitProvisioned(ctx, check, ws) {
			t.Errorf("acknowledged workspace %s lost or never provisioned", ws)
		}
	}
	// Every delete finishes, the in-flight ones by the new leader: the due
	// index of long-running deletes empties and the workspaces are gone.
	cluster.WaitKeys(t, cluster.Prefix+"d\x00", 0, 20*time.Second)
	for _, ws := range deleted {
		if _, err := check.workspaces.Get(ctx, "base", ws, nil); !isNotFound(err) {
			t.Errorf("deleted workspace %s: %v", ws, err)
		}
	}
	// No increment under If-Match is lost.
	got, err := check.workspaces.Get(ctx, "base", "counter", nil)
	if err != nil {
		t.Fatal(err)
	}
	// An increment whose replica died before answering may or may not
	// have been applied; an acknowledged one must have been.
	if v, _ := strconv.Atoi(deref(got.Tags["n"])); v < increments || v > increments+unknown {
		t.Fatalf("counter tag n = %s, want %d acknowledged increments (plus up to %d unanswered)", deref(got.Tags["n"]), increments, unknown)
	}

	// A clock advance on one replica reaches the other.
	if st, _, b, err := survivors[0].do("POST", "/_armlet/clock/advance", `{"duration":"10m"}`); err != nil || st != 200 {
		t.Fatalf("advance: %d %s %v", st, b, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, _, b, err := survivors[1].do("GET", "/_armlet/clock", "")
		var c struct {
			Offset string `json:"offset"`
		}
		if err == nil && json.Unmarshal(b, &c) == nil && c.Offset == "10m0s" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never saw the advance made on %s: %s", survivors[1].name, survivors[0].name, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLeader waits until every replica in reps names the same leader, one
// of reps and not notName, and returns it.
func waitLeader(t *testing.T, reps []*replica, notName string) *replica {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		names := map[string]bool{}
		var leading []*replica
		for _, r := range reps {
			f, err := r.fleet()
			if err != nil {
				t.Fatal(err)
			}
			names[f.Leader] = true
			if f.Leading {
				leading = append(leading, r)
			}
		}
		if len(names) == 1 && len(leading) == 1 && names[leading[0].name] && leading[0].name != notName {
			return leading[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single leader among the replicas: leaders named %v", names)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outcome is what became of one increment.
type outcome int

const (
	refused    outcome = iota // 412: another writer won; or the read failed
	applied                   // 200: acknowledged
	unanswered                // the replica died with the write sent
)

// incrementUnderIfMatch reads the counter workspace and writes its tag n
// plus one under If-Match. A 412 (someone else won) or a dead replica is
// not an error.
func incrementUnderIfMatch(ctx context.Context, r *replica, id string) (outcome, error) {
	u := r.base + id + "?api-version=2024-04-01"
	req, err := runtime.NewRequest(ctx, http.MethodGet, u)
	if err != nil {
		return refused, err
	}
	resp, err := r.pipeline.Do(req)
	if err != nil {
		return refused, nil // the replica died before the write
	}
	var ws struct {
		Tags map[string]string `json:"tags"`
	}
	if err := runtime.UnmarshalAsJSON(resp, &ws); err != nil || resp.StatusCode != 200 {
		return refused, fmt.Errorf("GET %s on %s: %d %v", id, r.name, resp.StatusCode, err)
	}
	etag := resp.Header.Get("ETag")
	cur, _ := strconv.Atoi(ws.Tags["n"])
	req, err = runtime.NewRequest(ctx, http.MethodPatch, u)
	if err != nil {
		return refused, err
	}
	req.Raw().Header.Set("If-Match", etag)
	if err := runtime.MarshalAsJSON(req, map[string]any{"tags": map[string]string{"n": strconv.Itoa(cur + 1)}}); err != nil {
		return refused, err
	}
	resp, err = r.pipeline.Do(req)
	switch {
	case err != nil:
		return unanswered, nil
	case resp.StatusCode == http.StatusPreconditionFailed:
		return refused, nil
	case resp.StatusCode != http.StatusOK:
		return refused, fmt.Errorf("PATCH %s on %s: %d", id, r.name, resp.StatusCode)
	}
	return applied, nil
}

// waitProvisioned waits until workspace name reports Succeeded; false if it
// does not exist or never does within 15 s.
func waitProvisioned(ctx context.Context, r *replica, name string) bool {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ws, err := r.workspaces.Get(ctx, "base", name, nil)
		if isNotFound(err) {
			return false
		}
		if err == nil && ws.Properties != nil && ws.Properties.ProvisioningState != nil &&
			*ws.Properties.ProvisioningState == armmachinelearning.ProvisioningStateSucceeded {
			return true
		}
	}
	return false
}

// transportError reports whether err is a failure to reach the replica
// (it was killed) rather than an answer from it.
func transportError(err error) bool {
	var re *azcore.ResponseError
	return !errors.As(err, &re)
}

func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
