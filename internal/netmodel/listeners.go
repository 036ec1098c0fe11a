package netmodel

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
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
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	for {
		if err := l.Reconcile(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("reconciling private endpoint listeners", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.trigger:
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
	a, err := l.address(ctx, ep)
	if err != nil {
		return nil, err
	}
	var ports []int
	if a.Port != 0 {
		ports = append(ports, a.Port)
	}
	if l.opts.Port != 0 && l.opts.Port != a.Port {
		ports = append(ports, l.opts.Port)
	}
	var ln net.Listener
	for _, port := range append(ports, 0) {
		if ln, err = net.Listen("tcp", net.JoinHostPort(a.IP, strconv.Itoa(port))); err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	pl := &privateListener{addr: ln.Addr().String(), done: make(chan struct{})}
	pl.ep.Store(&ep)
	if port := ln.Addr().(*net.TCPAddr).Port; port != a.Port {
		a.Port = port
		if _, err := l.opts.Store.Txn(ctx, kv.Put(addressKey(ep), mustMarshal(a))); err != nil {
			ln.Close()
			return nil, err
		}
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	if l.opts.Server != nil {
		srv = l.opts.Server()
	}
	srv.Handler = l.opts.Handler
	if l.opts.TLSConfig != nil {
		// Each server gets its own copy: http.Server.Serve writes to its
		// TLSConfig (HTTP/2 set-up).
		srv.TLSConfig = l.opts.TLSConfig.Clone()
	}
	srv.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return WithOrigin(ctx, Origin{Listener: pl.addr, Endpoint: pl.ep.Load()})
	}
	pl.server = srv
	go func() {
		defer close(pl.done)
		var serveLn net.Listener = ln
		if srv.TLSConfig != nil {
			serveLn = tls.NewListener(ln, srv.TLSConfig)
		}
		if err := srv.Serve(serveLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("private endpoint listener stopped", "listen", pl.addr, "err", err)
		}
	}()
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

// loopbackAddr is an endpoint's loopback address, kept in the store.
type loopbackAddr struct {
	IP   string `json:"ip"`
	Port int    `json:"port,omitempty"`
}

// Store layout, in kv.SpaceNetModel.
var (
	addressPrefix  = []byte("loopback\x00")
	addressCounter = []byte("loopback-next")
)

func addressKey(ep Endpoint) []byte {
	return append(append([]byte{}, addressPrefix...), ep.ID.Key()...)
}

// address returns the endpoint's loopback address, allocating the next
// one on first use.
//
// Choice: addresses come from a counter kept in the store, 127.77.0.1,
// 127.77.0.2, … (skipping .0 and .255 in the last byte, then moving on to
// 127.78.…), and stay with the private endpoint id for good, even while
// the endpoint is not approved, so an endpoint keeps its address across
// restarts and re-approval and no two endpoints ever share one. The port
// is remembered too: the main listener's port at first, any free port if
// that is taken.
func (l *Listeners) address(ctx context.Context, ep Endpoint) (loopbackAddr, error) {
	key := addressKey(ep)
	for {
		ent, err := l.opts.Store.Get(ctx, key)
		if err == nil {
			var a loopbackAddr
			if err := json.Unmarshal(ent.Value, &a); err != nil || net.ParseIP(a.IP) == nil {
				return loopbackAddr{}, fmt.Errorf("corrupt loopback address record %q", ent.Value)
			}
			return a, nil
		}
		if !errors.Is(err, kv.ErrNotFound) {
			return loopbackAddr{}, err
		}
		var n uint64
		cond := kv.Absent
		if c, err := l.opts.Store.Get(ctx, addressCounter); err == nil {
			n, _ = strconv.ParseUint(string(c.Value), 10, 64)
			cond = kv.AtRevision(c.Revision)
		} else if !errors.Is(err, kv.ErrNotFound) {
			return loopbackAddr{}, err
		}
		ip, err := LoopbackAddress(n)
		if err != nil {
			return loopbackAddr{}, err
		}
		a := loopbackAddr{IP: ip}
		_, err = l.opts.Store.Txn(ctx,
			kv.Put(addressCounter, []byte(strconv.FormatUint(n+1, 10))).If(cond),
			kv.Put(key, mustMarshal(a)).If(kv.Absent))
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, kv.ErrConflict) {
			return loopbackAddr{}, err
		}
	}
}

// LoopbackAddress is the n-th private endpoint loopback address (n from
// 0): 127.77.0.1, …, 127.77.0.254, 127.77.1.1, …, then 127.78.0.1, …, up
// to 127.254.255.254.
func LoopbackAddress(n uint64) (string, error) {
	const perB = 254
	const perA = 256 * perB
	a := 77 + n/perA
	if a > 254 {
		return "", errors.New("no loopback addresses left for private endpoints")
	}
	b := (n % perA) / perB
	c := n%perB + 1
	return fmt.Sprintf("127.%d.%d.%d", a, b, c), nil
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
