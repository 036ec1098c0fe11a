package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/app"
)

// childEnv, when "1", makes the test binary run `armlet serve` (configured
// by ARMLET_* variables) instead of the tests: the failure tests start
// armlet as a real child process they can kill.
const childEnv = "ARMLET_TEST_CHILD"

// cliEnv, when "1", makes the test binary run as the armlet command line
// with its arguments: TestREADME puts it on PATH as `armlet`.
const cliEnv = "ARMLET_TEST_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, []string{"serve"}, os.Getenv, io.Discard, os.Stderr)
		stop()
		os.Exit(code)
	}
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// crashChild is armlet running as a child process of the test.
type crashChild struct {
	cmd    *exec.Cmd
	conn   app.Connection
	client *http.Client
	token  string
	base   string
	stderr *syncBuffer
	exited chan struct{}
}

// crashStart starts armlet on dataDir as a child process with the given
// ARMLET_* settings and returns once it serves, with a bootstrap token.
func crashStart(t *testing.T, dataDir string, env ...string) *crashChild {
	t.Helper()
	c := crashSpawn(t, dataDir, env...)
	c.await(t, dataDir)
	return c
}

// crashSpawn starts armlet on dataDir as a child process and returns at
// once; await waits until it serves.
func crashSpawn(t *testing.T, dataDir string, env ...string) *crashChild {
	t.Helper()
	_ = os.Remove(filepath.Join(dataDir, app.ConnectionFile))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "ARMLET_DATA_DIR="+dataDir, "ARMLET_LISTEN=127.0.0.1:0", "ARMLET_PROXY_LISTEN=127.0.0.1:0",
		"ARMLET_LOG_LEVEL=warn", "ARMLET_LEGACY_MODE_PROPAGATION=0", "ARMLET_RANDOM_SEED=7")
	cmd.Env = append(cmd.Env, env...)
	c := &crashChild{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exited
	})
	return c
}

// await waits until the child serves, then fetches a bootstrap token.
func (c *crashChild) await(t *testing.T, dataDir string) {
	t.Helper()
	connPath := filepath.Join(dataDir, app.ConnectionFile)
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(connPath)
		if err == nil && json.Unmarshal(b, &c.conn) == nil {
			break
		}
		select {
		case <-c.exited:
			t.Fatalf("armlet exited during start: %s", c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("armlet did not start: %s", c.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	pem, err := os.ReadFile(c.conn.CACertificate)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64,
	}}
	c.base = strings.TrimSuffix(c.conn.ARMEndpoint, "/")
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.conn.ClientID},
		"client_secret": {c.conn.ClientSecret}, "scope": {c.conn.Audience + ".default"}}
	resp, err := c.client.PostForm(c.base+"/"+c.conn.TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	c.token = tok.AccessToken
}

// do sends one ARM request; err is a transport error (the process died).
func (c *crashChild) do(method, path, body string, header ...string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// ackedWrite is a write armlet answered with a 2xx.
type ackedWrite struct {
	kind      string // "group", "workspace", "tag"
	path      string
	tag       int    // for "tag": the counter value acknowledged
	asyncOp   string // for "workspace": the Azure-AsyncOperation URL
	wantState string
}

// TestKillDuringWrites kills armlet with SIGKILL while 24 clients write
// resource groups, workspaces (long-running, 202) and tags on a bbolt data
// dir, restarts it on the same dir and checks that every write that got a
// 2xx is there, that no request got a 5xx, and that the workspace creates
// that were in flight complete: Succeeded, as are their operations.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts armlet as a child process")
	}
	dir := t.TempDir()
	env := []string{"ARMLET_OPERATION_DURATION=1s"}
	c := crashStart(t, dir, env...)
	sub := "/subscriptions/" + c.conn.SubscriptionID
	const gv, wv = "?api-version=2021-04-01", "?api-version=2024-04-01"
	if st, _, b, err := c.do("PUT", sub+"/resourceGroups/base"+gv, `{"location":"eastus"}`); err != nil || st != 201 {
		t.Fatalf("create base group: %d %s %v", st, b, err)
	}

	const workers = 24
	var (
		mu     sync.Mutex
		acked  []ackedWrite
		fivexx []string
		total  atomic.Int64
		wg     sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var a ackedWrite
				var st int
				var h http.Header
				var b []byte
				var err error
				switch i % 3 {
				case 0:
					a = ackedWrite{kind: "group", path: fmt.Sprintf("%s/resourceGroups/g-%d-%d", sub, w, i)}
					st, h, b, err = c.do("PUT", a.path+gv, `{"location":"eastus","tags":{"w":"x"}}`)
				case 1:
					a = ackedWrite{kind: "workspace", path: fmt.Sprintf("%s/resourceGroups/base/providers/Microsoft.MachineLearningServices/workspaces/ws-%d-%d", sub, w, i)}
					st, h, b, err = c.do("PUT", a.path+wv, `{"location":"eastus","properties":{"v1LegacyMode":false}}`)
				case 2:
					// A counter tag on the worker's first group, raised once a round.
					a = ackedWrite{kind: "tag", path: fmt.Sprintf("%s/resourceGroups/g-%d-0", sub, w), tag: i}
					st, h, b, err = c.do("PATCH", a.path+gv, fmt.Sprintf(`{"tags":{"n":"%d"}}`, i))
				}
				if err != nil {
					return // the process is gone: the outcome of this write is unknown
				}
				total.Add(1)
				mu.Lock()
				switch {
				case st >= 500:
					fivexx = append(fivexx, fmt.Sprintf("%s: %d %s", a.path, st, b))
				case st >= 200 && st < 300:
					a.asyncOp = h.Get("Azure-AsyncOperation")
					acked = append(acked, a)
				default:
					fivexx = append(fivexx, fmt.Sprintf("%s: unexpected %d %s", a.path, st, b))
				}
				mu.Unlock()
			}
		}()
	}
	// Kill once a few hundred writes have been answered.
	deadline := time.Now().Add(20 * time.Second)
	for total.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	close(stop)
	wg.Wait()
	if len(fivexx) > 0 {
		t.Fatalf("%d bad answers before the kill, e.g. %s", len(fivexx), fivexx[0])
	}
	t.Logf("%d writes answered with 2xx before SIGKILL", len(acked))
	if len(acked) < 100 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}

	// Restart on the same data dir: the store must open and hold every
	// acknowledged write.
	c = crashStart(t, dir, env...)
	lastTag := map[string]int{}
	var workspaces []ackedWrite
	for _, a := range acked {
		switch a.kind {
		case "group":
			if st, _, b, err := c.do("GET", a.path+gv, ""); err != nil || st != 200 {
				t.Errorf("acknowledged group %s after restart: %d %s %v", a.path, st, b, err)
			}
		case "workspace":
			workspaces = append(workspaces, a)
		case "tag":
			lastTag[a.path] = max(lastTag[a.path], a.tag)
		}
	}
	for path, n := range lastTag {
		st, _, b, err := c.do("GET", path+gv, "")
		var g struct {
			Tags map[string]string `json:"tags"`
		}
		if err != nil || st != 200 || json.Unmarshal(b, &g) != nil {
			t.Errorf("group %s after restart: %d %s %v", path, st, b, err)
			continue
		}
		var got int
		fmt.Sscan(g.Tags["n"], &got)
		if got < n {
			t.Errorf("group %s: tag n = %q after restart, but %d was acknowledged", path, g.Tags["n"], n)
		}
	}
	// Workspaces acknowledged with 202 complete (the operation duration is
	// 1s on the armlet clock): the README promises that operations in
	// flight complete after a restart, so each ends Succeeded; Failed or
	// Canceled breaks the promise.
	pending := workspaces
	var broken []string
	for end := time.Now().Add(15 * time.Second); len(pending) > 0 && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		var still []ackedWrite
		for _, a := range pending {
			st, _, b, err := c.do("GET", a.path+wv, "")
			var ws struct {
				Properties struct {
					ProvisioningState string `json:"provisioningState"`
				} `json:"properties"`
			}
			if err != nil || st != 200 || json.Unmarshal(b, &ws) != nil {
				t.Fatalf("acknowledged workspace %s after restart: %d %s %v", a.path, st, b, err)
			}
			switch ws.Properties.ProvisioningState {
			case "Succeeded":
			case "Failed", "Canceled":
				broken = append(broken, fmt.Sprintf("%s: %s", a.path, b))
			default:
				still = append(still, a)
			}
		}
		pending = still
	}
	if len(broken) > 0 {
		t.Errorf("%d of %d workspaces in flight did not complete after restart, e.g. %s", len(broken), len(workspaces), broken[0])
	}
	if len(pending) > 0 {
		t.Fatalf("%d of %d workspaces did not finish after restart, e.g. %s", len(pending), len(workspaces), pending[0].path)
	}
	// Their operation-status resources answer too.
	for _, a := range workspaces {
		if a.asyncOp == "" {
			continue
		}
		req, _ := http.NewRequest("GET", a.asyncOp, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"Succeeded"`) {
			t.Errorf("operation %s after restart: %d %s", a.asyncOp, resp.StatusCode, b)
		}
	}
	t.Logf("after restart: %d groups with tags, %d workspaces checked", len(lastTag), len(workspaces))
}

// TestTenThousandIdleConnections opens 10,000 connections to armlet (a
// child process, so that each side has its own file descriptors) that never
// send a byte: other clients keep being served with bounded latency, and
// armlet closes the idle ones after --read-header-timeout.
func TestTenThousandIdleConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts armlet as a child process")
	}
	n := 10000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		if lim.Cur < uint64(n)+500 && lim.Max > lim.Cur {
			lim.Cur = lim.Max // Go raises it at start already; be sure
			_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
		if lim.Cur < uint64(n)+500 {
			n = int(lim.Cur) - 500
			t.Logf("RLIMIT_NOFILE is %d: holding %d idle connections instead of 10,000", lim.Cur, n)
		}
	}
	if n < 1000 {
		t.Skipf("RLIMIT_NOFILE %d is too low to hold many idle connections", lim.Cur)
	}
	const headerTimeout = 3 * time.Second
	c := crashStart(t, t.TempDir(), "ARMLET_IN_MEMORY=true", "ARMLET_READ_HEADER_TIMEOUT="+headerTimeout.String())
	addr := strings.TrimSuffix(strings.TrimPrefix(c.conn.ARMEndpoint, "https://"), "/")

	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var dialErrs atomic.Int64
	began := time.Now()
	next := atomic.Int64{}
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					dialErrs.Add(1)
					continue
				}
				conns[i] = conn
			}
		}()
	}
	wg.Wait()
	opened := time.Since(began)
	defer func() {
		for _, conn := range conns {
			if conn != nil {
				conn.Close()
			}
		}
	}()
	if d := dialErrs.Load(); d > int64(n/100) {
		t.Fatalf("%d of %d connections could not be opened", d, n)
	}
	t.Logf("%d idle connections opened in %v", n, opened.Round(time.Millisecond))

	// Fresh clients (new TCP + TLS connection per request) are served while
	// the idle connections are held, with bounded latency.
	fresh := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: c.client.Transport.(*http.Transport).TLSClientConfig, DisableKeepAlives: true,
	}}
	var worst time.Duration
	for range 20 {
		start := time.Now()
		resp, err := fresh.Get(c.base + "/_armlet/health")
		if err != nil {
			t.Fatalf("health while %d connections idle: %v", n, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("health while idle connections held: %d", resp.StatusCode)
		}
		worst = max(worst, time.Since(start))
	}
	if worst > 2*time.Second {
		t.Errorf("slowest request while %d connections idle: %v, want under 2s", n, worst)
	}
	if st, _, b, err := c.do("GET", "/subscriptions/"+c.conn.SubscriptionID+"?api-version=2021-04-01", ""); err != nil || st != 200 {
		t.Errorf("ARM GET while idle connections held: %d %s %v", st, b, err)
	}
	t.Logf("slowest of 20 fresh requests: %v", worst.Round(time.Millisecond))

	// armlet closes the idle connections once the header timeout passes.
	deadline := time.Now().Add(headerTimeout + 10*time.Second)
	closed := 0
	for i := 0; i < n; i += n / 100 {
		conn := conns[i]
		if conn == nil {
			continue
		}
		_ = conn.SetReadDeadline(deadline)
		if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			closed++
		}
	}
	if closed < 95 {
		t.Errorf("only %d of 100 sampled idle connections were closed by armlet within %v", closed, headerTimeout+10*time.Second)
	}
	if since := time.Since(began); since > headerTimeout+12*time.Second {
		t.Errorf("idle connections closed only after %v", since)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestDataDirInUse: a second armlet on a data dir another one serves
// exits non-zero at once, saying which process holds it, without a panic;
// the first keeps serving.
func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	first := crashStart(t, dir)
	began := time.Now()
	second := crashSpawn(t, dir)
	select {
	case <-second.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the second armlet did not exit: %s", second.stderr.String())
	}
	took := time.Since(began)
	out := second.stderr.String()
	want := fmt.Sprintf("the data dir is in use by another armlet (pid %d)", first.cmd.Process.Pid)
	if second.cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out, want) || strings.Contains(out, "panic") {
		t.Errorf("second armlet: exit %d after %v, stderr:\n%s\nwant exit status 1 saying %q", second.cmd.ProcessState.ExitCode(), took, out, want)
	}
	t.Logf("the second armlet gave up after %v: %s", took, out)
	resp, err := first.client.Get(first.base + "/_armlet/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the first armlet after the second gave up: %v", err)
	}
	resp.Body.Close()
}
