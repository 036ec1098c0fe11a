package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/certs"
	"github.com/armlet/armlet/internal/proxy"
)

// start runs a proxy serving the hosts in served on a loopback listener
// and returns its URL and an HTTP client that uses it and trusts the CA.
func start(t *testing.T, served ...string) (*url.URL, *http.Client) {
	t.Helper()
	u, ca := serve(t, proxy.Options{
		Serves: func(_ context.Context, host string) (bool, error) {
			for _, h := range served {
				if h == host {
					return true, nil
				}
			}
			return false, nil
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _ := proxy.HostFrom(r.Context())
			_, _ = io.WriteString(w, "served "+host+" "+r.URL.Path)
		}),
	})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(u),
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
	}}
	t.Cleanup(client.CloseIdleConnections)
	return u, client
}

// serve runs a proxy with opts, its certificates from a new CA, on a
// loopback listener, and returns its URL and the CA.
func serve(t *testing.T, opts proxy.Options) (*url.URL, *certs.Authority) {
	t.Helper()
	ca, err := certs.LoadOrCreateAuthority(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	opts.Certificate = func(host string) (*tls.Certificate, error) { return ca.Leaf(nil, host) }
	p := proxy.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = p.Close(); _ = srv.Close() })
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}, ca
}

// TestTunnelServesTheHost: an ordinary HTTPS client with the proxy set
// reaches a served host by its name, over TLS it verifies against
// armlet's CA, and the handler sees the tunnel's host; repeated requests
// reuse the tunnel.
func TestTunnelServesTheHost(t *testing.T) {
	_, client := start(t, "kv1.vault.azure.net")
	for i := range 3 {
		resp, err := client.Get("https://kv1.vault.azure.net/secrets?api-version=7.4")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "served kv1.vault.azure.net /secrets" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
}

// connect sends CONNECT target to the proxy by hand and returns the
// status line and the connection.
func connect(t *testing.T, proxyURL *url.URL, target string) (string, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", proxyURL.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Status, conn // the tunnel: no body to read
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return resp.Status + " " + strings.TrimSpace(string(body)), conn
}

// TestRefusals: hosts armlet does not serve, ports other than 443 and
// plain requests are refused with a message naming what was asked; a
// loopback listener the CONNECT names is never dialled.
func TestRefusals(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	var dialled atomic.Int32
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			_ = c.Close()
		}
	}()
	u, _ := start(t, "kv1.vault.azure.net")
	for _, c := range []struct{ target, want string }{
		{"www.example.com:443", "403 Forbidden armlet does not serve www.example.com; it never connects outside"},
		{"kv2.vault.azure.net:443", "403 Forbidden armlet does not serve kv2.vault.azure.net"},
		{target.Addr().String(), "400 Bad Request armlet's proxy tunnels host:443 only"},
		{"localhost:443", "403 Forbidden armlet does not serve localhost; it never connects outside"},
		{"127.0.0.1:443", "403 Forbidden armlet does not serve 127.0.0.1; it never connects outside"},
		{"management.azure.com.evil.example:443", "403 Forbidden armlet does not serve management.azure.com.evil.example"},
		{"kv1.vault.azure.net:80", "400 Bad Request"},
	} {
		if got, _ := connect(t, u, c.target); !strings.HasPrefix(got, c.want) {
			t.Errorf("CONNECT %s: %q, want %q", c.target, got, c.want)
		}
	}
	resp, err := http.Get(u.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET of the proxy itself: %d, want 405", resp.StatusCode)
	}
	if n := dialled.Load(); n != 0 {
		t.Errorf("the proxy connected %d times to the listener a CONNECT named", n)
	}
}

// TestTunnelKeepsToItsHost: inside a tunnel to one host, a TLS server
// name or a Host header naming another is refused, so a tunnel never
// reaches another host's handler.
func TestTunnelKeepsToItsHost(t *testing.T) {
	u, _ := start(t, "kv1.vault.azure.net", "kv2.vault.azure.net")
	status, conn := connect(t, u, "kv1.vault.azure.net:443")
	if !strings.HasPrefix(status, "200") {
		t.Fatalf("CONNECT: %s", status)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: "kv1.vault.azure.net", InsecureSkipVerify: true}) //nolint:gosec // the test reads the answer, not the certificate
	if _, err := io.WriteString(tc, "GET /secrets HTTP/1.1\r\nHost: kv2.vault.azure.net\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host kv2 in a tunnel to kv1: %d, want 421", resp.StatusCode)
	}

	status, conn = connect(t, u, "kv1.vault.azure.net:443")
	if !strings.HasPrefix(status, "200") {
		t.Fatalf("CONNECT: %s", status)
	}
	tc = tls.Client(conn, &tls.Config{ServerName: "kv2.vault.azure.net", InsecureSkipVerify: true}) //nolint:gosec // the handshake must fail
	if err := tc.Handshake(); err == nil {
		t.Error("a TLS server name kv2 in a tunnel to kv1 completed its handshake")
	}
}

// TestOpenDecidesEachTunnel: Options.Open refuses a CONNECT with its own
// status and message, gives each request of a tunnel it opens the
// context it chose, and a failing Check answers 502 and ends the tunnel.
func TestOpenDecidesEachTunnel(t *testing.T) {
	ca, err := certs.LoadOrCreateAuthority(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	type label struct{}
	var gone atomic.Bool
	p := proxy.New(proxy.Options{
		Certificate: func(host string) (*tls.Certificate, error) { return ca.Leaf(nil, host) },
		Open: func(_ context.Context, host string) (proxy.Tunnel, error) {
			switch host {
			case "private.example":
				return proxy.Tunnel{
					Context: func(ctx context.Context) context.Context { return context.WithValue(ctx, label{}, "through pe1") },
					Check: func(context.Context) error {
						if gone.Load() {
							return errors.New("private endpoint pe1 is gone")
						}
						return nil
					},
				}, nil
			case "nowhere.example":
				return proxy.Tunnel{Refuse: http.StatusBadGateway, Message: "nowhere.example resolves to 10.9.9.9, which nothing answers"}, nil
			}
			return proxy.Tunnel{Refuse: http.StatusForbidden, Message: "not served"}, nil
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, _ := r.Context().Value(label{}).(string)
			host, _ := proxy.HostFrom(r.Context())
			_, _ = io.WriteString(w, host+" "+v)
		}),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = p.Close(); _ = srv.Close() })
	u := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	if got, _ := connect(t, u, "nowhere.example:443"); got != "502 Bad Gateway nowhere.example resolves to 10.9.9.9, which nothing answers" {
		t.Errorf("CONNECT nowhere.example: %q", got)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	t.Cleanup(client.CloseIdleConnections)
	get := func() (int, string) {
		resp, err := client.Get("https://private.example/x")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get(); st != http.StatusOK || body != "private.example through pe1" {
		t.Errorf("through the tunnel: %d %q", st, body)
	}
	gone.Store(true)
	if st, body := get(); st != http.StatusBadGateway || !strings.Contains(body, "pe1 is gone") {
		t.Errorf("after the endpoint went: %d %q", st, body)
	}
}

// TestTunnelReadTimeout: a request whose body stalls inside a tunnel is
// cut off after Options.ReadTimeout, as on armlet's listeners: a tunnel
// is a hijacked connection, outside the listener's own limits.
func TestTunnelReadTimeout(t *testing.T) {
	read := make(chan error, 1)
	u, ca := serve(t, proxy.Options{
		Serves: func(context.Context, string) (bool, error) { return true, nil },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := io.ReadAll(r.Body)
			read <- err
		}),
		ReadTimeout: 200 * time.Millisecond,
	})
	status, conn := connect(t, u, "slow.example:443")
	if !strings.HasPrefix(status, "200") {
		t.Fatalf("CONNECT: %s", status)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: "slow.example", RootCAs: ca.Pool()})
	if _, err := io.WriteString(tc, "PUT /c/b HTTP/1.1\r\nHost: slow.example\r\nContent-Length: 1000\r\n\r\nfirst bytes"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-read:
		if err == nil {
			t.Fatal("the stalled body was read whole")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a stalled body was still being read 5 s after a 200 ms read timeout")
	}
}
