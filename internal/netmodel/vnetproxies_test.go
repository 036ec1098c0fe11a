package netmodel

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// fakeProxy answers every request with its virtual network's name and
// counts its closes.
type fakeProxy struct {
	vnet   string
	closes *int
	mu     *sync.Mutex
}

func (f fakeProxy) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, f.vnet)
}
func (f fakeProxy) Close() error { f.mu.Lock(); *f.closes++; f.mu.Unlock(); return nil }

// TestVNetProxiesReconcile: every virtual network the source lists gets a
// proxy on a loopback address of its own in 127.66.0.0/16, kept across a
// restart over the same store; a virtual network no longer listed loses
// its proxy (and its tunnels: Close), and comes back to the same address.
func TestVNetProxiesReconcile(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	var mu sync.Mutex
	var vnets []resourceid.ID
	closes := 0
	source := func(context.Context) ([]resourceid.ID, error) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(vnets), nil
	}
	set := func(ids ...resourceid.ID) { mu.Lock(); vnets = ids; mu.Unlock() }
	newV := func() *VNetProxies {
		return NewVNetProxies(VNetProxyOptions{Source: source, Store: kv.SpaceNetModel.Of(store),
			Proxy: func(vnet resourceid.ID, _ string) ProxyHandler { return fakeProxy{vnet.Name(), &closes, &mu} }})
	}
	vnet := func(name string) resourceid.ID {
		return mustID(t, "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/"+name)
	}
	get := func(p VNetProxy) (string, error) {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + p.Address + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	v := newV()
	set(vnet("vnet1"), vnet("vnet2"))
	if err := v.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	first := v.List()
	if len(first) != 2 || !strings.HasPrefix(first[0].Address, "127.66.0.1:") || !strings.HasPrefix(first[1].Address, "127.66.0.2:") ||
		first[0].HTTPSProxy != "http://"+first[0].Address || !strings.HasSuffix(first[0].VirtualNetworkID, "/vnet1") {
		t.Fatalf("proxies = %+v", first)
	}
	for _, p := range first {
		if body, err := get(p); err != nil || !strings.HasSuffix(p.VirtualNetworkID, "/"+body) {
			t.Errorf("%s answered %q %v", p.Address, body, err)
		}
	}

	set(vnet("vnet2"))
	if err := v.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if l := v.List(); len(l) != 1 || l[0] != first[1] || closes != 1 {
		t.Fatalf("after vnet1 went: %+v, %d closes", l, closes)
	}
	if _, err := get(first[0]); err == nil {
		t.Error("vnet1's proxy still answers")
	}
	v.Close()

	// A restart over the same store: the same addresses, ports included.
	v = newV()
	defer v.Close()
	set(vnet("vnet1"), vnet("vnet2"), vnet("vnet3"))
	if err := v.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	again := v.List()
	if len(again) != 3 || again[0] != first[0] || again[1] != first[1] || !strings.HasPrefix(again[2].Address, "127.66.0.3:") {
		t.Errorf("after a restart: %+v, want %+v and a third", again, first)
	}
}

func TestVNetLoopbackAddress(t *testing.T) {
	for n, want := range map[uint64]string{0: "127.66.0.1", 253: "127.66.0.254", 254: "127.66.1.1", 256 * 254: "127.67.0.1"} {
		if got, err := VNetLoopbackAddress(n); err != nil || got != want {
			t.Errorf("VNetLoopbackAddress(%d) = %q %v, want %q", n, got, err, want)
		}
	}
	if _, err := VNetLoopbackAddress(11 * 256 * 254); err == nil {
		t.Error("an address past 127.76.255.254")
	}
	if got, _ := LoopbackAddress(0); got != "127.77.0.1" {
		t.Errorf("LoopbackAddress(0) = %q", got)
	}
}
