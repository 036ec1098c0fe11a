package network

import (
	"context"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// VirtualNetworks lists every virtual network (in every subscription)
// that is not being deleted, for the network model's virtual network
// proxies.
func VirtualNetworks(ctx context.Context, e *engine.Engine) ([]resourceid.ID, error) {
	vnets, err := e.ListByType(ctx, TypeVirtualNetworks)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	out := make([]resourceid.ID, 0, len(vnets))
	for _, v := range vnets {
		if !v.Deleting(now) {
			out = append(out, v.ID)
		}
	}
	return out, nil
}

// DNSZones lists what name resolution inside a virtual network reads of
// private DNS (netmodel.DNSView.Zones): every private DNS zone linked to
// some virtual network, with its links and A record sets, in ID order.
//
// Choice: a link or zone being deleted still answers until its delete
// completes, as a record being deleted does.
func DNSZones(ctx context.Context, e *engine.Engine) ([]netmodel.DNSZone, error) {
	zones, err := e.ListByType(ctx, TypePrivateDNSZones)
	if err != nil {
		return nil, err
	}
	out := make([]netmodel.DNSZone, 0, len(zones))
	for _, z := range zones {
		links, err := e.List(ctx, z.ID, "virtualNetworkLinks")
		if err != nil {
			return nil, err
		}
		zone := netmodel.DNSZone{ID: z.ID, Records: map[string][]string{}}
		for _, l := range links {
			ref, _ := l.Properties["virtualNetwork"].(map[string]any)
			s, _ := ref["id"].(string)
			vnet, err := resourceid.Parse(s)
			if err != nil {
				continue
			}
			policy, _ := l.Properties["resolutionPolicy"].(string)
			zone.Links = append(zone.Links, netmodel.DNSLink{ID: l.ID, VirtualNetwork: vnet, Fallback: strings.EqualFold(policy, "NxDomainRedirect")})
		}
		if len(zone.Links) == 0 {
			continue // answers for no virtual network
		}
		records, err := e.List(ctx, z.ID, "A")
		if err != nil {
			return nil, err
		}
		for _, rec := range records {
			list, _ := rec.Properties["aRecords"].([]any)
			var ips []string
			for _, v := range list {
				o, _ := v.(map[string]any)
				if ip, _ := o["ipv4Address"].(string); ip != "" {
					ips = append(ips, ip)
				}
			}
			zone.Records[strings.ToLower(rec.ID.Name())] = ips
		}
		out = append(out, zone)
	}
	slices.SortFunc(out, func(a, b netmodel.DNSZone) int { return strings.Compare(a.ID.Key(), b.ID.Key()) })
	return out, nil
}
