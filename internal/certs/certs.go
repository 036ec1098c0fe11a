// Package certs provides armlet's TLS material: a local certificate
// authority kept in the data directory, which issues a server certificate
// for whichever loopback address a connection arrives on, and loading of
// user-supplied certificates.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// File names inside the data directory.
const (
	CAFile    = "ca.pem"
	CAKeyFile = "ca-key.pem"
)

const (
	caCommonName = "armlet local CA"
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	// backdate is how far NotBefore is set in the past, to tolerate clock
	// skew between armlet and its clients.
	backdate = time.Hour
	// renewBefore is how long before expiry a cached leaf is replaced.
	renewBefore = 24 * time.Hour
	// maxCachedLeaves bounds the leaf cache; server names come from clients.
	maxCachedLeaves = 1024
)

// Authority is armlet's local certificate authority. It is safe for
// concurrent use.
type Authority struct {
	certPath string
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	now      func() time.Time // for leaf validity; time.Now

	mu     sync.Mutex
	leaves map[string]*tls.Certificate // by "ip|servername"
}

// LoadOrCreateAuthority loads the CA from <dir>/ca.pem and <dir>/ca-key.pem
// or, when ca.pem does not exist, creates a new ECDSA P-256 self-signed CA
// valid for ten years from now and writes both files atomically (key 0600,
// certificate 0644), creating dir with mode 0700 if needed.
//
// ca.pem is written last, so its presence marks a complete CA: a stray key
// without a certificate (from an interrupted first start) is replaced. A
// certificate without its key, a key that does not match, or an expired CA
// is an error; deleting both files makes a new CA on the next start.
func LoadOrCreateAuthority(dir string, now time.Time) (*Authority, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("certs: data directory %q: %w", dir, err)
	}
	certPath := filepath.Join(absDir, CAFile)
	keyPath := filepath.Join(absDir, CAKeyFile)

	certPEM, err := os.ReadFile(certPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createAuthority(absDir, certPath, keyPath, now)
	case err != nil:
		return nil, fmt.Errorf("certs: read CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("certs: CA certificate %s exists but its key %s does not; delete %s to create a new CA (clients must then trust the new one)",
			certPath, keyPath, certPath)
	}
	if err != nil {
		return nil, fmt.Errorf("certs: read CA key: %w", err)
	}

	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", certPath, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("certs: %s is not a CA certificate", certPath)
	}
	signer, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", keyPath, err)
	}
	key, ok := signer.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("certs: %s: want an ECDSA key, got %T", keyPath, signer)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("certs: key %s does not match certificate %s", keyPath, certPath)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("certs: CA certificate %s expired on %s; delete %s and %s to create a new CA",
			certPath, cert.NotAfter.UTC().Format(time.RFC3339), certPath, keyPath)
	}
	return newAuthority(certPath, cert, key), nil
}

func createAuthority(dir, certPath, keyPath string, now time.Time) (*Authority, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: create data directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName, Organization: []string{"armlet"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parse new CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: encode CA key: %w", err)
	}
	// Key first: the certificate's presence marks a complete CA.
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, fmt.Errorf("certs: write CA key: %w", err)
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, fmt.Errorf("certs: write CA certificate: %w", err)
	}
	return newAuthority(certPath, cert, key), nil
}

func newAuthority(certPath string, cert *x509.Certificate, key *ecdsa.PrivateKey) *Authority {
	return &Authority{
		certPath: certPath,
		cert:     cert,
		key:      key,
		now:      time.Now,
		leaves:   make(map[string]*tls.Certificate),
	}
}

// CertPath returns the absolute path of the CA certificate (ca.pem), the
// file clients must trust.
func (a *Authority) CertPath() string { return a.certPath }

// Certificate returns the CA certificate.
func (a *Authority) Certificate() *x509.Certificate { return a.cert }

// Pool returns a new certificate pool holding only the CA certificate, for
// clients (and tests) that should trust armlet and nothing else.
func (a *Authority) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(a.cert)
	return pool
}

// TLSConfig returns a server configuration (TLS 1.2 or newer, ALPN h2 and
// http/1.1) that presents, for each connection, a certificate signed by the
// CA for the local IP address the connection arrived on, plus "localhost",
// "127.0.0.1", "::1" and the client's server name (SNI) if it is a host
// name. Certificates are issued on first use and cached.
func (a *Authority) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: a.GetCertificate,
	}
}

// GetCertificate implements tls.Config.GetCertificate; see TLSConfig.
func (a *Authority) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	var ip net.IP
	if hello.Conn != nil {
		if addr, ok := hello.Conn.LocalAddr().(*net.TCPAddr); ok && addr.IP != nil && !addr.IP.IsUnspecified() {
			ip = addr.IP
			if ip4 := ip.To4(); ip4 != nil {
				ip = ip4
			}
		}
	}
	name := hostname(hello.ServerName)
	return a.Leaf(ip, name)
}

// Leaf returns a certificate signed by the CA for ip (may be nil) and
// serverName (a host name, may be empty), in addition to "localhost",
// "127.0.0.1" and "::1", issuing and caching it on first use.
func (a *Authority) Leaf(ip net.IP, serverName string) (*tls.Certificate, error) {
	cacheKey := ip.String() + "|" + serverName
	if ip == nil {
		cacheKey = "|" + serverName
	}
	now := a.now()

	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[cacheKey]; ok && now.Before(c.Leaf.NotAfter.Add(-renewBefore)) {
		return c, nil
	}
	c, err := a.issue(ip, serverName, now)
	if err != nil {
		return nil, err
	}
	if len(a.leaves) >= maxCachedLeaves {
		clear(a.leaves)
	}
	a.leaves[cacheKey] = c
	return c, nil
}

func (a *Authority) issue(ip net.IP, serverName string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	dns := []string{"localhost"}
	if serverName != "" && serverName != "localhost" {
		dns = append(dns, serverName)
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	if ip != nil && !ip.Equal(ips[0]) && !ip.Equal(ips[1]) {
		ips = append([]net.IP{ip}, ips...)
	}
	cn := "localhost"
	switch {
	case serverName != "":
		cn = serverName
	case ip != nil:
		cn = ip.String()
	}
	notAfter := now.Add(leafLifetime)
	if notAfter.After(a.cert.NotAfter) {
		notAfter = a.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"armlet"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("certs: issue server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parse server certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// StaticTLSConfig returns a server configuration (TLS 1.2 or newer, ALPN h2
// and http/1.1) that always presents the certificate chain in certFile with
// the private key in keyFile, both PEM.
func StaticTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	for _, f := range []struct{ what, path string }{{"certificate", certFile}, {"key", keyFile}} {
		if f.path == "" {
			return nil, fmt.Errorf("certs: no %s file given", f.what)
		}
		if _, err := os.Stat(f.path); err != nil {
			return nil, fmt.Errorf("certs: %s file: %w", f.what, err)
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certs: load certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
		Certificates: []tls.Certificate{pair},
	}, nil
}

// hostname returns the SNI server name normalised (lower case, no trailing
// dot) if it is a valid DNS host name, and "" otherwise (including for IP
// addresses, which are not valid SNI).
func hostname(s string) string {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if s == "" || len(s) > 253 || net.ParseIP(s) != nil {
		return ""
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return ""
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return ""
			}
		}
	}
	return s
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil // positive, never zero
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", k)
		}
		return s, nil
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	}
	return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
}

// writeFileAtomic writes data to path with the given mode via a temporary
// file in the same directory and a rename, so readers never see a partial
// file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(mode); err != nil { // exact mode, regardless of umask
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable where the platform allows it; errors are
// ignored (some systems cannot sync directories).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
