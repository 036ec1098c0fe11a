package app_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// failTLS dials armlet with TLS, trusting its CA.
func failTLS(t *testing.T, s *e2e.Armlet) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", s.Addr().String(), s.Client.Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// failClosedWithin reports whether the server closes conn (a read ends in
// EOF or a reset, not a timeout) within d, and how long it took.
func failClosedWithin(conn net.Conn, d time.Duration) (bool, time.Duration) {
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout()), time.Since(start)
		}
	}
}

// failHealthy checks another client is served quickly.
func failHealthy(t *testing.T, s *e2e.Armlet, what string) {
	t.Helper()
	start := time.Now()
	if st, _, b := s.Do(t, "GET", "/subscriptions/"+s.Conn.SubscriptionID+"?api-version=2021-04-01", "", nil); st != 200 {
		t.Errorf("%s: another client got %d %s", what, st, b)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("%s: another client waited %v", what, d)
	}
}

// TestSlowAndHostileClients checks the connection timeouts and limits with
// short settings: a slowloris client sending header bytes slowly, a client
// that never finishes the TLS handshake, a body that never ends (413 at
// the size limit), a body that trickles forever (cut at --read-timeout),
// while other clients keep being served.
func TestSlowAndHostileClients(t *testing.T) {
	t.Parallel()
	const headerTimeout, readTimeout = 500 * time.Millisecond, 1500 * time.Millisecond
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
		c.ReadHeaderTimeout, c.ReadTimeout, c.MaxBodyBytes = headerTimeout, readTimeout, 64<<10
	}))
	ws := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/slow/providers/Microsoft.MachineLearningServices/workspaces/ws1?api-version=2024-04-01"
	tok := s.Token(t)

	t.Run("slowloris headers", func(t *testing.T) {
		conn := failTLS(t, s)
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.WriteString(conn, "GET /_armlet/health HTTP/1.1\r\nHost: x\r\n")
			for i := 0; i < 100; i++ { // 10 s of headers, one byte every 100 ms
				if _, err := io.WriteString(conn, "X"); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		failHealthy(t, s, "during slowloris")
		closed, after := failClosedWithin(conn, headerTimeout+3*time.Second)
		if !closed {
			t.Fatalf("slowloris connection still open after %v", after)
		}
		<-done
		t.Logf("slowloris connection closed after %v", after.Round(time.Millisecond))
	})

	t.Run("no TLS handshake", func(t *testing.T) {
		conn, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "\x16\x03\x01") // the start of a ClientHello, then nothing
		if closed, after := failClosedWithin(conn, headerTimeout+3*time.Second); !closed {
			t.Fatalf("half-handshake connection still open after %v", after)
		}
		failHealthy(t, s, "after half handshake")
	})

	t.Run("endless body", func(t *testing.T) {
		conn := failTLS(t, s)
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", ws, tok)
		go func() {
			chunk := fmt.Sprintf("%x\r\n%s\r\n", 4096, strings.Repeat("x", 4096))
			for {
				if _, err := io.WriteString(conn, chunk); err != nil {
					return
				}
			}
		}()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to an endless body: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "RequestTooLarge") && !strings.Contains(string(b), "exceeds") {
			t.Fatalf("endless body: %d %s", resp.StatusCode, b)
		}
		failHealthy(t, s, "after endless body")
	})

	t.Run("trickling body", func(t *testing.T) {
		conn := failTLS(t, s)
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", ws, tok)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := io.WriteString(conn, " "); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		_ = conn.SetReadDeadline(start.Add(readTimeout + 5*time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		elapsed := time.Since(start)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Fatalf("trickling body: %d %s", resp.StatusCode, b)
			}
		} else {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("trickling body still being read after %v", elapsed)
			}
		}
		if elapsed > readTimeout+3*time.Second {
			t.Fatalf("trickling body cut only after %v", elapsed)
		}
		t.Logf("trickling body cut after %v (err %v)", elapsed.Round(time.Millisecond), err)
		failHealthy(t, s, "after trickling body")
	})
}

// TestMaxConnections checks --max-connections: connections beyond it are
// closed at once, those within it stay open, and once they go new clients
// are served again.
func TestMaxConnections(t *testing.T) {
	t.Parallel()
	const limit = 20
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.MaxConnections, c.ReadHeaderTimeout = limit, 5*time.Second }))
	failHealthy(t, s, "before") // the test client's keep-alive connection counts too
	s.Client.CloseIdleConnections()
	for deadline := time.Now().Add(5 * time.Second); s.OpenConnections() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	conns := make([]net.Conn, limit+10)
	for i := range conns {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	closed := 0
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := failClosedWithin(c, time.Second); ok {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if closed != 10 {
		t.Errorf("%d of %d connections closed at once with --max-connections %d, want 10", closed, len(conns), limit)
	}
	if got := s.RefusedConnections(); got != 10 {
		t.Errorf("RefusedConnections = %d, want 10", got)
	}
	for _, c := range conns {
		c.Close()
	}
	for deadline := time.Now().Add(5 * time.Second); s.OpenConnections() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.OpenConnections(); n != 0 {
		t.Errorf("%d connections still counted open after the clients left", n)
	}
	failHealthy(t, s, "after the limit")
}

// TestConcurrentTagIncrements runs 32 clients that each read a workspace,
// add one to its counter tag and their own tag, and write it back with
// If-Match, retrying on 412: no increment may be lost.
func TestConcurrentTagIncrements(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ws := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/rmw/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	const v = "?api-version=2024-04-01"
	if st, _, b := s.Do(t, "PUT", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/rmw?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != 201 {
		t.Fatalf("create group: %d %s", st, b)
	}
	if st, _, b := s.Do(t, "PUT", ws+v, `{"location":"eastus","tags":{"n":"0"}}`, nil); st != 202 && st != 201 {
		t.Fatalf("create workspace: %d %s", st, b)
	}
	const clients, rounds = 32, 3
	var wg sync.WaitGroup
	errs := make(chan string, clients*rounds)
	var mu sync.Mutex
	retries := 0
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				for attempt := 0; ; attempt++ {
					if attempt > 500 {
						errs <- fmt.Sprintf("client %d gave up after 500 conflicts", c)
						return
					}
					st, h, b := s.Do(t, "GET", ws+v, "", nil)
					var got struct {
						Etag string            `json:"etag"`
						Tags map[string]string `json:"tags"`
					}
					if st != 200 || json.Unmarshal([]byte(b), &got) != nil {
						errs <- fmt.Sprintf("GET: %d %s", st, b)
						return
					}
					etag := h.Get("ETag")
					if etag == "" {
						etag = got.Etag
					}
					n, _ := strconv.Atoi(got.Tags["n"])
					tags := got.Tags
					tags["n"] = strconv.Itoa(n + 1)
					tags[fmt.Sprintf("c%d", c)] = strconv.Itoa(r + 1)
					st, _, b = s.Do(t, "PATCH", ws+v, string(mustJSON(map[string]any{"tags": tags})), map[string]string{"If-Match": etag})
					if st == http.StatusPreconditionFailed {
						mu.Lock()
						retries++
						mu.Unlock()
						continue
					}
					if st != 200 && st != 202 {
						errs <- fmt.Sprintf("PATCH: %d %s", st, b)
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st, _, b := s.Do(t, "GET", ws+v, "", nil)
	var final struct {
		Tags map[string]string `json:"tags"`
	}
	if st != 200 || json.Unmarshal([]byte(b), &final) != nil {
		t.Fatalf("final GET: %d %s", st, b)
	}
	if final.Tags["n"] != strconv.Itoa(clients*rounds) {
		t.Errorf("counter tag n = %q after %d increments (%d retries on 412)", final.Tags["n"], clients*rounds, retries)
	}
	for c := range clients {
		if got := final.Tags[fmt.Sprintf("c%d", c)]; got != strconv.Itoa(rounds) {
			t.Errorf("tag c%d = %q, want %d", c, got, rounds)
		}
	}
	t.Logf("%d increments, %d retries on 412", clients*rounds, retries)
}

// TestFullDisk runs armlet on bbolt in a small tmpfs, fills the file
// system, and checks that writes fail with 503 ServiceUnavailable (an ARM
// error, never a 500), reads keep working, writes work again once space
// comes back, and after a restart every acknowledged write is there.
// Mounting needs root with CAP_SYS_ADMIN; elsewhere the test skips.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	onDisk := func(c *config.Config) { c.InMemory, c.DataDir = false, dir }
	s := e2e.Start(t, e2e.WithConfig(onDisk))
	sub := "/subscriptions/" + s.Conn.SubscriptionID
	const gv = "?api-version=2021-04-01"
	var acked []string
	for i := range 5 {
		p := fmt.Sprintf("%s/resourceGroups/before-%d", sub, i)
		if st, _, b := s.Do(t, "PUT", p+gv, `{"location":"eastus"}`, nil); st != 201 {
			t.Fatalf("create %s: %d %s", p, st, b)
		}
		acked = append(acked, p)
	}

	// Fill the file system.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	// Small writes may still fit in pages bbolt already has; big ones
	// need the file to grow and must fail.
	big := strings.Repeat("x", 250)
	tags := map[string]string{}
	for i := range 50 {
		tags[fmt.Sprintf("t%02d", i)] = big
	}
	body := string(mustJSON(map[string]any{"location": "eastus", "tags": tags}))
	failed := 0
	for i := 0; i < 200 && failed < 3; i++ {
		p := fmt.Sprintf("%s/resourceGroups/full-%d", sub, i)
		st, _, b := s.Do(t, "PUT", p+gv, body, nil)
		switch {
		case st == 201:
			acked = append(acked, p)
		case st == http.StatusServiceUnavailable || st == http.StatusInsufficientStorage:
			failed++
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal([]byte(b), &e) != nil || e.Error.Code == "" {
				t.Fatalf("write on a full disk: %d without an ARM error body: %s", st, b)
			}
			if failed == 1 {
				t.Logf("write on a full disk after %d more acknowledged: %d %s", i, st, b)
			}
		default:
			t.Fatalf("write on a full disk: %d %s", st, b)
		}
	}
	if failed == 0 {
		t.Fatal("no write failed on a full disk")
	}
	for _, p := range acked {
		if st, _, b := s.Do(t, "GET", p+gv, "", nil); st != 200 {
			t.Errorf("read %s on a full disk: %d %s", p, st, b)
		}
	}
	if st, _, b := s.Do(t, "GET", sub+"/resourcegroups"+gv, "", nil); st != 200 {
		t.Errorf("list on a full disk: %d %s", st, b)
	}

	// Space comes back: writes work again.
	f.Close()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	p := sub + "/resourceGroups/after"
	if st, _, b := s.Do(t, "PUT", p+gv, body, nil); st != 201 {
		t.Fatalf("write after space came back: %d %s", st, b)
	}
	acked = append(acked, p)

	// Restart on the same file: it opens and holds every acknowledged write.
	s.Close()
	s = e2e.Start(t, e2e.WithConfig(onDisk))
	for _, p := range acked {
		if st, _, b := s.Do(t, "GET", p+gv, "", nil); st != 200 {
			t.Errorf("read %s after restart: %d %s", p, st, b)
		}
	}
	t.Logf("%d acknowledged writes intact after the disk filled and the store reopened", len(acked))
}

// TestExpiredAndForeignTokens adds to TestBadInput (malformed, tampered,
// forged-signature and wrong-audience tokens) and TestTLSOnly (TLS 1.0/1.1
// and plain HTTP): a token from another armlet (a real RS256 token, signed
// by a key this one never issued) is refused; a token stays valid when the
// armlet clock moves two hours (clients cache tokens by wall time, issue 14
// trap 4), and is refused with 401 ExpiredAuthenticationToken and a
// WWW-Authenticate header once its lifetime has passed on the wall clock.
func TestExpiredAndForeignTokens(t *testing.T) {
	t.Parallel()
	const lifetime = 10 * time.Second // config.MinTokenLifetime
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.TokenLifetime = lifetime }))
	other := e2e.Start(t)
	sub := "/subscriptions/" + s.Conn.SubscriptionID + "?api-version=2021-04-01"
	foreign := other.Token(t)
	if st, _, b := s.Do(t, "GET", sub, "", map[string]string{"Authorization": "Bearer " + foreign}); st != 401 || !strings.Contains(b, "InvalidAuthenticationToken") {
		t.Errorf("token of another armlet: %d %s", st, b)
	}
	issued := time.Now()
	tok := s.Token(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	if _, err := s.AdvanceClock(t.Context(), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if st, _, b := s.Do(t, "GET", sub, "", bearer); st != 200 {
		t.Fatalf("a fresh token after the armlet clock moved 2h: %d %s", st, b)
	}
	time.Sleep(time.Until(issued.Add(lifetime + 1500*time.Millisecond)))
	st, h, b := s.Do(t, "GET", sub, "", bearer)
	if st != 401 || !strings.Contains(b, "ExpiredAuthenticationToken") || h.Get("WWW-Authenticate") == "" {
		t.Errorf("expired token: %d %v %s", st, h, b)
	}
}
