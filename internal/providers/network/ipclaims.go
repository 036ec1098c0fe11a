package network

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// Private IP claims. A private endpoint's addresses are claimed in the
// store, one key per subnet and address, with a conditional write, before
// the private endpoint is stored; so two private endpoints created at the
// same time in one subnet never get the same address. A claim is released
// when its private endpoint's delete completes (the delete hook). A claim
// whose private endpoint was never stored (its write failed after
// validation) lapses after claimGrace on the engine clock.
//
//	ip\0{subnet id, lower case}\0{address}   -> claim (JSON)
//
// in the provider's space, kv.SpaceNetwork ("n\0").

// claimGrace is how long a claim without a stored private endpoint
// holding the address is honoured: longer than any PUT takes between its
// validation and its write.
const claimGrace = time.Minute

type claim struct {
	Owner string    `json:"owner"`
	At    time.Time `json:"at"`
}

func claimsPrefix(subnet resourceid.ID) []byte {
	return []byte(allClaimsPrefix + subnet.Key() + "\x00")
}

const allClaimsPrefix = "ip\x00"

// claimIPs claims n addresses of subnet (whose prefixes are given) for
// the private endpoint owner, the lowest free ones after Azure's reserved
// addresses. Claims owner already holds (a retried request) are reused
// first.
func (p *provider) claimIPs(ctx context.Context, subnet resourceid.ID, prefixes []netip.Prefix, owner resourceid.ID, n int, now time.Time) ([]string, error) {
	var picked []string
	err := kv.Retry(ctx, func() error {
		ents, err := scanPrefix(ctx, p.kv, claimsPrefix(subnet))
		if err != nil {
			return err
		}
		held := map[string]kv.Entry{}
		var ours []string
		taken := map[string]bool{}
		for _, ent := range ents {
			ip := string(ent.Key[len(claimsPrefix(subnet)):])
			var c claim
			if json.Unmarshal(ent.Value, &c) != nil {
				continue
			}
			held[ip] = ent
			if strings.EqualFold(c.Owner, owner.String()) {
				ours = append(ours, ip)
				continue
			}
			valid, err := p.claimValid(ctx, c, subnet, ip, now)
			if err != nil {
				return err
			}
			taken[ip] = valid
		}
		picked = nil
		for _, ip := range ours {
			if len(picked) < n {
				picked = append(picked, ip)
			}
		}
		for _, pf := range prefixes {
			usable(pf, func(a netip.Addr) bool {
				if len(picked) >= n {
					return false
				}
				ip := a.String()
				if !taken[ip] && !containsString(picked, ip) {
					picked = append(picked, ip)
				}
				return true
			})
		}
		if len(picked) < n {
			return arm.BadRequest("SubnetIsFull",
				"Subnet %s does not have enough capacity for %d IP addresses.", subnet.Name(), n).WithTarget("properties.subnet.id")
		}
		val, _ := json.Marshal(claim{Owner: owner.String(), At: now})
		ops := make([]kv.Op, 0, n)
		for _, ip := range picked {
			key := append(claimsPrefix(subnet), ip...)
			if ent, ok := held[ip]; ok {
				ops = append(ops, kv.Put(key, val).If(kv.AtRevision(ent.Revision)))
			} else {
				ops = append(ops, kv.Put(key, val).If(kv.Absent))
			}
		}
		_, err = p.kv.Txn(ctx, ops...)
		return err
	})
	if errors.Is(err, kv.ErrConflict) {
		return nil, arm.Conflict(arm.CodeConflict, "The subnet '%s' is being changed by too many concurrent requests; retry.", subnet).Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	return picked, nil
}

// claimValid reports whether another private endpoint's claim on ip still
// holds: its private endpoint exists (not gone) and holds the address, or
// the claim is recent enough that its private endpoint may be on its way
// to the store.
func (p *provider) claimValid(ctx context.Context, c claim, subnet resourceid.ID, ip string, now time.Time) (bool, error) {
	if now.Sub(c.At) < claimGrace {
		return true, nil
	}
	id, err := resourceid.Parse(c.Owner)
	if err != nil {
		return false, nil
	}
	r, err := p.e.Get(ctx, id)
	if err != nil {
		if _, ok := arm.AsError(err); ok {
			return false, nil
		}
		return false, err
	}
	st := loadPEState(r)
	if !strings.EqualFold(st.Subnet, subnet.String()) {
		return false, nil
	}
	for _, a := range st.IPs {
		if a.IP == ip {
			return true, nil
		}
	}
	return false, nil
}

// releaseClaims deletes every claim of a private endpoint at or beneath
// scope.
func (p *provider) releaseClaims(ctx context.Context, scope resourceid.ID) error {
	ents, err := scanPrefix(ctx, p.kv, []byte(allClaimsPrefix))
	if err != nil {
		return err
	}
	var ops []kv.Op
	for _, ent := range ents {
		var c claim
		if json.Unmarshal(ent.Value, &c) != nil {
			continue
		}
		id, err := resourceid.Parse(c.Owner)
		if err != nil || !scope.Contains(id) {
			continue
		}
		ops = append(ops, kv.Delete(ent.Key).If(kv.AtRevision(ent.Revision)))
	}
	for len(ops) > 0 {
		batch := ops[:min(len(ops), 64)]
		ops = ops[len(batch):]
		if _, err := p.kv.Txn(ctx, batch...); err != nil && !errors.Is(err, kv.ErrConflict) {
			return err
		}
	}
	return nil
}

// releaseIPs deletes owner's claims on the given addresses of subnet (a
// request that failed after claiming).
func (p *provider) releaseIPs(ctx context.Context, subnet resourceid.ID, owner resourceid.ID, ips []string) {
	for _, ip := range ips {
		key := append(claimsPrefix(subnet), ip...)
		ent, err := p.kv.Get(ctx, key)
		if err != nil {
			continue
		}
		var c claim
		if json.Unmarshal(ent.Value, &c) == nil && strings.EqualFold(c.Owner, owner.String()) {
			_, _ = p.kv.Txn(ctx, kv.Delete(key).If(kv.AtRevision(ent.Revision)))
		}
	}
}

// scanPrefix reads every entry under prefix.
func scanPrefix(ctx context.Context, v kv.View, prefix []byte) ([]kv.Entry, error) {
	var out []kv.Entry
	var after []byte
	for {
		ents, err := v.Scan(ctx, prefix, after, 256)
		if err != nil {
			return nil, err
		}
		out = append(out, ents...)
		if len(ents) < 256 {
			return out, nil
		}
		after = ents[len(ents)-1].Key
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// claimExact claims exactly the addresses ips of subnet for owner (an
// import giving a private endpoint back the addresses it had). It reports
// false, claiming nothing, when one of them is not an address or another
// private endpoint's claim on it holds.
func (p *provider) claimExact(ctx context.Context, subnet, owner resourceid.ID, ips []string, now time.Time) (bool, error) {
	var free bool
	err := kv.Retry(ctx, func() error {
		free = false
		val, _ := json.Marshal(claim{Owner: owner.String(), At: now})
		ops := make([]kv.Op, 0, len(ips))
		for _, ip := range ips {
			if _, err := netip.ParseAddr(ip); err != nil {
				return nil
			}
			key := append(claimsPrefix(subnet), ip...)
			ent, err := p.kv.Get(ctx, key)
			if errors.Is(err, kv.ErrNotFound) {
				ops = append(ops, kv.Put(key, val).If(kv.Absent))
				continue
			}
			if err != nil {
				return err
			}
			var c claim
			if json.Unmarshal(ent.Value, &c) == nil && !strings.EqualFold(c.Owner, owner.String()) {
				if valid, err := p.claimValid(ctx, c, subnet, ip, now); err != nil || valid {
					return err
				}
			}
			ops = append(ops, kv.Put(key, val).If(kv.AtRevision(ent.Revision)))
		}
		if _, err := p.kv.Txn(ctx, ops...); err != nil {
			return err
		}
		free = true
		return nil
	})
	if errors.Is(err, kv.ErrConflict) {
		return false, arm.Conflict(arm.CodeConflict, "The subnet '%s' is being changed by too many concurrent requests; retry.", subnet).Wrap(err)
	}
	return free, err
}
