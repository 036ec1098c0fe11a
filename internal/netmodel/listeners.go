package netmodel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/armlet/armlet/internal/kv"
)

// EndpointSource lists the approved private endpoints (in armlet, the
// network provider's ApprovedEndpoints).
type EndpointSource func(ctx context.Context) ([]Endpoint, error)

// ListenerOptions configures Listeners.
type ListenerOptions struct {
	Source EndpointSource
	// Handler serves every private listener; each request's context
	// carries the listener's Origin.
	Handler http.Handler
	// TLSConfig is copied for each listener; it must not change after
	// NewListeners.
	TLSConfig *tls.Config
	// Port is the port each listener tries first when it has none of its
	// own yet (the main listener's); a taken port falls back to a free one.
	Port int
	// Store, the view of kv.SpaceNetModel, keeps the loopback address of
	// each endpoint across restarts.
	Store  kv.View
	Logger *slog.Logger
	// Interval between reconciliations; default 250ms.
	Interval time.Duration
	// Server configures each listener's http.Server (timeouts); its
	// Handler, TLSConfig and ConnContext are set by Listeners.
	Server func() *http.Server
}

// Listening is one open private endpoint listener.
type Listening struct {
	PrivateEndpointID string `json:"privateEndpointId"`
	PrivateIP         string `json:"privateIPAddress"`
	Address           string `json:"listenAddress"`
	TargetResourceID  string `json:"targetResourceId"`
	GroupID           string `json:"groupId"`
}

// Listeners keeps one TLS listener open on a loopback address of its own
// for every approved private endpoint the source lists, and closes the
// listeners of endpoints it no longer lists (rejected, pending, deleted).
type Listeners struct {
	opts    ListenerOptions
	log     *slog.Logger
	trigger chan struct{}

	mu     sync.Mutex // serializes Reconcile and guards open
	open   map[string]*privateListener
	closed bool
}

type privateListener struct {
	ep     atomic.Pointer[Endpoint]
	addr   string
	server *http.Server
	done   chan struct{}
}

// NewListeners returns Listeners; nothing listens before Reconcile or Run.
func NewListeners(opts ListenerOptions) *Listeners {
	if opts.Store.Space() != kv.SpaceNetModel {
		panic(fmt.Sprintf("netmodel: loopback addresses live in %v, not %v", kv.SpaceNetModel, opts.Store.Space()))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = 250 * time.Millisecond
	}
	return &Listeners{opts: opts, log: opts.Logger, trigger: make(chan struct{}, 1), open: map[string]*privateListener{}}
}

// Run reconciles every Interval and whenever Trigger is called, until ctx
// is done; then it closes every listener.
func (l *Listeners) Run(ctx context.Context) {
	defer l.Close()
	reconcileLoop(ctx, l.opts.Interval, l.trigger, l.Reconcile, l.log, "reconciling private endpoint listeners")
}

// reconcileLoop calls reconcile now, every interval and whenever trigger
// fires, until ctx is done; failures are logged as what.
func reconcileLoop(ctx context.Context, interval time.Duration, trigger <-chan struct{}, reconcile func(context.Context) error, log *slog.Logger, what string) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := reconcile(ctx); err != nil && ctx.Err() == nil {
			log.Warn(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-trigger:
		}
	}
}

// Trigger asks Run to reconcile now (after a write that may have approved,
// rejected or deleted an endpoint).
func (l *Listeners) Trigger() {
	select {
	case l.trigger <- struct{}{}:
	default:
	}
}

// Reconcile opens a listener for each endpoint the source lists that has
// none and closes those of endpoints it no longer lists. When the source
// fails, nothing changes.
func (l *Listeners) Reconcile(ctx context.Context) error {
	eps, err := l.opts.Source(ctx)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	want := make(map[string]Endpoint, len(eps))
	for _, ep := range eps {
		if ep.ID.IsRoot() {
			continue
		}
		want[ep.ID.Key()] = ep
	}
	for k, pl := range l.open {
		if _, ok := want[k]; !ok {
			l.log.Info("private endpoint listener closed", "endpoint", pl.ep.Load().ID.String(), "listen", pl.addr)
			pl.close()
			delete(l.open, k)
		}
	}
	var errs []error
	// In the source's order, so that new endpoints get addresses in a
	// repeatable order.
	for _, ep := range eps {
		k := ep.ID.Key()
		if _, ok := want[k]; !ok || ep.ID.IsRoot() {
			continue
		}
		delete(want, k) // once per endpoint
		if pl, ok := l.open[k]; ok {
			pl.ep.Store(&ep) // keep its details current
			continue
		}
		pl, err := l.start(ctx, ep)
		if err != nil {
			errs = append(errs, fmt.Errorf("private endpoint %s: %w", ep.ID, err))
			continue
		}
		l.open[k] = pl
		l.log.Info("private endpoint listening", "endpoint", ep.ID.String(), "group", ep.GroupID, "listen", pl.addr)
	}
	return errors.Join(errs...)
}

func (l *Listeners) start(ctx context.Context, ep Endpoint) (*privateListener, error) {
	ln, err := l.book().listen(ctx, ep.ID, l.opts.Port)
	if err != nil {
		return nil, err
	}
	pl := &privateListener{addr: ln.Addr().String(), done: make(chan struct{})}
	pl.ep.Store(&ep)
	srv := newServer(l.opts.Server, l.opts.Handler)
	if l.opts.TLSConfig != nil {
		// Each server gets its own copy: http.Server.Serve writes to its
		// TLSConfig (HTTP/2 set-up).
		srv.TLSConfig = l.opts.TLSConfig.Clone()
	}
	var serveLn net.Listener = ln
	if srv.TLSConfig != nil {
		serveLn = tls.NewListener(ln, srv.TLSConfig)
	}
	srv.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return WithOrigin(ctx, Origin{Listener: pl.addr, Endpoint: pl.ep.Load()})
	}
	pl.server = srv
	go serveUntilClosed(srv, serveLn, pl.done, l.log, "private endpoint listener stopped")
	return pl, nil
}

// close stops accepting and drops open connections at once: a rejected or
// deleted endpoint carries no more traffic, kept-alive connections
// included.
func (pl *privateListener) close() {
	_ = pl.server.Close()
	<-pl.done
}

// List returns the open listeners, ordered by private endpoint id.
func (l *Listeners) List() []Listening {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Listening, 0, len(l.open))
	for _, pl := range l.open {
		ep := pl.ep.Load()
		out = append(out, Listening{
			PrivateEndpointID: ep.ID.String(), PrivateIP: ep.PrivateIP, Address: pl.addr,
			TargetResourceID: ep.TargetID.String(), GroupID: ep.GroupID,
		})
	}
	slices.SortFunc(out, func(a, b Listening) int {
		return strings.Compare(strings.ToLower(a.PrivateEndpointID), strings.ToLower(b.PrivateEndpointID))
	})
	return out
}

// Close closes every listener; Reconcile does nothing afterwards.
func (l *Listeners) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for k, pl := range l.open {
		pl.close()
		delete(l.open, k)
	}
}

// book is where the endpoints' loopback addresses are kept.
func (l *Listeners) book() loopbackBook {
	return loopbackBook{store: l.opts.Store, prefix: []byte("loopback\x00"), counter: []byte("loopback-next"), nth: LoopbackAddress}
}

// LoopbackAddress is the n-th private endpoint loopback address (n from
// 0): 127.77.0.1, …, 127.77.0.254, 127.77.1.1, …, then 127.78.0.1, …, up
// to 127.254.255.254.
func LoopbackAddress(n uint64) (string, error) {
	ip, ok := nthLoopback(77, 254, n)
	if !ok {
		return "", errors.New("no loopback addresses left for private endpoints")
	}
	return ip, nil
}

// nthLoopback is the n-th address of 127.first.0.1 … 127.last.255.254,
// skipping .0 and .255 in the last byte; false past the end.
func nthLoopback(first, last, n uint64) (string, bool) {
	const perB = 254
	const perA = 256 * perB
	a := first + n/perA
	if a > last {
		return "", false
	}
	b := (n % perA) / perB
	c := n%perB + 1
	return fmt.Sprintf("127.%d.%d.%d", a, b, c), true
}

// WriteEndpointsTable writes the listeners for people.
func WriteEndpointsTable(w io.Writer, ls []Listening) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(ls) == 0 {
		fmt.Fprintln(tw, "No approved private endpoint is listening.")
		return tw.Flush()
	}
	fmt.Fprintln(tw, "PRIVATE ENDPOINT\tPRIVATE IP\tLISTENS ON\tGROUP\tTARGET")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.PrivateEndpointID, l.PrivateIP, l.Address, l.GroupID, l.TargetResourceID)
	}
	return tw.Flush()
}

// newServer is the http.Server a private listener or a virtual network's
// proxy serves handler with: the configured one (timeouts), or one with
// a header timeout only.
func newServer(configured func() *http.Server, handler http.Handler) *http.Server {
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	if configured != nil {
		srv = configured()
	}
	srv.Handler = handler
	return srv
}

// serveUntilClosed serves srv on ln until the server is closed, then
// closes done; any other end is logged with msg.
func serveUntilClosed(srv *http.Server, ln net.Listener, done chan struct{}, log *slog.Logger, msg string) {
	defer close(done)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error(msg, "listen", ln.Addr().String(), "err", err)
	}
}
