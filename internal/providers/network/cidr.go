package network

import (
	"net/netip"

	"github.com/armlet/armlet/internal/arm"
)

// Address prefixes. Azure writes its errors for them with the resource's
// ID; the codes and wordings below are Azure's (InvalidAddressPrefixFormat,
// InvalidCIDRNotation, NetcfgInvalidSubnet, NetcfgSubnetRangesOverlap).

// parsePrefix parses a CIDR that must be in canonical form (the network
// address of its length), as Azure requires.
func parsePrefix(s, owner, path string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, arm.BadRequest("InvalidAddressPrefixFormat",
			"Address prefix %s of resource %s is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.", s, owner).WithTarget(path)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, arm.BadRequest("InvalidCIDRNotation",
			"The address prefix %s in resource %s has an invalid CIDR notation. For the given prefix length, the address prefix should be %s.", s, owner, m).WithTarget(path)
	}
	return p, nil
}

// overlaps reports whether two prefixes share an address.
func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// within reports whether inner lies entirely inside outer.
func within(inner, outer netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// reservedLow is how many addresses Azure keeps at the start of every
// subnet (network address, default gateway, two for DNS); the last
// address (broadcast) is reserved too.
const reservedLow = 4

// minSubnetBits is the longest IPv4 prefix a subnet may have: /29 (eight
// addresses, three usable).
const minSubnetBits = 29

// usable calls f for each address of p that Azure hands out, in order,
// until f returns false. Only IPv4 prefixes are allocated from.
func usable(p netip.Prefix, f func(netip.Addr) bool) {
	if !p.Addr().Is4() {
		return
	}
	size := uint64(1) << (32 - p.Bits())
	if size <= reservedLow+1 {
		return
	}
	a := p.Addr()
	for range reservedLow {
		a = a.Next()
	}
	for i := uint64(reservedLow); i < size-1; i++ {
		if !f(a) {
			return
		}
		a = a.Next()
	}
}
