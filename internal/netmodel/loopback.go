package netmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// loopbackAddr is a resource's loopback address, kept in the store.
type loopbackAddr struct {
	IP   string `json:"ip"`
	Port int    `json:"port,omitempty"`
}

// loopbackBook keeps loopback addresses of resources (private endpoints,
// virtual networks) in kv.SpaceNetModel: each resource's under prefix +
// its ID's key, the next one to hand out under counter, the n-th address
// being nth(n).
//
// Choice: addresses come from the counter and stay with the resource id
// for good (even while the resource does not listen), so a resource keeps
// its address across restarts and no two resources ever share one. The
// port is remembered too: the preferred port at first, any free port if
// that is taken.
type loopbackBook struct {
	store           kv.View
	prefix, counter []byte
	nth             func(n uint64) (string, error)
}

func (b loopbackBook) key(id resourceid.ID) []byte {
	return append(append([]byte{}, b.prefix...), id.Key()...)
}

// address returns id's loopback address, allocating the next one on
// first use.
func (b loopbackBook) address(ctx context.Context, id resourceid.ID) (loopbackAddr, error) {
	key := b.key(id)
	for {
		ent, err := b.store.Get(ctx, key)
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
		if c, err := b.store.Get(ctx, b.counter); err == nil {
			n, _ = strconv.ParseUint(string(c.Value), 10, 64)
			cond = kv.AtRevision(c.Revision)
		} else if !errors.Is(err, kv.ErrNotFound) {
			return loopbackAddr{}, err
		}
		ip, err := b.nth(n)
		if err != nil {
			return loopbackAddr{}, err
		}
		a := loopbackAddr{IP: ip}
		_, err = b.store.Txn(ctx,
			kv.Put(b.counter, []byte(strconv.FormatUint(n+1, 10))).If(cond),
			kv.Put(key, mustMarshal(a)).If(kv.Absent))
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, kv.ErrConflict) {
			return loopbackAddr{}, err
		}
	}
}

// listen listens on id's loopback address: on its remembered port, else
// on preferred, else on any free port, which is then remembered.
func (b loopbackBook) listen(ctx context.Context, id resourceid.ID, preferred int) (net.Listener, error) {
	a, err := b.address(ctx, id)
	if err != nil {
		return nil, err
	}
	var ports []int
	if a.Port != 0 {
		ports = append(ports, a.Port)
	}
	if preferred != 0 && preferred != a.Port {
		ports = append(ports, preferred)
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
	if port := ln.Addr().(*net.TCPAddr).Port; port != a.Port {
		a.Port = port
		if _, err := b.store.Txn(ctx, kv.Put(b.key(id), mustMarshal(a))); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}
