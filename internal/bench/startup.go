package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/armlet/armlet/internal/app"
)

// Startup is measured on a spawned armlet binary (a separate process, as
// users run it), with a durable bbolt store in a fresh data dir.
type Startup struct {
	Binary string `json:"binary"`
	// ColdStartMs is from exec to the first 200 of /_armlet/health, on an
	// empty data dir (the local CA is created then).
	ColdStartMs float64 `json:"coldStartMs"`
	// RestartMs is the same on the data dir holding Resources workspaces.
	RestartMs float64 `json:"restartMs"`
	// IdleRSSMB is VmRSS after the first start, idle for a second.
	IdleRSSMB float64 `json:"idleRSSMB"`
	// Resources workspaces were then created with PUTs; RSSWithMB is VmRSS
	// after that (operations finished), RSSPer10kMB the growth per 10,000.
	Resources   int     `json:"resources"`
	RSSWithMB   float64 `json:"rssWithResourcesMB"`
	RSSPer10kMB float64 `json:"rssPer10kResourcesMB"`
}

// startupResources is how many workspaces the memory measurement adds.
const startupResources = 10000

func listenLocal() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func freePort() (int, error) {
	ln, err := listenLocal()
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// child is a spawned armlet.
type child struct {
	cmd  *exec.Cmd
	port int
	dir  string
	done chan struct{} // closed when the process has exited
}

// spawn starts binary serving dir and returns once /_armlet/health
// answers 200, with the time from exec to that answer.
func spawn(ctx context.Context, binary, dir string) (*child, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(binary, "serve", "--data-dir", dir, "--listen", "127.0.0.1:"+strconv.Itoa(port), "--proxy-listen", "",
		"--log-level", "error", "--legacy-mode-propagation", "0")
	cmd.Stdout, cmd.Stderr = nil, nil
	// The probe does not verify the certificate: the CA may not exist yet
	// when the child starts. It opens a new connection each time.
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true,
	}}
	url := fmt.Sprintf("https://127.0.0.1:%d/_armlet/health", port)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	c := &child{cmd: cmd, port: port, dir: dir, done: make(chan struct{})}
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(c.done) }()
	deadline := began.Add(30 * time.Second)
	for {
		resp, err := probe.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, time.Since(began), nil
			}
		}
		select {
		case <-c.done:
			return nil, 0, fmt.Errorf("%s exited before becoming healthy: %v", binary, waitErr)
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-c.done
			return nil, 0, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-c.done
			return nil, 0, fmt.Errorf("%s not healthy after 30s", binary)
		}
		time.Sleep(time.Millisecond) // polling
	}
}

// stop asks the child to shut down and waits for it.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// rssMB reads VmRSS of pid from /proc.
func rssMB(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				return round(kb/1024, 1), err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func measureStartup(ctx context.Context, binary string, conns int) (*Startup, error) {
	dir, err := os.MkdirTemp("", "armlet-bench-start-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st := &Startup{Binary: binary, Resources: startupResources}
	c, took, err := spawn(ctx, binary, dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if c != nil {
			c.stop()
		}
	}()
	st.ColdStartMs = ms(took)
	time.Sleep(time.Second) // idle
	if st.IdleRSSMB, err = rssMB(c.cmd.Process.Pid); err != nil {
		return nil, err
	}

	// Add resources through the API, as clients would.
	raw, err := os.ReadFile(filepath.Join(dir, app.ConnectionFile))
	if err != nil {
		return nil, err
	}
	var conn app.Connection
	if err := json.Unmarshal(raw, &conn); err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(conn.CACertificate)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	t := &target{base: strings.TrimSuffix(conn.ARMEndpoint, "/"), client: newClient(pool, conns)}
	if t.token, err = fetchToken(ctx, t, conn); err != nil {
		return nil, err
	}
	b := &armletBench{o: Options{Connections: conns}, a: &armlet{t: t, conn: conn}, sub: conn.SubscriptionID}
	r, err := t.do(ctx, http.MethodPut, b.rgPath(rgList)+"?api-version="+rgAPI, []byte(`{"location":"eastus"}`), nil)
	if err == nil {
		err = r.expect(200, 201)
	}
	if err != nil {
		return nil, err
	}
	if err := b.seed(ctx, rgList, 0, startupResources); err != nil {
		return nil, err
	}
	t.client.CloseIdleConnections()
	// Let the long-running operations finish (1 s by default) and the
	// runtime return what the burst used.
	time.Sleep(3 * time.Second)
	if st.RSSWithMB, err = rssMB(c.cmd.Process.Pid); err != nil {
		return nil, err
	}
	st.RSSPer10kMB = round((st.RSSWithMB-st.IdleRSSMB)*10000/float64(startupResources), 1)
	c.stop()
	c = nil

	c2, took, err := spawn(ctx, binary, dir)
	if err != nil {
		return nil, err
	}
	st.RestartMs = ms(took)
	c2.stop()
	return st, nil
}
