package etcdtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/armlet/armlet/internal/kv/etcdkv"
)

// SecureOptions choose what a secure cluster asks of its clients beyond
// verifying the server.
type SecureOptions struct {
	// ClientCerts makes the server require a client certificate signed by
	// the test CA.
	ClientCerts bool
	// Auth turns etcd authentication on, with a user (SecureCluster.Username)
	// that may read and write only the test's prefix and its leader
	// election.
	Auth bool
}

// SecureCluster is an embedded single-member etcd server that serves its
// clients over TLS only, for one test.
type SecureCluster struct {
	// Endpoint is the server's client URL, https://127.0.0.1:port. Its
	// certificate, for 127.0.0.1, is signed by the CA in CAFile.
	Endpoint string
	// Prefix is the test's key prefix, as in Cluster.
	Prefix string
	// CAFile is the PEM test CA. CertFile and KeyFile are a PEM client
	// certificate and key it signed; they are written whether or not the
	// server requires them.
	CAFile, CertFile, KeyFile string
	// OtherCAFile is a PEM CA that signed nothing the server has, for tests
	// of a verification that must fail.
	OtherCAFile string
	// Username and Password are the user with readwrite on Prefix and on
	// its leader election (etcdkv.ElectionPrefix), with SecureOptions.Auth;
	// empty otherwise.
	Username, Password string

	opts  SecureOptions
	admin *clientv3.Client // as root with Auth
}

// StartSecure starts a SecureCluster for t. It always embeds its own
// server, even when EnvCluster names an external cluster, since it needs
// one configured with its CA and users; the server stops when the test
// ends.
func StartSecure(t testing.TB, o SecureOptions) *SecureCluster {
	t.Helper()
	dir := t.TempDir()
	ca, other := newCA(t, "armlet test CA"), newCA(t, "armlet other CA")
	serverCert, serverKey := ca.issue(t, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.issue(t, "armlet-test-client", x509.ExtKeyUsageClientAuth)
	c := &SecureCluster{
		Prefix:      "t-" + randomHex() + "/",
		CAFile:      writePEM(t, dir, "ca.pem", ca.certPEM),
		CertFile:    writePEM(t, dir, "client.pem", clientCert),
		KeyFile:     writePEM(t, dir, "client-key.pem", clientKey),
		OtherCAFile: writePEM(t, dir, "other-ca.pem", other.certPEM),
		opts:        o,
	}
	serverCertFile := writePEM(t, dir, "server.pem", serverCert)
	serverKeyFile := writePEM(t, dir, "server-key.pem", serverKey)
	c.Endpoint = embedded(t, "https", func(cfg *embed.Config) {
		cfg.ClientTLSInfo.CertFile = serverCertFile
		cfg.ClientTLSInfo.KeyFile = serverKeyFile
		// bcrypt's cheapest cost: every Open authenticates, and tests
		// that open a store per subtest would spend seconds on hashing.
		cfg.BcryptCost = bcryptMinCost
		if o.ClientCerts {
			cfg.ClientTLSInfo.ClientCertAuth = true
			cfg.ClientTLSInfo.TrustedCAFile = c.CAFile
		}
	})
	if o.Auth {
		c.enableAuth(t)
	}
	return c
}

// Options returns etcdkv options for a store under the cluster's prefix
// that the server accepts: its CA, the client certificate when the server
// requires one, and the user with Auth.
func (c *SecureCluster) Options() etcdkv.Options {
	o := etcdkv.Options{
		Endpoints: []string{c.Endpoint}, Prefix: c.Prefix, CAFile: c.CAFile,
		Username: c.Username, Password: c.Password,
	}
	if c.opts.ClientCerts {
		o.CertFile, o.KeyFile = c.CertFile, c.KeyFile
	}
	return o
}

// AddUser adds a user with a role of its own that has readwrite on every
// key under each of prefixes, and returns its password. The cluster must
// have been started with Auth.
func (c *SecureCluster) AddUser(t testing.TB, name string, prefixes ...string) string {
	t.Helper()
	if c.admin == nil {
		t.Fatal("etcdtest: AddUser on a cluster started without Auth")
	}
	return addUser(t, c.admin, name, prefixes...)
}

// enableAuth creates root (etcd enables authentication only with a root
// user in the root role), the test's user, then turns authentication on
// and keeps a root client for AddUser.
func (c *SecureCluster) enableAuth(t testing.TB) {
	t.Helper()
	setup := c.client(t, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	rootPassword := randomHex()
	if _, err := setup.UserAdd(ctx, "root", rootPassword); err != nil {
		t.Fatalf("etcdtest: add root: %v", err)
	}
	if _, err := setup.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatalf("etcdtest: grant root the root role: %v", err)
	}
	c.Username = "armlet"
	c.Password = addUser(t, setup, c.Username, c.Prefix, etcdkv.ElectionPrefix(c.Prefix))
	if _, err := setup.AuthEnable(ctx); err != nil {
		t.Fatalf("etcdtest: enable auth: %v", err)
	}
	setup.Close()
	c.admin = c.client(t, "root", rootPassword)
}

// client returns a client of the cluster for the test, authenticated as
// user when it is not empty, closed when the test ends.
func (c *SecureCluster) client(t testing.TB, user, password string) *clientv3.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readFile(t, c.CAFile)) {
		t.Fatalf("etcdtest: no certificate in %s", c.CAFile)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if c.opts.ClientCerts {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{c.Endpoint}, TLS: tc, DialTimeout: checkTimeout,
		Username: user, Password: password, Logger: zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("etcdtest: connect to %s: %v", c.Endpoint, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// addUser adds user name with a role of the same name that has readwrite
// on every key under each of prefixes, and returns its random password.
func addUser(t testing.TB, cli *clientv3.Client, name string, prefixes ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	password := randomHex()
	if _, err := cli.UserAdd(ctx, name, password); err != nil {
		t.Fatalf("etcdtest: add user %s: %v", name, err)
	}
	if _, err := cli.RoleAdd(ctx, name); err != nil {
		t.Fatalf("etcdtest: add role %s: %v", name, err)
	}
	for _, p := range prefixes {
		if _, err := cli.RoleGrantPermission(ctx, name, p, clientv3.GetPrefixRangeEnd(p), clientv3.PermissionType(clientv3.PermReadWrite)); err != nil {
			t.Fatalf("etcdtest: grant role %s readwrite on %s: %v", name, p, err)
		}
	}
	if _, err := cli.UserGrantRole(ctx, name, name); err != nil {
		t.Fatalf("etcdtest: grant user %s its role: %v", name, err)
	}
	return password
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// bcryptMinCost is golang.org/x/crypto/bcrypt.MinCost, the lowest cost etcd
// accepts for password hashes.
const bcryptMinCost = 4

// validity is how long the test certificates are valid, from an hour ago
// so that a clock a little behind does not reject them.
const validity = 24 * time.Hour

func newCA(t testing.TB, name string) testCA {
	t.Helper()
	key := newKey(t)
	tmpl := template(t, name)
	tmpl.KeyUsage |= x509.KeyUsageCertSign
	tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by the CA for name, which
// is also the certificate's IP address when it is one.
func (ca testCA) issue(t testing.TB, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := template(t, name)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// template is the part of a certificate that the CA's and the ones it
// issues share: a random serial, name as the subject, validity and a
// signing key usage.
func template(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	return &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
