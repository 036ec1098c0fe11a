package etcdkv

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// probeRead bounds how long a probe waits, after its TLS handshake, for the
// alert of a server that refuses the client's certificate.
const probeRead = time.Second

// connectError explains why Open could not use the cluster. etcd's client
// retries a refused connection or a failed TLS handshake until the dial
// timeout and then reports only "context deadline exceeded", so on a
// deadline each endpoint is dialled directly, with the same TLS
// configuration (tc, nil without TLS), to find the cause. err stays wrapped.
func connectError(o Options, tc *tls.Config, err error) error {
	user := ""
	if o.Username != "" {
		user = fmt.Sprintf(" as etcd user %q", o.Username)
	}
	switch {
	case errors.Is(err, rpctypes.ErrAuthFailed):
		return fmt.Errorf("etcdkv: connect to %v%s: wrong user name or password: %w", o.Endpoints, user, err)
	case errors.Is(err, rpctypes.ErrPermissionDenied) && o.Username == "":
		return fmt.Errorf("etcdkv: connect to %v: etcd has authentication on; give a user name and password: %w", o.Endpoints, err)
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		return fmt.Errorf("etcdkv: connect to %v%s: the user needs readwrite on the prefixes %q and %q: %w",
			o.Endpoints, user, o.Prefix, ElectionPrefix(o.Prefix), err)
	case !errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("etcdkv: connect to %v%s: %w", o.Endpoints, user, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.DialTimeout)
	defer cancel()
	causes := make([]error, len(o.Endpoints))
	var wg sync.WaitGroup
	for i, ep := range o.Endpoints {
		wg.Go(func() { causes[i] = probe(ctx, ep, tc) })
	}
	wg.Wait()
	var found []string
	for i, c := range causes {
		if c != nil {
			found = append(found, fmt.Sprintf("%s: %v", o.Endpoints[i], c))
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("etcdkv: connect to %v%s: no answer within %v: %w", o.Endpoints, user, o.DialTimeout, err)
	}
	return fmt.Errorf("etcdkv: connect to %v%s: %w (%s)", o.Endpoints, user, err, strings.Join(found, "; "))
}

// probe dials endpoint ep as etcd's client would and returns what goes
// wrong: the TCP connection, the TLS handshake (the server's certificate),
// or the server's refusal of the client's certificate. It returns nil when
// it finds nothing wrong within ctx.
func probe(ctx context.Context, ep string, tc *tls.Config) error {
	addr := ep
	if _, rest, ok := strings.Cut(ep, "://"); ok {
		addr = rest
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if tc == nil {
		return nil
	}
	cfg := tc.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return err
		}
		cfg.ServerName = host
	}
	tconn := tls.Client(conn, cfg)
	if err := tconn.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	// In TLS 1.3 the client's handshake ends before the server has checked
	// the client's certificate: a refusal comes as an alert on the first
	// read. A server that accepts it sends its HTTP/2 settings or nothing.
	deadline := time.Now().Add(probeRead)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetReadDeadline(deadline); err != nil {
		return err
	}
	if _, err := tconn.Read(make([]byte, 1)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("TLS: %w", err)
	}
	return nil
}
