package expr

import (
	"math/big"
	"net/netip"
)

// Azure's CIDR functions:
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-cidr
func cidrFunctions(m map[string]Function) {
	m["parsecidr"] = fn(1, 1, func(c *Call) (any, error) {
		p, err := prefixArg(c, 0)
		if err != nil {
			return nil, err
		}
		bitsLen := p.Addr().BitLen()
		network := p.Masked().Addr()
		last := offsetAddr(network, new(big.Int).Sub(hostCount(p), big.NewInt(1)))
		out := map[string]any{
			"network": network.String(),
			"netmask": maskAddr(p.Bits(), bitsLen).String(),
			"cidr":    int64(p.Bits()),
		}
		if network.Is4() {
			out["broadcast"] = last.String()
			first, lastUsable := network.Next(), last.Prev()
			if p.Bits() >= 31 {
				// /31 and /32 have no network and broadcast addresses to skip.
				first, lastUsable = network, last
			}
			out["firstUsable"], out["lastUsable"] = first.String(), lastUsable.String()
		} else {
			out["firstUsable"], out["lastUsable"] = network.String(), last.String()
		}
		return out, nil
	})
	m["cidrsubnet"] = fn(3, 3, func(c *Call) (any, error) {
		p, err := prefixArg(c, 0)
		if err != nil {
			return nil, err
		}
		newBits, err := c.Int(1)
		if err != nil {
			return nil, err
		}
		idx, err := c.Int(2)
		if err != nil {
			return nil, err
		}
		bitsLen := p.Addr().BitLen()
		if newBits < int64(p.Bits()) || newBits > int64(bitsLen) {
			return nil, c.Errorf("the new CIDR %d must be between %d and %d.", newBits, p.Bits(), bitsLen)
		}
		count := new(big.Int).Lsh(big.NewInt(1), uint(newBits)-uint(p.Bits()))
		if idx < 0 || big.NewInt(idx).Cmp(count) >= 0 {
			return nil, c.Errorf("the subnet index %d must be between 0 and %s.", idx, new(big.Int).Sub(count, big.NewInt(1)))
		}
		step := new(big.Int).Lsh(big.NewInt(idx), uint(bitsLen)-uint(newBits))
		sub := netip.PrefixFrom(offsetAddr(p.Masked().Addr(), step), int(newBits))
		return sub.String(), nil
	})
	m["cidrhost"] = fn(2, 2, func(c *Call) (any, error) {
		p, err := prefixArg(c, 0)
		if err != nil {
			return nil, err
		}
		idx, err := c.Int(1)
		if err != nil {
			return nil, err
		}
		// Hosts start after the network address; IPv4 also keeps the
		// broadcast address out.
		usable := new(big.Int).Sub(hostCount(p), big.NewInt(1))
		if p.Addr().Is4() {
			usable.Sub(usable, big.NewInt(1))
		}
		if idx < 0 || big.NewInt(idx).Cmp(usable) >= 0 {
			return nil, c.Errorf("the host index %d is out of the range of the network's usable addresses.", idx)
		}
		return offsetAddr(p.Masked().Addr(), big.NewInt(idx+1)).String(), nil
	})
}

func prefixArg(c *Call, i int) (netip.Prefix, error) {
	s, err := c.String(i)
	if err != nil {
		return netip.Prefix{}, err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, c.Errorf("the %s argument '%s' is not a valid CIDR network.", ordinal(i), truncate(s))
	}
	return p, nil
}

// hostCount is the number of addresses in p.
func hostCount(p netip.Prefix) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
}

// offsetAddr is a + n.
func offsetAddr(a netip.Addr, n *big.Int) netip.Addr {
	b := a.AsSlice()
	v := new(big.Int).SetBytes(b)
	v.Add(v, n)
	out := make([]byte, len(b))
	v.FillBytes(out)
	r, _ := netip.AddrFromSlice(out)
	return r
}

// maskAddr is the netmask of a prefix length as an address.
func maskAddr(ones, bitsLen int) netip.Addr {
	b := make([]byte, bitsLen/8)
	for i := range b {
		switch {
		case ones >= 8:
			b[i] = 0xff
			ones -= 8
		case ones > 0:
			b[i] = byte(0xff << (8 - ones))
			ones = 0
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
