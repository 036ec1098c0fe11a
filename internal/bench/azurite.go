package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/armlet/armlet/internal/certs"
)

// Peer is the result of driving a peer emulator.
type Peer struct {
	Name    string `json:"name"`
	Command string `json:"command,omitempty"`
	// Skipped says why the peer was not measured.
	Skipped string  `json:"skipped,omitempty"`
	Calls   []Stats `json:"calls,omitempty"`
	// GetRatio is armlet's GET workspace throughput over the peer's get
	// container properties; PutRatio armlet's PUT workspace over create
	// container; ToBare the peer's get over the bare server's GET.
	GetRatio float64 `json:"armletGetRatio,omitempty"`
	PutRatio float64 `json:"armletPutRatio,omitempty"`
	ToBare   float64 `json:"peerGetRatioToBare,omitempty"`
}

// Azurite's well-known development account.
const (
	azAccount = "devstoreaccount1"
	azKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	azVersion = "2021-12-02"
)

// azuriteCommand finds Azurite: the given path, azurite on PATH, then
// `npx --no-install azurite` (an installed npm package, never a download).
func azuriteCommand(path string) ([]string, error) {
	if path != "" {
		return []string{path}, nil
	}
	if p, err := exec.LookPath("azurite"); err == nil {
		return []string{p}, nil
	}
	if npx, err := exec.LookPath("npx"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if exec.CommandContext(ctx, npx, "--no-install", "azurite", "--version").Run() == nil {
			return []string{npx, "--no-install", "azurite"}, nil
		}
	}
	return nil, fmt.Errorf("azurite is not installed (npm install -g azurite, or --azurite PATH)")
}

// runAzurite starts Azurite with HTTPS (a certificate from a local CA like
// armlet's), in-memory persistence, and drives its blob service with the
// same client: create container (like PUT workspace) and get container
// properties (like GET workspace). Shared Key authentication, as the
// storage SDKs use against Azurite.
func runAzurite(ctx context.Context, o Options, rep *Report, payload []byte, logf func(string, ...any)) *Peer {
	pe := &Peer{Name: "azurite"}
	base, err := azuriteCommand(o.AzuritePath)
	if err != nil {
		pe.Skipped = err.Error()
		logf("peer azurite skipped: %s", pe.Skipped)
		return pe
	}
	dir, err := os.MkdirTemp("", "armlet-bench-azurite-*")
	if err != nil {
		pe.Skipped = err.Error()
		return pe
	}
	defer os.RemoveAll(dir)
	certPath, keyPath, pool, err := azuriteCert(dir)
	if err != nil {
		pe.Skipped = err.Error()
		return pe
	}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			pe.Skipped = err.Error()
			return pe
		}
	}
	args := append(base[1:], "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl",
		"--cert", certPath, "--key", keyPath,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(ports[0]),
		"--queueHost", "127.0.0.1", "--queuePort", strconv.Itoa(ports[1]),
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(ports[2]))
	pe.Command = strings.Join(append(base[:1:1], args...), " ")
	cmd := exec.Command(base[0], args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // npx starts node as a child: stop the group
	if err := cmd.Start(); err != nil {
		pe.Skipped = err.Error()
		return pe
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()
	t := &target{base: fmt.Sprintf("https://127.0.0.1:%d", ports[0]), client: newClient(pool, o.Connections)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := azDo(ctx, t, http.MethodPut, "bench")
		if err == nil && (r.status == 201 || r.status == 409) {
			break
		}
		select {
		case <-done:
			pe.Skipped = "azurite exited at start"
			return pe
		default:
		}
		if time.Now().After(deadline) {
			pe.Skipped = fmt.Sprintf("azurite did not answer within 60s (last: %v %v)", err, r.expect(201))
			return pe
		}
		time.Sleep(50 * time.Millisecond) // polling
	}
	var seq atomic.Int64
	logf("peer azurite: create container")
	create := drive(ctx, "azurite create container", o.Connections, o.Duration, func(ctx context.Context, w int, rnd *rand.Rand) error {
		r, err := azDo(ctx, t, http.MethodPut, fmt.Sprintf("c%08d", seq.Add(1)))
		if err != nil {
			return err
		}
		return r.expect(201)
	})
	logf("peer azurite: get container properties")
	get := drive(ctx, "azurite get container properties", o.Connections, o.Duration, func(ctx context.Context, w int, rnd *rand.Rand) error {
		r, err := azDo(ctx, t, http.MethodGet, "bench")
		if err != nil {
			return err
		}
		return r.expect(200)
	})
	pe.Calls = []Stats{create, get}
	if g, ok := rep.Scenario(ScenarioGet); ok {
		pe.GetRatio = ratio(g.RPS, get.RPS)
	}
	if p, ok := rep.Scenario(ScenarioPut); ok {
		pe.PutRatio = ratio(p.RPS, create.RPS)
	}
	pe.ToBare = ratio(get.RPS, rep.Bare.RPS)
	if len(rep.Blob) > 0 {
		if err := azuriteBlobs(ctx, o, rep, t.base, t.client.Transport.(*http.Transport).TLSClientConfig, cmd.Process.Pid, payload, logf); err != nil {
			logf("peer azurite: blob scenarios: %v", err)
			for i := range rep.Blob {
				if rep.Blob[i].Azurite == nil {
					rep.Blob[i].Azurite = &Stats{Name: rep.Blob[i].Name, Note: "not measured: " + err.Error()}
				}
			}
		}
	}
	return pe
}

// azDo sends a container call (PUT: create; GET: properties) signed with
// Shared Key.
func azDo(ctx context.Context, t *target, method, container string) (reply, error) {
	path := "/" + azAccount + "/" + container
	req, err := http.NewRequestWithContext(ctx, method, t.base+path+"?restype=container", nil)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", azVersion)
	req.Header.Set("Authorization", sharedKey(method, req.Header, path, map[string]string{"restype": "container"}))
	resp, err := t.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}, err
}

// sharedKey is the Authorization header of Azure Storage's Shared Key
// scheme (version 2015-02-21 and later) for Azurite's account.
func sharedKey(method string, h http.Header, path string, query map[string]string) string {
	key, _ := base64.StdEncoding.DecodeString(azKey)
	return signSharedKey(azAccount, key, method, h, path, query)
}

// signSharedKey is the Authorization header of Azure Storage's Shared Key
// scheme for account: path is the request's path (for a path-style URL it
// starts with the account), query its decoded parameters, and h holds the
// standard headers signed (Content-Length among them, as the body's
// length; net/http sends the request's own).
func signSharedKey(account string, key []byte, method string, h http.Header, path string, query map[string]string) string {
	var xms []string
	for k := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-ms-") {
			xms = append(xms, lk)
		}
	}
	sort.Strings(xms)
	var sb strings.Builder
	sb.WriteString(method + "\n")
	for _, k := range []string{"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type", "Date",
		"If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"} {
		v := h.Get(k)
		if k == "Content-Length" && v == "0" {
			v = "" // since 2015-02-21 a zero length is signed as empty
		}
		sb.WriteString(v + "\n")
	}
	for _, k := range xms {
		sb.WriteString(k + ":" + strings.TrimSpace(h.Get(k)) + "\n")
	}
	sb.WriteString("/" + account + path)
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sb.WriteString("\n" + strings.ToLower(k) + ":" + query[k])
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sb.String()))
	return "SharedKey " + account + ":" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// azuriteCert writes a certificate and key for 127.0.0.1 from a fresh local
// CA and returns their paths and a pool trusting the CA.
func azuriteCert(dir string) (certPath, keyPath string, pool *x509.CertPool, err error) {
	ca, err := certs.LoadOrCreateAuthority(dir, time.Now())
	if err != nil {
		return "", "", nil, err
	}
	leaf, err := ca.Leaf(net.ParseIP("127.0.0.1").To4(), "")
	if err != nil {
		return "", "", nil, err
	}
	var certPEM []byte
	for _, der := range leaf.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		return "", "", nil, err
	}
	certPath, keyPath = filepath.Join(dir, "azurite-cert.pem"), filepath.Join(dir, "azurite-key.pem")
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, err
	}
	return certPath, keyPath, ca.Pool(), nil
}
