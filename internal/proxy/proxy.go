// Package proxy is armlet's HTTPS proxy: clients that set HTTPS_PROXY to
// it and trust armlet's CA reach Azure's own host names, which armlet
// serves itself, with nothing else changed.
//
// A client asks for a tunnel with CONNECT host:443. For a host armlet
// serves (Options.Serves), the proxy answers 200, terminates TLS itself
// with a certificate for that host from armlet's CA, and serves the
// requests that come through the tunnel with Options.Handler; the
// request's context carries the host the tunnel was opened for
// (HostFrom), which the handler routes by, never by anything else the
// client sends. Any other host is refused with 403 and a message naming
// it: armlet never connects anywhere, so the proxy has no dialer at all.
// A proxy with Options.Open decides each CONNECT itself instead (a
// virtual network's proxy: the host as resolved inside the network).
//
// Inside a tunnel, a request whose Host header or TLS server name names
// another host than the tunnel's is refused (421 Misdirected Request), so
// one tunnel never reaches another host's handler.
package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Proxy.
type Options struct {
	// Certificate returns the server certificate for a host name (from
	// armlet's CA). Required.
	Certificate func(host string) (*tls.Certificate, error)
	// Serves reports whether armlet serves host (lower case, without
	// port). Required unless Open is set.
	Serves func(ctx context.Context, host string) (bool, error)
	// Open, when set, is asked instead of Serves: it decides for each
	// CONNECT whether the tunnel opens, and what the requests in it
	// carry (a virtual network's proxy resolves the host and sends the
	// tunnel through a private endpoint or publicly).
	Open func(ctx context.Context, host string) (Tunnel, error)
	// Handler serves the requests that come through tunnels. Required.
	Handler http.Handler
	// Logger; nil discards.
	Logger *slog.Logger
	// ReadTimeout bounds the reading of each request in a tunnel, body
	// included (zero: 1 min), as --read-timeout bounds it on armlet's
	// listeners; a handler that streams a large body extends its own
	// request's deadline (http.ResponseController.SetReadDeadline) once
	// it has authenticated the request. A tunnel is a hijacked
	// connection, outside the listener's limits, so without it a client
	// could hold one open forever by sending its body slowly.
	ReadTimeout time.Duration
	// ReadHeaderTimeout and IdleTimeout bound each tunnel's HTTP
	// connection (zero: 10 s and 2 min).
	ReadHeaderTimeout, IdleTimeout time.Duration
}

// Tunnel is what Options.Open decides for one CONNECT.
type Tunnel struct {
	// Refuse, when not zero, is the status the CONNECT is refused with
	// and Message the body that says why.
	Refuse  int
	Message string
	// Context, when set, is applied to the context of every request in
	// the tunnel (after WithHost).
	Context func(context.Context) context.Context
	// Check, when set, is asked before each request in the tunnel: an
	// error answers it 502 with the error's text and ends the tunnel, as
	// a connection to an address that went away ends.
	Check func(context.Context) error
}

// Proxy answers CONNECT requests. It is an http.Handler for the proxy
// listener's server; Close ends the tunnels it has open.
type Proxy struct {
	opts Options

	mu      sync.Mutex
	tunnels map[*http.Server]struct{}
	closed  bool
}

// New returns a Proxy.
func New(opts Options) *Proxy {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ReadHeaderTimeout == 0 {
		opts.ReadHeaderTimeout = 10 * time.Second
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = time.Minute
	}
	return &Proxy{opts: opts, tunnels: map[*http.Server]struct{}{}}
}

type hostKey struct{}

// HostFrom returns the host name the tunnel a request came through was
// opened for, and whether it came through one.
func HostFrom(ctx context.Context) (string, bool) {
	h, ok := ctx.Value(hostKey{}).(string)
	return h, ok
}

// WithHost returns ctx marked as arriving through a tunnel to host (for
// tests of handlers that route by HostFrom).
func WithHost(ctx context.Context, host string) context.Context {
	return context.WithValue(ctx, hostKey{}, host)
}

// ServeHTTP answers CONNECT; every other request to the proxy itself is
// 405, as armlet is no forward proxy for plain HTTP.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		w.Header().Set("Allow", http.MethodConnect)
		http.Error(w, "armlet's proxy only answers CONNECT to Azure's host names (HTTPS_PROXY)", http.StatusMethodNotAllowed)
		return
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || port != "443" || host == "" {
		http.Error(w, fmt.Sprintf("armlet's proxy tunnels host:443 only, not %q", r.Host), http.StatusBadRequest)
		return
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	tun, err := p.open(r.Context(), host)
	if err != nil {
		p.opts.Logger.Error("proxy: deciding whether a host is served", "host", host, "err", err)
		http.Error(w, "armlet could not decide whether it serves "+host, http.StatusServiceUnavailable)
		return
	}
	if tun.Refuse != 0 {
		p.opts.Logger.Info("proxy: refused a tunnel", "host", host, "status", tun.Refuse, "why", tun.Message)
		http.Error(w, tun.Message, tun.Refuse)
		return
	}
	rc := http.NewResponseController(w)
	conn, buf, err := rc.Hijack()
	if err != nil {
		http.Error(w, "armlet's proxy cannot tunnel over this connection (HTTP/1.1 CONNECT only)", http.StatusHTTPVersionNotSupported)
		return
	}
	if buf.Reader.Buffered() > 0 {
		// The client sent TLS before our answer: not a CONNECT client.
		_ = conn.Close()
		return
	}
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		_ = conn.Close()
		return
	}
	p.serveTunnel(context.WithoutCancel(r.Context()), conn, host, tun)
}

// open decides a CONNECT to host: Options.Open, or Options.Serves.
func (p *Proxy) open(ctx context.Context, host string) (Tunnel, error) {
	if p.opts.Open != nil {
		return p.opts.Open(ctx, host)
	}
	ok, err := p.opts.Serves(ctx, host)
	if err != nil || ok {
		return Tunnel{}, err
	}
	return Tunnel{Refuse: http.StatusForbidden, Message: "armlet does not serve " + host + "; it never connects outside"}, nil
}

// serveTunnel terminates TLS for host on conn and serves HTTP/1.1 on it
// until the client closes it or the proxy is closed. Its requests' contexts
// carry base's values: what the proxy's own server put on the CONNECT
// (the listener it arrived on, for flow records).
func (p *Proxy) serveTunnel(base context.Context, conn net.Conn, host string, tun Tunnel) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName != "" && !strings.EqualFold(strings.TrimSuffix(hello.ServerName, "."), host) {
				return nil, fmt.Errorf("proxy: TLS server name %q in a tunnel to %q", hello.ServerName, host)
			}
			return p.opts.Certificate(host)
		},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqHost := r.Host
		if h, _, err := net.SplitHostPort(reqHost); err == nil {
			reqHost = h
		}
		if !strings.EqualFold(strings.TrimSuffix(reqHost, "."), host) {
			http.Error(w, fmt.Sprintf("this tunnel is to %s, not %s", host, r.Host), http.StatusMisdirectedRequest)
			return
		}
		ctx := WithHost(r.Context(), host)
		if tun.Context != nil {
			ctx = tun.Context(ctx)
		}
		if tun.Check != nil {
			if err := tun.Check(ctx); err != nil {
				w.Header().Set("Connection", "close")
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		p.opts.Handler.ServeHTTP(w, r.WithContext(ctx))
	})
	srv := &http.Server{
		Handler:           handler,
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: p.opts.ReadHeaderTimeout,
		ReadTimeout:       p.opts.ReadTimeout,
		IdleTimeout:       p.opts.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(p.opts.Logger.Handler(), slog.LevelDebug),
	}
	if !p.track(srv) {
		_ = conn.Close()
		return
	}
	defer p.untrack(srv)
	ln := newOneConnListener(tls.Server(conn, cfg))
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		p.opts.Logger.Debug("proxy: tunnel ended", "host", host, "err", err)
	}
}

func (p *Proxy) track(srv *http.Server) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.tunnels[srv] = struct{}{}
	return true
}

func (p *Proxy) untrack(srv *http.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.tunnels, srv)
}

// Close ends every open tunnel; tunnels opened later are closed at once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	open := make([]*http.Server, 0, len(p.tunnels))
	for srv := range p.tunnels {
		open = append(open, srv)
	}
	p.mu.Unlock()
	for _, srv := range open {
		_ = srv.Close()
	}
	return nil
}

// oneConnListener hands its one connection to http.Server.Serve, then
// blocks Accept until that connection is closed, so that Serve returns
// when the tunnel ends.
type oneConnListener struct {
	conn   net.Conn
	once   sync.Once
	first  chan net.Conn
	closed chan struct{}
}

func newOneConnListener(c net.Conn) *oneConnListener {
	l := &oneConnListener{first: make(chan net.Conn, 1), closed: make(chan struct{})}
	l.conn = &closeNotifyConn{Conn: c, onClose: l.close}
	l.first <- l.conn
	return l
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.first:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *oneConnListener) close() { l.once.Do(func() { close(l.closed) }) }

func (l *oneConnListener) Close() error { l.close(); return nil }

func (l *oneConnListener) Addr() net.Addr { return l.conn.LocalAddr() }

// closeNotifyConn tells its listener when the server closes it.
type closeNotifyConn struct {
	net.Conn
	onClose func()
}

func (c *closeNotifyConn) Close() error {
	err := c.Conn.Close()
	c.onClose()
	return err
}
