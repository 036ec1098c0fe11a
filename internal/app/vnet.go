package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/armhttp"
	"github.com/armlet/armlet/internal/azurehost"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/providers/network"
	"github.com/armlet/armlet/internal/proxy"
)

// hostIndex is what armlet holds of Azure ML's host names: the
// workspaceId of each workspace with its region, and the regions of
// workspaces and registries.
type hostIndex struct {
	workspaces map[string]string // workspaceId (lower case) -> region
	regions    map[string]bool
}

// serves reports whether h is one of the Azure ML host names armlet
// holds: a workspace's in its own region, or a region's where it holds a
// workspace or a registry.
func (x hostIndex) serves(h azurehost.Host) bool {
	switch h.Kind {
	case azurehost.Workspace:
		region, ok := x.workspaces[h.WorkspaceID]
		return ok && region == h.Region
	case azurehost.Regional:
		return x.regions[h.Region]
	}
	return false
}

// proxyHosts decides which host names armlet's proxies (the public one and
// the virtual networks') serve; Azure ML's answers are kept until the next
// write (engine.Memo).
type proxyHosts struct {
	e     *engine.Engine
	index *engine.Memo[hostIndex]
	// dataPlanes report whether they serve a host of theirs (a vault's).
	dataPlanes []func(ctx context.Context, host string) (bool, error)
}

func newProxyHosts(e *engine.Engine, dataPlanes ...func(ctx context.Context, host string) (bool, error)) *proxyHosts {
	return &proxyHosts{e: e, index: engine.NewMemo[hostIndex](e), dataPlanes: dataPlanes}
}

// Serves reports whether armlet serves host through its proxies: ARM's
// and the token service's names, Azure ML's names of the workspaces and
// regions it holds, and those a data plane serves (the vaults' it holds).
func (p *proxyHosts) Serves(ctx context.Context, host string) (bool, error) {
	if armhttp.ServesAzureHost(host) {
		return true, nil
	}
	if h := azurehost.Parse(host); h.Kind == azurehost.Workspace || h.Kind == azurehost.Regional {
		x, err := p.index.Get(ctx, "", func() (hostIndex, error) { return p.buildIndex(ctx) })
		return err == nil && x.serves(h), err
	}
	for _, serves := range p.dataPlanes {
		if ok, err := serves(ctx, host); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func (p *proxyHosts) buildIndex(ctx context.Context) (hostIndex, error) {
	x := hostIndex{workspaces: map[string]string{}, regions: map[string]bool{}}
	wss, err := p.e.ListByType(ctx, machinelearning.TypeWorkspaces)
	if err != nil {
		return x, err
	}
	for _, ws := range wss {
		region := engine.NormalizeLocation(ws.Location)
		x.regions[region] = true
		if id, _ := ws.Properties["workspaceId"].(string); id != "" {
			x.workspaces[strings.ToLower(id)] = region
		}
	}
	regs, err := p.e.ListByType(ctx, machinelearning.TypeRegistries)
	if err != nil {
		return x, err
	}
	for _, r := range regs {
		x.regions[engine.NormalizeLocation(r.Location)] = true
	}
	return x, nil
}

// VerdictNotServed is the verdict of `armlet network resolve` for a host
// armlet does not serve: whatever it resolves to, armlet's proxies
// refuse it.
const VerdictNotServed netmodel.Verdict = "not-served"

// vnetDNS resolves host names inside virtual networks over the store,
// for the virtual network proxies and the admin API.
type vnetDNS struct {
	s     *Server
	hosts *proxyHosts
	view  *engine.Memo[netmodel.DNSView]
}

// dnsView is every linked private DNS zone and every approved private
// endpoint, kept until the next write. The endpoints are kept too: a
// source other than the network provider (WithEndpointSource, in tests)
// is read again only after a write.
func (d *vnetDNS) dnsView(ctx context.Context) (netmodel.DNSView, error) {
	return d.view.Get(ctx, "", func() (netmodel.DNSView, error) {
		eps, err := d.s.opts.endpoints(ctx)
		if err != nil {
			return netmodel.DNSView{}, err
		}
		zones, err := network.DNSZones(ctx, d.s.engine)
		return netmodel.DNSView{Zones: zones, Endpoints: eps}, err
	})
}

// resolve resolves host for a client in vnet; a host armlet does not
// serve has VerdictNotServed.
func (d *vnetDNS) resolve(ctx context.Context, host string, vnet resourceid.ID) (netmodel.Resolution, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ok, err := d.hosts.Serves(ctx, host)
	if err != nil {
		return netmodel.Resolution{}, err
	}
	if !ok {
		return netmodel.Resolution{Host: host, VirtualNetworkID: vnet.String(), Chain: []netmodel.ResolveStep{},
			Verdict: VerdictNotServed, Message: "armlet does not serve " + host + "; it never connects outside"}, nil
	}
	view, err := d.dnsView(ctx)
	if err != nil {
		return netmodel.Resolution{}, err
	}
	return netmodel.Resolve(host, vnet, view), nil
}

// tunnel decides a CONNECT to host through vnet's proxy at addr: refused
// (403 for a host armlet does not serve; 502 with the resolution's
// message for a name that does not resolve or an address nothing answers
// at), public, or through a private endpoint.
//
// Choice: a tunnel keeps the path its CONNECT resolved to, as an open
// connection keeps its address when DNS changes: a client sees a changed
// zone or link on its next connection. A tunnel through a private
// endpoint that is then rejected or deleted answers 502 and ends, as the
// endpoint's own listener closes its connections.
func (d *vnetDNS) tunnel(ctx context.Context, vnet resourceid.ID, addr, host string) (proxy.Tunnel, error) {
	res, err := d.resolve(ctx, host, vnet)
	if err != nil {
		return proxy.Tunnel{}, err
	}
	origin := netmodel.Origin{Listener: addr}
	switch res.Verdict {
	case VerdictNotServed:
		return proxy.Tunnel{Refuse: http.StatusForbidden, Message: res.Message}, nil
	case netmodel.VerdictPublic:
	case netmodel.VerdictPrivate:
		origin.Endpoint = res.Endpoint
	default:
		return proxy.Tunnel{Refuse: http.StatusBadGateway, Message: res.Message}, nil
	}
	tun := proxy.Tunnel{Context: func(ctx context.Context) context.Context { return netmodel.WithOrigin(ctx, origin) }}
	if ep := origin.Endpoint; ep != nil {
		tun.Check = func(ctx context.Context) error {
			view, err := d.dnsView(ctx)
			if err != nil {
				return err
			}
			for _, cur := range view.Endpoints {
				if cur.ID.Equal(ep.ID) && cur.TargetID.Equal(ep.TargetID) && strings.EqualFold(cur.GroupID, ep.GroupID) {
					return nil
				}
			}
			return fmt.Errorf("private endpoint %s is no longer approved or no longer exists: the connection through it is closed", ep.ID)
		}
	}
	return tun, nil
}

// startVNetProxies gives every virtual network a proxy of its own (when
// armlet's HTTPS proxy is on): the hosts it serves are armlet's proxy's,
// each resolved inside the virtual network.
func (s *Server) startVNetProxies(ctx context.Context, handler http.Handler, hosts *proxyHosts, log *slog.Logger) {
	if s.proxy == nil {
		return
	}
	s.dns = &vnetDNS{s: s, hosts: hosts, view: engine.NewMemo[netmodel.DNSView](s.engine)}
	s.vnetProxies = netmodel.NewVNetProxies(netmodel.VNetProxyOptions{
		Source: func(ctx context.Context) ([]resourceid.ID, error) { return network.VirtualNetworks(ctx, s.engine) },
		Proxy: func(vnet resourceid.ID, addr string) netmodel.ProxyHandler {
			opts := s.tunnelTimeouts()
			opts.Certificate = func(host string) (*tls.Certificate, error) { return s.ca.Leaf(nil, host) }
			opts.Open = func(ctx context.Context, host string) (proxy.Tunnel, error) {
				return s.dns.tunnel(ctx, vnet, addr, host)
			}
			opts.Handler, opts.Logger = handler, log
			return proxy.New(opts)
		},
		Port: s.proxyPort, Store: kv.SpaceNetModel.Of(s.store), Logger: log,
		Server: func() *http.Server {
			return &http.Server{ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, IdleTimeout: s.cfg.IdleTimeout,
				ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		},
	})
	s.wg.Go(func() { s.vnetProxies.Run(ctx) })
}

// VNetProxies is the virtual network proxies (nil while the HTTPS proxy
// is off), for in-process tests.
func (s *Server) VNetProxies() *netmodel.VNetProxies { return s.vnetProxies }

// adminResolve is GET /_armlet/network/resolve?host=H&virtualNetworkId=ID.
func (a *admin) adminResolve(ctx context.Context, r *http.Request) (*engine.Response, error) {
	if a.s.dns == nil {
		return nil, arm.Conflict("ProxyOff", "armlet's HTTPS proxy is off (--proxy-listen \"\", or --cert/--key), so no virtual network has a proxy to resolve in.")
	}
	q := r.URL.Query()
	host := q.Get("host")
	if host == "" || len(host) > 253 || strings.ContainsAny(host, ":/ \\@?#%") {
		return nil, arm.BadRequest("InvalidHost", "The query parameter 'host' must be a host name without port or path, such as management.azure.com: %q.", host)
	}
	raw := q.Get("virtualNetworkId")
	vnet, err := resourceid.Parse(raw)
	if err != nil || vnet.IsRoot() || !strings.EqualFold(vnet.ResourceType(), network.TypeVirtualNetworks) {
		return nil, arm.BadRequest("InvalidResourceId", "The query parameter 'virtualNetworkId' must be a virtual network's resource id: %q.", raw)
	}
	v, err := a.s.engine.Get(ctx, vnet)
	if err != nil {
		return nil, err
	}
	res, err := a.s.dns.resolve(ctx, host, v.ID)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, res), nil
}
