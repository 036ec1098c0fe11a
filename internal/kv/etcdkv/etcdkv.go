// Package etcdkv is a kv.Store on an etcd v3 cluster, for armlet replicas
// that share state.
//
// Every key of the store lives under a prefix (Options.Prefix, "armlet/" by
// default) so that several armlets, or other users, can share one cluster.
// Revisions are etcd's: an entry's Revision is its ModRevision and a Txn
// returns the revision of its etcd transaction. etcd's revision counter is
// cluster-wide, so revisions grow strictly but not by one per Txn of this
// store, and a new store's first revision may be above 1.
//
// A Txn is one etcd transaction: its conditions are Compares on
// CreateRevision (Absent, Present) and ModRevision (AtRevision), its writes
// the Then branch. The Else branch reads the conditional keys, so that a
// failed Txn names the first failing key with its current revision from the
// same snapshot the Compares saw.
//
// etcd refuses transactions with more operations than its --max-txn-ops
// (128 by default); such a Txn fails with kv.ErrInvalid. A Txn of this store
// uses at most len(ops)+1 operations per branch.
package etcdkv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/armlet/armlet/internal/kv"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "armlet/"

// DefaultDialTimeout bounds the first connection to the cluster.
const DefaultDialTimeout = 5 * time.Second

// scanPage is how many entries one range request of Scan reads at most, so
// that an unlimited Scan of a large prefix never asks etcd for everything
// at once.
const scanPage = 1000

// Options configure the connection to etcd.
type Options struct {
	// Endpoints are the cluster's client URLs or host:port pairs; at least one.
	Endpoints []string
	// Prefix is put before every key; DefaultPrefix when empty. It must end
	// with "/". Stores that share a cluster need prefixes of which none is a
	// prefix of another ("armlet/" and "armlet/x/" would see each other's
	// keys). The leader election of the processes sharing the store lives
	// beside it: "armlet/" elects under "armlet.leader/".
	Prefix string
	// CAFile is a PEM file of CAs to verify the servers with. CertFile and
	// KeyFile are a PEM client certificate and key (both or neither). Any of
	// them set, or an https:// endpoint, makes the connection TLS.
	CAFile, CertFile, KeyFile string
	// Username and Password authenticate to etcd when Username is not empty.
	Username, Password string
	// DialTimeout bounds the first connection; DefaultDialTimeout when zero.
	DialTimeout time.Duration
}

// Store is a kv.Store on etcd. It is safe for concurrent use.
type Store struct {
	cli    *clientv3.Client
	prefix []byte
	closed atomic.Bool
}

var (
	_ kv.Store      = (*Store)(nil)
	_ kv.KeyScanner = (*Store)(nil)
)

// Open connects to etcd and checks that the cluster answers within the dial
// timeout.
func Open(ctx context.Context, o Options) (*Store, error) {
	if len(o.Endpoints) == 0 {
		return nil, errors.New("etcdkv: no endpoints")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(o.Prefix, "/") {
		return nil, fmt.Errorf("etcdkv: prefix %q must end with /", o.Prefix)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("etcdkv: a client certificate needs both its certificate and key file")
	}
	cfg := clientv3.Config{
		Endpoints:   o.Endpoints,
		DialTimeout: o.DialTimeout,
		Username:    o.Username,
		Password:    o.Password,
		Context:     context.WithoutCancel(ctx),
		// The client's own zap logging is noise for armlet; errors come
		// back to the caller.
		Logger: zap.NewNop(),
	}
	useTLS := o.CAFile != "" || o.CertFile != ""
	for _, ep := range o.Endpoints {
		if bytes.HasPrefix([]byte(ep), []byte("https://")) {
			useTLS = true
		}
	}
	if useTLS {
		tc, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	// With credentials clientv3.New authenticates, waiting up to the dial
	// timeout for a connection; without, it does not wait: ask for one key
	// so that a wrong address, TLS setting or permission fails here, not on
	// the first request.
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, connectError(o, cfg.TLS, err)
	}
	cctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	if _, err := cli.Get(cctx, o.Prefix, clientv3.WithKeysOnly()); err != nil {
		cli.Close()
		return nil, connectError(o, cfg.TLS, err)
	}
	return &Store{cli: cli, prefix: []byte(o.Prefix)}, nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcdkv: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcdkv: no PEM certificate in %s", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcdkv: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Close closes the connection. Later calls fail with kv.ErrClosed; a
// second Close returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.cli.Close()
}

func (s *Store) key(k []byte) string {
	b := make([]byte, 0, len(s.prefix)+len(k))
	return string(append(append(b, s.prefix...), k...))
}

// metaKey is the prefix itself: no user key maps to it, since kv keys are
// never empty. A Txn of deletes only also puts it, so that every Txn is a
// write in etcd and takes a new revision (etcd does not advance its
// revision for a transaction that changes nothing).
func (s *Store) metaKey() string { return string(s.prefix) }

// Get implements kv.Store.
func (s *Store) Get(ctx context.Context, key []byte) (kv.Entry, error) {
	if s.closed.Load() {
		return kv.Entry{}, kv.ErrClosed
	}
	if len(key) == 0 {
		return kv.Entry{}, fmt.Errorf("etcdkv: get %q: %w", key, kv.ErrNotFound)
	}
	resp, err := s.cli.Get(ctx, s.key(key))
	if err != nil {
		return kv.Entry{}, s.mapErr(ctx, "get", err)
	}
	if len(resp.Kvs) == 0 {
		return kv.Entry{}, fmt.Errorf("etcdkv: get %q: %w", key, kv.ErrNotFound)
	}
	return kv.Entry{Key: bytes.Clone(key), Value: resp.Kvs[0].Value, Revision: resp.Kvs[0].ModRevision}, nil
}

// Scan implements kv.Store with range requests of at most scanPage keys,
// each resuming after the last key of the one before, all read at the
// revision of the first so that the result is one snapshot.
func (s *Store) Scan(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	return s.scan(ctx, prefix, after, limit, false)
}

// ScanKeys implements kv.KeyScanner: a range read with etcd's keys-only
// option, which leaves the values in etcd.
func (s *Store) ScanKeys(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	return s.scan(ctx, prefix, after, limit, true)
}

func (s *Store) scan(ctx context.Context, prefix, after []byte, limit int, keysOnly bool) ([]kv.Entry, error) {
	if s.closed.Load() {
		return nil, kv.ErrClosed
	}
	full := append(bytes.Clone(s.prefix), prefix...)
	start := full
	if len(after) > 0 {
		resume := append(append(bytes.Clone(s.prefix), after...), 0)
		if bytes.Compare(resume, start) > 0 {
			start = resume
		}
	}
	if bytes.Equal(start, s.prefix) {
		start = append(start, 0) // skip metaKey
	}
	end := kv.PrefixEnd(full) // never nil: s.prefix is not all 0xff
	if end != nil && bytes.Compare(start, end) >= 0 {
		return nil, nil
	}
	var out []kv.Entry
	var rev int64
	for {
		n := scanPage
		if limit > 0 && limit-len(out) < n {
			n = limit - len(out)
		}
		opts := []clientv3.OpOption{clientv3.WithRange(string(end)), clientv3.WithLimit(int64(n))}
		if end == nil {
			opts[0] = clientv3.WithFromKey()
		}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		if keysOnly {
			opts = append(opts, clientv3.WithKeysOnly())
		}
		resp, err := s.cli.Get(ctx, string(start), opts...)
		if err != nil {
			return nil, s.mapErr(ctx, "scan", err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, e := range resp.Kvs {
			out = append(out, kv.Entry{Key: e.Key[len(s.prefix):], Value: e.Value, Revision: e.ModRevision})
		}
		if !resp.More || len(resp.Kvs) == 0 || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		start = append(bytes.Clone(resp.Kvs[len(resp.Kvs)-1].Key), 0)
	}
}

// Txn implements kv.Store as one etcd transaction.
func (s *Store) Txn(ctx context.Context, ops ...kv.Op) (int64, error) {
	if s.closed.Load() {
		return 0, kv.ErrClosed
	}
	if err := kv.ValidateOps(ops); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var cmps []clientv3.Cmp
	var then, els []clientv3.Op
	var condOps []kv.Op // the ops read by els, in order
	onlyDeletes := true
	for _, op := range ops {
		k := s.key(op.Key)
		if op.Delete {
			then = append(then, clientv3.OpDelete(k))
		} else {
			onlyDeletes = false
			then = append(then, clientv3.OpPut(k, string(op.Value)))
		}
		switch c := op.Cond; {
		case c == kv.Any:
			continue
		case c == kv.Absent:
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
		case c == kv.Present:
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), ">", 0))
		default:
			// AtRevision; a revision below 1 matches no key, as in kv.Cond.Check.
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", int64(c)))
		}
		els = append(els, clientv3.OpGet(k, clientv3.WithKeysOnly()))
		condOps = append(condOps, op)
	}
	if onlyDeletes {
		then = append(then, clientv3.OpPut(s.metaKey(), ""))
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
	if err != nil {
		return 0, s.mapErr(ctx, "txn", err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, nil
	}
	// The Else reads saw the snapshot the Compares failed on: find the first
	// op whose condition does not hold there.
	for i, op := range condOps {
		var cur int64
		if r := resp.Responses[i].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
			cur = r.Kvs[0].ModRevision
		}
		if !op.Cond.Check(cur) {
			return 0, &kv.ConflictError{Key: bytes.Clone(op.Key), Revision: cur}
		}
	}
	return 0, fmt.Errorf("etcdkv: transaction failed at revision %d but every condition holds in its snapshot", resp.Header.Revision)
}

// mapErr turns a client error into the kv errors callers test for.
func (s *Store) mapErr(ctx context.Context, what string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("etcdkv: %s: %w", what, kv.ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("etcdkv: %s: %w", what, ctx.Err())
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("etcdkv: %s: %w", what, err)
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		return fmt.Errorf("etcdkv: %s: %w (the etcd user needs readwrite on the prefixes %q and %q)",
			what, err, s.prefix, ElectionPrefix(string(s.prefix)))
	case errors.Is(err, rpctypes.ErrNoSpace):
		return fmt.Errorf("etcdkv: %s: %w: %w", what, kv.ErrReadOnly, err)
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge),
		errors.Is(err, rpctypes.ErrDuplicateKey), errors.Is(err, rpctypes.ErrEmptyKey):
		return fmt.Errorf("etcdkv: %s: %w: %w", what, kv.ErrInvalid, err)
	}
	return fmt.Errorf("etcdkv: %s: %w", what, err)
}

// Prefix returns the prefix every key of the store is stored under.
func (s *Store) Prefix() string { return string(s.prefix) }
