package netmodel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// VNetSource lists the virtual networks that get a proxy (in armlet, the
// network provider's VirtualNetworks).
type VNetSource func(ctx context.Context) ([]resourceid.ID, error)

// ProxyHandler is a virtual network's HTTPS proxy (*proxy.Proxy): it
// answers CONNECT, and Close ends its open tunnels.
type ProxyHandler interface {
	http.Handler
	Close() error
}

// VNetProxyOptions configures VNetProxies.
type VNetProxyOptions struct {
	Source VNetSource
	// Proxy makes the proxy of the virtual network vnet, which listens on
	// addr (host:port). Required.
	Proxy func(vnet resourceid.ID, addr string) ProxyHandler
	// Port is the port each proxy tries first when it has none of its own
	// yet (armlet's public proxy's); a taken port falls back to a free one.
	Port int
	// Store, the view of kv.SpaceNetModel, keeps the loopback address of
	// each virtual network across restarts.
	Store  kv.View
	Logger *slog.Logger
	// Interval between reconciliations; default 250ms.
	Interval time.Duration
	// Server configures each proxy's http.Server (timeouts); its Handler
	// is set by VNetProxies.
	Server func() *http.Server
}

// VNetProxy is one open virtual network proxy.
type VNetProxy struct {
	VirtualNetworkID string `json:"virtualNetworkId"`
	// HTTPSProxy is the proxy's URL for HTTPS_PROXY (http://addr).
	HTTPSProxy string `json:"httpsProxy"`
	Address    string `json:"listenAddress"`
}

// VNetProxies keeps one HTTPS proxy open on a loopback address of its own
// for every virtual network the source lists, and closes the proxies of
// those it no longer lists. A client that uses a virtual network's proxy
// is inside that virtual network: its proxy resolves each host as Azure
// DNS does there (Resolve).
type VNetProxies struct {
	opts    VNetProxyOptions
	log     *slog.Logger
	trigger chan struct{}

	mu     sync.Mutex // serializes Reconcile and guards open
	open   map[string]*vnetProxy
	closed bool
}

type vnetProxy struct {
	vnet   resourceid.ID
	addr   string
	proxy  ProxyHandler
	server *http.Server
	done   chan struct{}
}

// NewVNetProxies returns VNetProxies; nothing listens before Reconcile or
// Run.
func NewVNetProxies(opts VNetProxyOptions) *VNetProxies {
	if opts.Store.Space() != kv.SpaceNetModel {
		panic(fmt.Sprintf("netmodel: loopback addresses live in %v, not %v", kv.SpaceNetModel, opts.Store.Space()))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = 250 * time.Millisecond
	}
	return &VNetProxies{opts: opts, log: opts.Logger, trigger: make(chan struct{}, 1), open: map[string]*vnetProxy{}}
}

// Run reconciles every Interval and whenever Trigger is called, until ctx
// is done; then it closes every proxy.
func (v *VNetProxies) Run(ctx context.Context) {
	defer v.Close()
	reconcileLoop(ctx, v.opts.Interval, v.trigger, v.Reconcile, v.log, "reconciling virtual network proxies")
}

// Trigger asks Run to reconcile now (after a write that may have made or
// deleted a virtual network).
func (v *VNetProxies) Trigger() {
	select {
	case v.trigger <- struct{}{}:
	default:
	}
}

// Reconcile opens a proxy for each virtual network the source lists that
// has none and closes those of virtual networks it no longer lists. When
// the source fails, nothing changes.
func (v *VNetProxies) Reconcile(ctx context.Context) error {
	vnets, err := v.opts.Source(ctx)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil
	}
	want := make(map[string]bool, len(vnets))
	for _, id := range vnets {
		want[id.Key()] = true
	}
	for k, p := range v.open {
		if !want[k] {
			v.log.Info("virtual network proxy closed", "virtualNetwork", p.vnet.String(), "listen", p.addr)
			p.close()
			delete(v.open, k)
		}
	}
	var errs []error
	for _, id := range vnets { // in the source's order: repeatable addresses
		if _, ok := v.open[id.Key()]; ok || id.IsRoot() {
			continue
		}
		p, err := v.start(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("virtual network %s: %w", id, err))
			continue
		}
		v.open[id.Key()] = p
		v.log.Info("virtual network proxy listening", "virtualNetwork", id.String(), "listen", p.addr)
	}
	return errors.Join(errs...)
}

func (v *VNetProxies) start(ctx context.Context, vnet resourceid.ID) (*vnetProxy, error) {
	ln, err := v.book().listen(ctx, vnet, v.opts.Port)
	if err != nil {
		return nil, err
	}
	p := &vnetProxy{vnet: vnet, addr: ln.Addr().String(), done: make(chan struct{})}
	p.proxy = v.opts.Proxy(vnet, p.addr)
	p.server = newServer(v.opts.Server, p.proxy)
	go serveUntilClosed(p.server, ln, p.done, v.log, "virtual network proxy stopped")
	return p, nil
}

// close stops accepting and ends the proxy's tunnels at once: a deleted
// virtual network has no clients left inside it.
func (p *vnetProxy) close() {
	_ = p.server.Close()
	_ = p.proxy.Close()
	<-p.done
}

// List returns the open proxies, ordered by virtual network id.
func (v *VNetProxies) List() []VNetProxy {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]VNetProxy, 0, len(v.open))
	for _, p := range v.open {
		out = append(out, VNetProxy{VirtualNetworkID: p.vnet.String(), HTTPSProxy: "http://" + p.addr, Address: p.addr})
	}
	slices.SortFunc(out, func(a, b VNetProxy) int {
		return strings.Compare(strings.ToLower(a.VirtualNetworkID), strings.ToLower(b.VirtualNetworkID))
	})
	return out
}

// Close closes every proxy; Reconcile does nothing afterwards.
func (v *VNetProxies) Close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closed = true
	for k, p := range v.open {
		p.close()
		delete(v.open, k)
	}
}

// book is where the virtual networks' loopback addresses are kept.
func (v *VNetProxies) book() loopbackBook {
	return loopbackBook{store: v.opts.Store, prefix: []byte("vnet-loopback\x00"), counter: []byte("vnet-loopback-next"), nth: VNetLoopbackAddress}
}

// VNetLoopbackAddress is the n-th virtual network proxy's loopback
// address (n from 0): 127.66.0.1, …, up to 127.76.255.254, below the
// private endpoints' (LoopbackAddress) so the two never meet.
func VNetLoopbackAddress(n uint64) (string, error) {
	ip, ok := nthLoopback(66, 76, n)
	if !ok {
		return "", errors.New("no loopback addresses left for virtual network proxies")
	}
	return ip, nil
}

// WriteVNetProxiesTable writes the virtual network proxies for people.
func WriteVNetProxiesTable(w io.Writer, ps []VNetProxy) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(ps) == 0 {
		fmt.Fprintln(tw, "No virtual network has a proxy (there is no virtual network, or armlet's HTTPS proxy is off).")
		return tw.Flush()
	}
	fmt.Fprintln(tw, "VIRTUAL NETWORK\tHTTPS_PROXY")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\n", p.VirtualNetworkID, p.HTTPSProxy)
	}
	return tw.Flush()
}
