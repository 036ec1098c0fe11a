package network

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// A virtual network's read-only operations below its path (GET
// .../virtualNetworks/{v}/usages and .../CheckIPAddressAvailability,
// POST .../ddosProtectionStatus), answered from the subnets' prefixes and
// the private IP claims (ipclaims.go).

var _ engine.ChildLister = (*vnetStrategy)(nil)

// ListChildren answers usages and CheckIPAddressAvailability.
func (s *vnetStrategy) ListChildren(ctx context.Context, req *engine.Request, r *engine.Resource, child string) (*engine.Response, bool, error) {
	switch {
	case strings.EqualFold(child, "usages"):
		resp, err := s.usages(ctx, r)
		return resp, true, err
	case strings.EqualFold(child, "CheckIPAddressAvailability"):
		resp, err := s.checkIPAddressAvailability(ctx, req, r)
		return resp, true, err
	}
	return nil, false, nil
}

// usages lists, per subnet, the addresses in use (claimed by private
// endpoints) against the addresses Azure hands out in it.
//
// Choice: the subnet's limit is its usable addresses (its size less
// Azure's five reserved ones), summed over its prefixes.
func (s *vnetStrategy) usages(ctx context.Context, vnet *engine.Resource) (*engine.Response, error) {
	value := []any{}
	for _, item := range subnetsOf(vnet) {
		sn, _ := item.(map[string]any)
		name, _ := sn["name"].(string)
		id := vnet.ID.Child("subnets", name)
		limit := 0
		for _, p := range subnetPrefixes(sn) {
			usable(p, func(netip.Addr) bool { limit++; return true })
		}
		used, err := scanPrefix(ctx, s.kv, claimsPrefix(id))
		if err != nil {
			return nil, err
		}
		value = append(value, map[string]any{
			"id":           id.String(),
			"currentValue": len(used),
			"limit":        limit,
			"name":         map[string]any{"value": "SubnetSpace", "localizedValue": "Subnet size and usage"},
			"unit":         "Count",
		})
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": value}), nil
}

// maxAvailableShown is how many free addresses an unavailable one's
// answer suggests, as Azure's does.
const maxAvailableShown = 5

// checkIPAddressAvailability answers whether the ipAddress query
// parameter is free in the virtual network: inside a subnet, not one of
// Azure's reserved addresses, not claimed. When it is not, it suggests up
// to five free addresses of its subnet.
//
// Choice: an address of the address space in no subnet is unavailable
// with no suggestion; one outside the address space (or not an IPv4
// address) is 400 naming ipAddress. Azure's answers there are not
// documented.
func (s *vnetStrategy) checkIPAddressAvailability(ctx context.Context, req *engine.Request, vnet *engine.Resource) (*engine.Response, error) {
	raw := req.QueryValue("ipAddress")
	addr, err := netip.ParseAddr(raw)
	if err != nil || !addr.Is4() {
		return nil, arm.BadRequest("InvalidParameter", "The query parameter 'ipAddress' is '%s'; it must be an IPv4 address.", raw).WithTarget("ipAddress")
	}
	for _, item := range subnetsOf(vnet) {
		sn, _ := item.(map[string]any)
		prefixes := subnetPrefixes(sn)
		var in netip.Prefix
		for _, p := range prefixes {
			if p.Contains(addr) {
				in = p
			}
		}
		if !in.IsValid() {
			continue
		}
		name, _ := sn["name"].(string)
		ents, err := scanPrefix(ctx, s.kv, claimsPrefix(vnet.ID.Child("subnets", name)))
		if err != nil {
			return nil, err
		}
		taken := map[string]bool{}
		for _, ent := range ents {
			taken[string(ent.Key[len(claimsPrefix(vnet.ID.Child("subnets", name))):])] = true
		}
		reserved := true
		usable(in, func(a netip.Addr) bool {
			if a == addr {
				reserved = false
			}
			return reserved
		})
		if !reserved && !taken[addr.String()] {
			return engine.JSON(http.StatusOK, map[string]any{"available": true, "availableIPAddresses": []any{}}), nil
		}
		free := []any{}
		for _, p := range prefixes {
			usable(p, func(a netip.Addr) bool {
				if !taken[a.String()] {
					free = append(free, a.String())
				}
				return len(free) < maxAvailableShown
			})
		}
		return engine.JSON(http.StatusOK, map[string]any{"available": false, "availableIPAddresses": free, "isPlatformReserved": reserved}), nil
	}
	as, _ := vnet.Properties["addressSpace"].(map[string]any)
	spaces, _ := as["addressPrefixes"].([]any)
	for _, sp := range spaces {
		if p, err := netip.ParsePrefix(toString(sp)); err == nil && p.Contains(addr) {
			// In the address space but in no subnet: nothing can use it.
			return engine.JSON(http.StatusOK, map[string]any{"available": false, "availableIPAddresses": []any{}, "isPlatformReserved": false}), nil
		}
	}
	return nil, arm.BadRequest("InvalidParameter", "The IP address '%s' is not in the address space of virtual network '%s'.", raw, vnet.ID.Name()).WithTarget("ipAddress")
}

func toString(v any) string { s, _ := v.(string); return s }

// ddosProtectionStatus answers POST .../virtualNetworks/{v}/ddosProtectionStatus
// (VirtualNetworkDdosProtectionStatusResult): the DDoS protection status
// of each public IP address in the virtual network, as a long-running
// operation whose result is read at Location, one page of at most top
// (1 to 2,147,483,647) items.
//
// armlet has no public IP addresses (a private endpoint's network
// interface has only private ones), so the list is empty for every
// virtual network; top and skipToken are checked and change nothing.
func (s *vnetStrategy) ddosProtectionStatus(ctx context.Context, req *engine.Request, vnet *engine.Resource) (*engine.Response, error) {
	if raw := req.QueryValue("top"); raw != "" {
		n, err := json.Number(raw).Int64()
		if err != nil || n < 1 || n > 1<<31-1 {
			return nil, arm.BadRequest("InvalidParameter", "The query parameter 'top' is '%s'; it must be a positive 32-bit integer.", raw).WithTarget("top")
		}
	}
	result := map[string]any{"value": []any{}}
	return s.e.NewActionOperation(ctx, req, vnet, result, req.Now.Add(s.e.OperationDuration()))
}

var _ engine.Actioner = (*vnetStrategy)(nil)

// Action answers a virtual network's POST actions: ddosProtectionStatus.
func (s *vnetStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if strings.EqualFold(name, "ddosProtectionStatus") {
		return s.ddosProtectionStatus(ctx, req, r)
	}
	return nil, engine.UnknownAction(TypeVirtualNetworks, name)
}
