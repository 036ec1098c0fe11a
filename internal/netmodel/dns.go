package netmodel

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/azurehost"
)

// Name resolution inside a virtual network, as Azure DNS (168.63.129.16)
// answers a client in it: a name under a private DNS zone linked to the
// virtual network is answered from that zone; any other name by public
// DNS, whose answer for an Azure service with private link is a CNAME to
// the service's privatelink name (azurehost.Host.PrivateLinkCNAME), which
// is then looked up the same way. The address the chain ends at decides
// how the client's connection travels: to a private endpoint in the
// virtual network, to the service's public address, or nowhere.

// DNSZone is a private DNS zone as the resolver sees it.
type DNSZone struct {
	// ID is the zone (Microsoft.Network/privateDnsZones); its name is the
	// zone's DNS name.
	ID    resourceid.ID
	Links []DNSLink
	// Records maps each A record set's name ("@", a relative name, or a
	// wildcard "*.name"), lower case, to its IPv4 addresses.
	Records map[string][]string
}

// DNSLink is one virtualNetworkLink of a zone.
type DNSLink struct {
	ID             resourceid.ID
	VirtualNetwork resourceid.ID
	// Fallback is resolutionPolicy NxDomainRedirect: a name the zone has
	// no record for is resolved publicly instead of failing.
	Fallback bool
}

// DNSView is what resolution reads: every private DNS zone and every
// approved private endpoint.
type DNSView struct {
	Zones     []DNSZone
	Endpoints []Endpoint
}

// Verdict is where a resolved name sends a connection.
type Verdict string

// The verdicts.
const (
	// VerdictPublic: the name resolves to the service's public address;
	// the request arrives publicly.
	VerdictPublic Verdict = "public"
	// VerdictPrivate: the name resolves to the address of an approved
	// private endpoint in the virtual network that serves the name; the
	// request arrives through that endpoint.
	VerdictPrivate Verdict = "private"
	// VerdictNXDomain: a linked zone answers for the name and has no
	// record for it (and the link does not fall back): the name does not
	// resolve.
	VerdictNXDomain Verdict = "nxdomain"
	// VerdictUnreachable: the name resolves to an address that is no
	// approved private endpoint's in the virtual network serving the name:
	// nothing answers there.
	VerdictUnreachable Verdict = "unreachable"
)

// ResolveStep is one lookup of the chain.
type ResolveStep struct {
	// Name is the name looked up.
	Name string `json:"name"`
	// Zone and Link are the linked private DNS zone that answered, and
	// its link; empty when public DNS answered.
	Zone string `json:"privateDnsZoneId,omitempty"`
	Link string `json:"virtualNetworkLinkId,omitempty"`
	// Record is the zone's record set that answered ("" when none did).
	Record string `json:"recordSet,omitempty"`
	// CNAME is public DNS's answer when it is a CNAME.
	CNAME string `json:"cname,omitempty"`
	// Addresses are the A record's addresses.
	Addresses []string `json:"addresses,omitempty"`
	// Note says what happened, for people.
	Note string `json:"note"`
}

// Resolution is the chain from a host name to a verdict.
type Resolution struct {
	Host             string        `json:"host"`
	VirtualNetworkID string        `json:"virtualNetworkId"`
	Chain            []ResolveStep `json:"chain"`
	// Address is the private address the chain ended at ("" for public
	// and nxdomain).
	Address string `json:"address,omitempty"`
	// Endpoint is the private endpoint a private verdict goes through.
	Endpoint   *Endpoint `json:"-"`
	EndpointID string    `json:"privateEndpointId,omitempty"`
	Verdict    Verdict   `json:"verdict"`
	// Message says the verdict in a sentence (what a refused client is
	// told).
	Message string `json:"message"`
}

// maxCNAMEs bounds the chain (public DNS's CNAMEs never loop, but a
// bound keeps the function total).
const maxCNAMEs = 4

// Resolve resolves host as Azure DNS does for a client in the virtual
// network vnet, over view. It reads nothing else.
//
// Choice: when a name resolves to several addresses, the client connects
// to the first. A private endpoint's address is reachable only from its
// own virtual network (armlet models no peering). An address that is an
// approved endpoint's but the endpoint does not serve the name (its
// customDnsConfigs do not list it) is unreachable: the service behind
// that endpoint does not answer for another name.
func Resolve(host string, vnet resourceid.ID, view DNSView) Resolution {
	h := azurehost.Parse(host)
	res := Resolution{Host: h.Name, VirtualNetworkID: vnet.String()}
	name := h.Name
	for range maxCNAMEs {
		zone, link := linkedZone(name, vnet, view.Zones)
		if zone != nil {
			step := ResolveStep{Name: name, Zone: zone.ID.String(), Link: link.ID.String()}
			rec, ips := lookup(zone, name)
			if len(ips) > 0 {
				step.Record, step.Addresses = rec, ips
				step.Note = fmt.Sprintf("private DNS zone %s (linked by %s) has the A record %s: %s", zone.ID.Name(), link.ID.Name(), rec, strings.Join(ips, ", "))
				res.Chain = append(res.Chain, step)
				return res.connect(h, vnet, ips[0], view.Endpoints)
			}
			if !link.Fallback {
				step.Note = fmt.Sprintf("private DNS zone %s is linked to the virtual network and has no record for %s (resolutionPolicy Default): NXDOMAIN", zone.ID.Name(), name)
				res.Chain = append(res.Chain, step)
				res.Verdict = VerdictNXDomain
				res.Message = fmt.Sprintf("%s does not resolve in virtual network %s: the private DNS zone %s linked to it has no record for %s "+
					"(add one, or a DNS zone group on the private endpoint, or set the link's resolutionPolicy to NxDomainRedirect).",
					h.Name, vnet, zone.ID, name)
				return res
			}
			step.Note = fmt.Sprintf("private DNS zone %s has no record for %s; its link's resolutionPolicy NxDomainRedirect falls back to public DNS", zone.ID.Name(), name)
			res.Chain = append(res.Chain, step)
		}
		cname, ok := azurehost.Parse(name).PrivateLinkCNAME()
		if !ok {
			res.Chain = append(res.Chain, ResolveStep{Name: name, Note: "public DNS: the service's public address"})
			res.Verdict = VerdictPublic
			res.Message = fmt.Sprintf("%s resolves publicly in virtual network %s: the request arrives on the service's public endpoint.", h.Name, vnet)
			return res
		}
		res.Chain = append(res.Chain, ResolveStep{Name: name, CNAME: cname, Note: "public DNS: CNAME " + cname})
		name = cname
	}
	res.Verdict = VerdictNXDomain
	res.Message = fmt.Sprintf("%s does not resolve: too many CNAMEs.", h.Name)
	return res
}

// connect decides where a connection to ip goes for the host h.
func (res Resolution) connect(h azurehost.Host, vnet resourceid.ID, ip string, eps []Endpoint) Resolution {
	res.Address = ip
	var other *Endpoint
	for i := range eps {
		ep := &eps[i]
		if !ep.VirtualNetwork.Equal(vnet) || !slices.ContainsFunc(ep.addresses(), func(a Address) bool { return a.IP == ip }) {
			continue
		}
		if ep.serves(h.Public()) {
			own := *ep // the resolution's own copy: the view may be shared
			res.Endpoint, res.EndpointID, res.Verdict = &own, ep.ID.String(), VerdictPrivate
			res.Message = fmt.Sprintf("%s resolves to %s in virtual network %s: private endpoint %s (group id %s) to %s.",
				h.Name, ip, vnet, ep.ID, ep.GroupID, ep.TargetID)
			return res
		}
		other = ep
	}
	res.Verdict = VerdictUnreachable
	if other != nil {
		res.EndpointID = other.ID.String()
		res.Message = fmt.Sprintf("%s resolves to %s in virtual network %s, the address of private endpoint %s, which serves %s, not %s: "+
			"the service behind it does not answer for this name.", h.Name, ip, vnet, other.ID, other.TargetID, h.Public())
		return res
	}
	res.Message = fmt.Sprintf("%s resolves to %s in virtual network %s, which is no approved private endpoint's address in that virtual network: nothing answers there.",
		h.Name, ip, vnet)
	return res
}

// addresses are the endpoint's addresses; an endpoint made by hand (tests)
// may list only PrivateIP.
func (ep *Endpoint) addresses() []Address {
	if len(ep.Addresses) > 0 {
		return ep.Addresses
	}
	return []Address{{IP: ep.PrivateIP}}
}

// serves reports whether one of the endpoint's names is name (a wildcard
// name "*.x" serves every name one label below x).
func (ep *Endpoint) serves(name string) bool {
	for _, a := range ep.Addresses {
		f := strings.ToLower(a.FQDN)
		if f == name {
			return true
		}
		if rest, ok := strings.CutPrefix(f, "*."); ok {
			if label, ok := strings.CutSuffix(name, "."+rest); ok && label != "" && !strings.Contains(label, ".") {
				return true
			}
		}
	}
	return false
}

// linkedZone is the zone linked to vnet that answers for name: the one
// with the longest name that name is under. Zones are taken in ID order,
// so the answer does not depend on the view's order.
func linkedZone(name string, vnet resourceid.ID, zones []DNSZone) (*DNSZone, *DNSLink) {
	var best *DNSZone
	var bestLink *DNSLink
	for i := range zones {
		z := &zones[i]
		zn := strings.ToLower(z.ID.Name())
		if name != zn && !strings.HasSuffix(name, "."+zn) {
			continue
		}
		for j := range z.Links {
			l := &z.Links[j]
			if !l.VirtualNetwork.Equal(vnet) {
				continue
			}
			bn := ""
			if best != nil {
				bn = strings.ToLower(best.ID.Name())
			}
			if best == nil || len(zn) > len(bn) || len(zn) == len(bn) && z.ID.Key() < best.ID.Key() {
				best, bestLink = z, l
			}
			break
		}
	}
	return best, bestLink
}

// lookup finds the record set of zone that answers name: the exact name,
// else the wildcard one label up ("*.rest" answers "x.rest").
func lookup(zone *DNSZone, name string) (string, []string) {
	zn := strings.ToLower(zone.ID.Name())
	rel := "@"
	if name != zn {
		rel = strings.TrimSuffix(name, "."+zn)
	}
	if ips := zone.Records[rel]; len(ips) > 0 {
		return rel, ips
	}
	if _, rest, ok := strings.Cut(rel, "."); ok {
		if ips := zone.Records["*."+rest]; len(ips) > 0 {
			return "*." + rest, ips
		}
	} else if rel != "@" {
		if ips := zone.Records["*"]; len(ips) > 0 {
			return "*", ips
		}
	}
	return "", nil
}

// WriteResolution writes a resolution's chain for people.
func WriteResolution(w io.Writer, r Resolution) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s in virtual network %s\n", r.Host, r.VirtualNetworkID)
	for _, s := range r.Chain {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Note)
	}
	fmt.Fprintf(tw, "verdict: %s\n%s\n", r.Verdict, r.Message)
	return tw.Flush()
}
