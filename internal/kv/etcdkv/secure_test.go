package etcdkv_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/etcdkv"
	"github.com/armlet/armlet/internal/kv/etcdkv/etcdtest"
	"github.com/armlet/armlet/internal/kv/kvtest"
)

// TestSecure checks that a store works through every kind of connection to
// a server that serves TLS only: Open, Txn, Get, Scan, Watch and an
// election all get through with the server verified against the test CA,
// with a client certificate it requires, as an etcd user limited to the
// store's prefix and election, and with an endpoint given as host:port
// (as armlet's --store etcd:// passes it) that the CA alone turns to TLS.
func TestSecure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     etcdtest.SecureOptions
		hostPort bool
	}{
		{name: "server verified", opts: etcdtest.SecureOptions{}},
		{name: "client certificate", opts: etcdtest.SecureOptions{ClientCerts: true}},
		{name: "auth", opts: etcdtest.SecureOptions{Auth: true}},
		{name: "client certificate and auth, host:port", opts: etcdtest.SecureOptions{ClientCerts: true, Auth: true}, hostPort: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := etcdtest.StartSecure(t, tc.opts)
			o := c.Options()
			if tc.hostPort {
				o.Endpoints = []string{strings.TrimPrefix(c.Endpoint, "https://")}
			}
			exercise(t, o)
		})
	}
}

// exercise opens a store with o and checks that every kind of request it
// makes goes through.
func exercise(t *testing.T, o etcdkv.Options) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := etcdkv.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rev, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("v")))
	if err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get(ctx, []byte("k")); err != nil || string(e.Value) != "v" || e.Revision != rev {
		t.Fatalf("Get = %q at %d, %v; want v at %d", e.Value, e.Revision, err, rev)
	}
	if es, err := s.Scan(ctx, nil, nil, 0); err != nil || len(es) != 1 {
		t.Fatalf("Scan = %v, %v; want k", es, err)
	}

	events := make(chan kv.Entry, 4)
	go s.Watch(ctx, []byte("w/"), func(e kv.Entry) { events <- e })
	if _, err := s.Txn(ctx, kv.Put([]byte("w/1"), []byte("x"))); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		if string(e.Key) != "w/1" {
			t.Fatalf("watch event for %q, want w/1", e.Key)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}

	el := s.Election("only", time.Second, nil)
	led := make(chan string, 1)
	go el.Lead(ctx, func(lctx context.Context) {
		leader, err := el.Leader(lctx)
		if err != nil {
			leader = err.Error()
		}
		led <- leader
		<-lctx.Done()
	})
	select {
	case leader := <-led:
		if leader != "only" {
			t.Fatalf("while leading, Leader() = %q; want only", leader)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the only candidate never led")
	}
}

// TestSecureRefused checks that Open fails, within its dial timeout, with
// an error that names the cause, when the connection or the credentials
// are wrong.
func TestSecureRefused(t *testing.T) {
	c := etcdtest.StartSecure(t, etcdtest.SecureOptions{ClientCerts: true, Auth: true})
	for _, tc := range []struct {
		name   string
		change func(*etcdkv.Options)
		want   []string
		is     error
	}{
		{name: "wrong CA", change: func(o *etcdkv.Options) { o.CAFile = c.OtherCAFile },
			want: []string{c.Endpoint, "certificate signed by unknown authority"}, is: context.DeadlineExceeded},
		{name: "no client certificate", change: func(o *etcdkv.Options) { o.CertFile, o.KeyFile = "", "" },
			want: []string{c.Endpoint, "certificate required"}, is: context.DeadlineExceeded},
		{name: "wrong password", change: func(o *etcdkv.Options) { o.Password += "x" },
			want: []string{c.Endpoint, "authentication failed"}, is: rpctypes.ErrAuthFailed},
		{name: "unknown user", change: func(o *etcdkv.Options) { o.Username = "nobody" },
			want: []string{c.Endpoint, "authentication failed"}, is: rpctypes.ErrAuthFailed},
		{name: "no credentials", change: func(o *etcdkv.Options) { o.Username, o.Password = "", "" },
			want: []string{c.Endpoint, "give a user name and password"}, is: rpctypes.ErrPermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := c.Options()
			o.DialTimeout = time.Second
			tc.change(&o)
			s, err := etcdkv.Open(context.Background(), o)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
}

// TestSecureNoElectionPermission checks what a user with readwrite on the
// store's prefix but not on its election gets: the store works, and the
// election's requests fail with an error naming both prefixes the user
// needs. (Election.Lead logs that error and stands again until its context
// ends, never leading.)
func TestSecureNoElectionPermission(t *testing.T) {
	c := etcdtest.StartSecure(t, etcdtest.SecureOptions{Auth: true})
	o := c.Options()
	o.Username = "store-only"
	o.Password = c.AddUser(t, o.Username, o.Prefix)
	ctx := context.Background()
	s, err := etcdkv.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("v"))); err != nil {
		t.Fatal(err)
	}
	_, err = s.Election("x", time.Second, nil).Leader(ctx)
	if !errors.Is(err, rpctypes.ErrPermissionDenied) || !strings.Contains(err.Error(), etcdkv.ElectionPrefix(o.Prefix)) {
		t.Fatalf("Leader() error = %v; want permission denied naming %s", err, etcdkv.ElectionPrefix(o.Prefix))
	}
}

// TestSecureConformance runs the kv conformance suite over TLS with a
// client certificate, as an etcd user limited to the test's prefix.
func TestSecureConformance(t *testing.T) {
	c := etcdtest.StartSecure(t, etcdtest.SecureOptions{ClientCerts: true, Auth: true})
	open := opener(c.Options())
	kvtest.RunOptions(t, func(t *testing.T) kv.Store { return open(t) }, kvtest.Options{SharedRevisions: true})
}
