package identity

import (
	"context"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/etcdkv"
	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
)

// TestPeersShareKeysAndPrincipals runs two token services on one etcd store,
// as two armlet replicas do: they agree on one signing key, a token issued
// by one authenticates on the other, and a principal deleted through one is
// refused by the other at once, though its cache would trust it for an hour.
func TestPeersShareKeysAndPrincipals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cluster := etcdtest.Start(t)
	open := func() *Service {
		st, err := etcdkv.Open(ctx, cluster.Options())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		s, err := New(ctx, Options{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: testTenant})
		if err != nil {
			t.Fatal(err)
		}
		s.principals.setRecheck(time.Hour)
		go s.FollowPeers(ctx)
		return s
	}
	a, b := open(), open()
	if a.key.kid != b.key.kid {
		t.Fatal("the two services made different signing keys")
	}
	creds, err := a.CreatePrincipal(ctx, "peer")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.IssueToken(ctx, creds.ClientID, "https://management.azure.com/")
	if err != nil {
		t.Fatal(err)
	}
	if _, aerr := b.Authenticate(ctx, "Bearer "+tok.AccessToken); aerr != nil {
		t.Fatalf("a token issued by one service fails on the other: %v", aerr)
	}
	if err := a.DeletePrincipal(ctx, creds.ClientID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, aerr := b.Authenticate(ctx, "Bearer "+tok.AccessToken); aerr != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other service still accepts the deleted principal's token")
		}
	}
}
