package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func testAuthority(t *testing.T) *Authority {
	t.Helper()
	a, err := LoadOrCreateAuthority(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthorityCreateAndReload(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	dir := filepath.Join("nested", "data") // relative and missing
	now := time.Now()

	a, err := LoadOrCreateAuthority(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	wantPath := filepath.Join(base, "nested", "data", "ca.pem")
	if got := a.CertPath(); got != wantPath || !filepath.IsAbs(got) {
		t.Fatalf("CertPath = %q, want %q", got, wantPath)
	}
	for path, mode := range map[string]os.FileMode{
		filepath.Join(base, "nested", "data"): 0o700 | os.ModeDir,
		wantPath:                              0o644,
		filepath.Join(base, "nested", "data", "ca-key.pem"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) > 0 {
		t.Errorf("temporary files left behind: %v", tmps)
	}

	ca := a.Certificate()
	if ca.Subject.CommonName != "armlet local CA" || !ca.IsCA || !ca.BasicConstraintsValid {
		t.Errorf("CA subject %q IsCA %v", ca.Subject.CommonName, ca.IsCA)
	}
	pub, ok := ca.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}
	if life := ca.NotAfter.Sub(now); life < 10*364*24*time.Hour || life > 10*366*24*time.Hour {
		t.Errorf("CA valid for %v after now, want about 10 years", life)
	}
	if ca.NotBefore.After(now) {
		t.Errorf("CA NotBefore %v is after now %v", ca.NotBefore, now)
	}
	if _, err := ca.Verify(x509.VerifyOptions{Roots: a.Pool()}); err != nil {
		t.Errorf("CA does not verify against its own pool: %v", err)
	}
	certPEM, _ := os.ReadFile(wantPath)
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "ca-key.pem"))

	// Reload, through the absolute path this time.
	b, err := LoadOrCreateAuthority(filepath.Join(base, "nested", "data"), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Certificate().Raw, b.Certificate().Raw) {
		t.Error("reloaded CA certificate differs")
	}
	if !a.key.Equal(b.key) {
		t.Error("reloaded CA key differs")
	}
	if b.CertPath() != a.CertPath() {
		t.Errorf("reloaded CertPath %q, want %q", b.CertPath(), a.CertPath())
	}
	certPEM2, _ := os.ReadFile(wantPath)
	keyPEM2, _ := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if !bytes.Equal(certPEM, certPEM2) || !bytes.Equal(keyPEM, keyPEM2) {
		t.Error("reload rewrote the CA files")
	}
	// A leaf from one verifies against the other's pool.
	leaf, err := a.Leaf(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: b.Pool(), DNSName: "localhost"}); err != nil {
		t.Errorf("leaf of the first authority does not verify with the reloaded pool: %v", err)
	}
}

func TestAuthorityLoadErrors(t *testing.T) {
	now := time.Now()
	t.Run("stray key without certificate is replaced", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "ca-key.pem"), []byte("junk"), 0o600)
		if _, err := LoadOrCreateAuthority(dir, now); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateAuthority(dir, now); err != nil {
			t.Fatalf("reload: %v", err)
		}
	})
	t.Run("certificate without key", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateAuthority(dir, now); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "ca-key.pem"))
		_, err := LoadOrCreateAuthority(dir, now)
		if err == nil || !strings.Contains(err.Error(), "exists but its key") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("mismatched key", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		for _, d := range []string{dir, other} {
			if _, err := LoadOrCreateAuthority(d, now); err != nil {
				t.Fatal(err)
			}
		}
		key, _ := os.ReadFile(filepath.Join(other, "ca-key.pem"))
		os.WriteFile(filepath.Join(dir, "ca-key.pem"), key, 0o600)
		_, err := LoadOrCreateAuthority(dir, now)
		if err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateAuthority(dir, now); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateAuthority(dir, now.Add(11*365*24*time.Hour))
		if err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("garbage certificate", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateAuthority(dir, now); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("not pem"), 0o644)
		_, err := LoadOrCreateAuthority(dir, now)
		if err == nil || !strings.Contains(err.Error(), "no PEM CERTIFICATE") {
			t.Fatalf("err = %v", err)
		}
	})
}

// serveTLS accepts TLS connections on addr, completes each handshake and
// writes one byte. It returns the listening address.
func serveTLS(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if c.(*tls.Conn).Handshake() == nil {
					c.Write([]byte{'!'})
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dial performs a handshake and reads the server's byte.
func dial(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), nil
}

func TestTLSHandshake(t *testing.T) {
	a := testAuthority(t)
	addr := serveTLS(t, "127.0.0.1:0", a.TLSConfig())

	type handshakeCase struct {
		name    string
		addr    string // default addr
		cfg     *tls.Config
		wantIP  string // an IP SAN the leaf must have
		wantDNS string // a DNS SAN the leaf must have
		wantErr string
	}
	cases := []handshakeCase{
		{name: "ip 127.0.0.1", cfg: &tls.Config{RootCAs: a.Pool()}, wantIP: "127.0.0.1"},
		{name: "localhost", cfg: &tls.Config{RootCAs: a.Pool(), ServerName: "localhost"}, wantDNS: "localhost"},
		{name: "server name becomes a SAN", cfg: &tls.Config{RootCAs: a.Pool(), ServerName: "WS1.Privatelink.API.Azureml.test"},
			wantDNS: "ws1.privatelink.api.azureml.test", wantIP: "127.0.0.1"},
		{name: "alpn h2", cfg: &tls.Config{RootCAs: a.Pool(), NextProtos: []string{"h2", "http/1.1"}}},
		{name: "TLS 1.1 refused", cfg: &tls.Config{RootCAs: a.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
			wantErr: "protocol version"},
		{name: "client without the CA", cfg: &tls.Config{RootCAs: x509.NewCertPool()}, wantErr: "unknown authority"},
		{name: "wrong name", cfg: &tls.Config{RootCAs: a.Pool(), ServerName: "10.0.0.1"}, wantErr: "10.0.0.1"},
	}
	if ln, err := net.Listen("tcp", "127.0.0.42:0"); err != nil {
		t.Logf("cannot bind 127.0.0.42, skipping that case: %v", err)
	} else {
		ln.Close()
		other := serveTLS(t, "127.0.0.42:0", a.TLSConfig())
		cases = append(cases,
			handshakeCase{name: "other loopback 127.0.0.42", addr: other, cfg: &tls.Config{RootCAs: a.Pool()}, wantIP: "127.0.0.42"},
			handshakeCase{name: "other loopback as localhost", addr: other, cfg: &tls.Config{RootCAs: a.Pool(), ServerName: "localhost"}, wantIP: "127.0.0.42"},
		)
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			to := addr
			if c.addr != "" {
				to = c.addr
			}
			st, err := dial(to, c.cfg)
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("handshake succeeded, want error containing %q", c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Version < tls.VersionTLS12 {
				t.Errorf("version %x", st.Version)
			}
			leaf := st.PeerCertificates[0]
			if c.wantIP != "" && !hasIP(leaf, c.wantIP) {
				t.Errorf("leaf IPs %v lack %s", leaf.IPAddresses, c.wantIP)
			}
			if c.wantDNS != "" && !hasString(leaf.DNSNames, c.wantDNS) {
				t.Errorf("leaf DNS names %v lack %s", leaf.DNSNames, c.wantDNS)
			}
			for _, ip := range []string{"127.0.0.1", "::1"} {
				if !hasIP(leaf, ip) {
					t.Errorf("leaf IPs %v lack %s", leaf.IPAddresses, ip)
				}
			}
			if !hasString(leaf.DNSNames, "localhost") {
				t.Errorf("leaf DNS names %v lack localhost", leaf.DNSNames)
			}
			if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || leaf.IsCA {
				t.Errorf("leaf ExtKeyUsage %v IsCA %v", leaf.ExtKeyUsage, leaf.IsCA)
			}
			if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
				t.Errorf("leaf key %T, want ECDSA P-256", leaf.PublicKey)
			}
			if life := leaf.NotAfter.Sub(time.Now()); life < 364*24*time.Hour || life > 366*24*time.Hour {
				t.Errorf("leaf valid for %v more, want about a year", life)
			}
			if len(c.cfg.NextProtos) > 0 && st.NegotiatedProtocol != "h2" {
				t.Errorf("ALPN %q, want h2", st.NegotiatedProtocol)
			}
		})
	}
}

func TestLeafCache(t *testing.T) {
	a := testAuthority(t)
	addr := serveTLS(t, "127.0.0.1:0", a.TLSConfig())
	const n = 16
	raws := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := dial(addr, &tls.Config{RootCAs: a.Pool()})
			if err != nil {
				t.Error(err)
				return
			}
			raws[i] = st.PeerCertificates[0].Raw
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(raws[0], raws[i]) {
			t.Fatal("concurrent connections to one address got different certificates")
		}
	}
	st, err := dial(addr, &tls.Config{RootCAs: a.Pool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(raws[0], st.PeerCertificates[0].Raw) {
		t.Error("a different server name reused the certificate without it")
	}
	if c1, _ := a.Leaf(net.ParseIP("127.0.0.7"), ""); c1 == nil {
		t.Fatal("no leaf")
	} else if c2, _ := a.Leaf(net.IPv4(127, 0, 0, 7), ""); c1 != c2 {
		t.Error("Leaf did not cache by IP")
	}
}

func TestHTTPServer(t *testing.T) {
	a := testAuthority(t)
	var served sync.Map
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Store(r.URL.Path, r.Proto)
			io.WriteString(w, "hello")
		}),
		TLSConfig: a.TLSConfig(),
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	base := ln.Addr().String()

	t.Run("plain HTTP gets 400", func(t *testing.T) {
		client := &http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get("http://" + base + "/plain")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
		if !strings.Contains(string(body), "Client sent an HTTP request to an HTTPS server") {
			t.Errorf("body %q", body)
		}
		if _, ok := served.Load("/plain"); ok {
			t.Error("the handler served a plain-HTTP request")
		}
	})
	t.Run("HTTPS over HTTP/2", func(t *testing.T) {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: a.Pool()},
			ForceAttemptHTTP2: true,
		}}
		defer client.CloseIdleConnections()
		resp, err := client.Get("https://localhost:" + portOf(t, base) + "/tls")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Errorf("status %d proto %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
		}
	})
}

func TestStaticTLSConfig(t *testing.T) {
	a := testAuthority(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePair(t, a, certFile, keyFile)
	otherCert, otherKey := filepath.Join(dir, "other.pem"), filepath.Join(dir, "other-key.pem")
	writePair(t, a, otherCert, otherKey)
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("junk"), 0o600)

	cfg, err := StaticTLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x", cfg.MinVersion)
	}
	addr := serveTLS(t, "127.0.0.1:0", cfg)
	if _, err := dial(addr, &tls.Config{RootCAs: a.Pool(), ServerName: "localhost"}); err != nil {
		t.Errorf("handshake with the static certificate: %v", err)
	}
	if _, err := dial(addr, &tls.Config{RootCAs: a.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}

	for _, c := range []struct {
		name, cert, key, want string
	}{
		{"missing certificate", filepath.Join(dir, "nope.pem"), keyFile, "certificate file"},
		{"missing key", certFile, filepath.Join(dir, "nope-key.pem"), "key file"},
		{"empty certificate path", "", keyFile, "no certificate file"},
		{"mismatched key", certFile, otherKey, "private key does not match public key"},
		{"junk certificate", junk, keyFile, "junk.pem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := StaticTLSConfig(c.cert, c.key)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
			if strings.HasPrefix(c.name, "missing") && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("err = %v, want it to wrap os.ErrNotExist", err)
			}
		})
	}
}

// writePair writes a fresh leaf from a (for "localhost") as PEM files.
func writePair(t *testing.T, a *Authority, certFile, keyFile string) {
	t.Helper()
	c, err := a.issue(nil, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func portOf(t *testing.T, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func hasIP(c *x509.Certificate, ip string) bool {
	want := net.ParseIP(ip)
	for _, got := range c.IPAddresses {
		if got.Equal(want) {
			return true
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
