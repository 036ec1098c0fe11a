package etcdkv

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/armlet/armlet/internal/kv"
)

// retryPause is how long Watch and Lead wait before trying again after etcd
// failed them.
const retryPause = 500 * time.Millisecond

// Watch implements kv.Watcher with an etcd watch that starts at the
// revision of the snapshot it first reads. It is meant for small prefixes
// (a few keys): the snapshot is read in one request.
func (s *Store) Watch(ctx context.Context, prefix []byte, fn func(kv.Entry)) error {
	if len(prefix) == 0 {
		return fmt.Errorf("etcdkv: watch: %w: empty prefix", kv.ErrInvalid)
	}
	full := s.key(prefix)
	end := string(kv.PrefixEnd([]byte(full)))
	for {
		if s.closed.Load() {
			return kv.ErrClosed
		}
		rev, err := s.snapshot(ctx, full, end, fn)
		if err == nil {
			// WithRequireLeader ends the watch when its member loses the
			// cluster's leader, so that it is re-established on a member
			// that has one instead of going silent.
			wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), full, clientv3.WithRange(end), clientv3.WithRev(rev+1))
			for wr := range wch {
				if wr.Err() != nil {
					break // compacted, or no leader: start over from a snapshot
				}
				for _, ev := range wr.Events {
					e := kv.Entry{Key: bytes.Clone(ev.Kv.Key[len(s.prefix):]), Revision: ev.Kv.ModRevision}
					if ev.Type == clientv3.EventTypePut {
						e.Value = append([]byte{}, ev.Kv.Value...)
					}
					fn(e)
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retryPause):
		}
	}
}

// snapshot calls fn with every entry in [key, end) and returns the
// revision it read at.
func (s *Store) snapshot(ctx context.Context, key, end string, fn func(kv.Entry)) (int64, error) {
	resp, err := s.cli.Get(ctx, key, clientv3.WithRange(end))
	if err != nil {
		return 0, s.mapErr(ctx, "watch", err)
	}
	for _, e := range resp.Kvs {
		fn(kv.Entry{Key: e.Key[len(s.prefix):], Value: append([]byte{}, e.Value...), Revision: e.ModRevision})
	}
	return resp.Header.Revision, nil
}

// Election is a leader election among the processes that share the store
// (armlet replicas), on an etcd lease: the leader's candidacy lives as long
// as its lease, which it keeps alive while it runs. When the leader stops
// cleanly it revokes the lease and the next candidate leads at once; when it
// dies, the lease expires after its TTL and the next one leads then.
type Election struct {
	s       *Store
	key     string
	id      string
	ttl     int
	log     *slog.Logger
	leading atomic.Bool
}

// ElectionPrefix is the prefix of the keys where the candidates of the
// store under prefix stand: beside the prefix, not under it, since every key
// under it is the kv store's. "armlet/" elects under "armlet.leader/". An
// etcd user of the store needs readwrite on both prefixes.
func ElectionPrefix(prefix string) string {
	return electionKey(prefix) + "/"
}

// electionKey is ElectionPrefix without its final "/", as
// concurrency.NewElection takes it.
func electionKey(prefix string) string {
	return strings.TrimSuffix(prefix, "/") + ".leader"
}

// Election returns the election of this store's processes, in which this
// one stands as id. ttl (whole seconds, at least 1) bounds how long a dead
// leader keeps the lead.
func (s *Store) Election(id string, ttl time.Duration, log *slog.Logger) *Election {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secs := max(int((ttl+time.Second-1)/time.Second), 1)
	return &Election{s: s, key: electionKey(string(s.prefix)), id: id, ttl: secs, log: log}
}

// ID returns the name this process stands as.
func (el *Election) ID() string { return el.id }

// Leading reports whether this process leads now.
func (el *Election) Leading() bool { return el.leading.Load() }

// Lead stands for election until ctx ends. Each time this process wins, it
// calls work with a context that ends when the lead is lost (the lease
// expired, etcd unreachable for longer than the TTL) or ctx ends; work must
// return then. When work returns, the lead is given up and Lead stands
// again.
func (el *Election) Lead(ctx context.Context, work func(context.Context)) {
	for ctx.Err() == nil {
		if err := el.term(ctx, work); err != nil && ctx.Err() == nil {
			el.log.Warn("leader election failed; standing again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(retryPause):
			}
		}
	}
}

// term campaigns once and, if elected, leads until work returns.
func (el *Election) term(ctx context.Context, work func(context.Context)) error {
	// The session outlives ctx so that Close can still revoke the lease
	// when ctx has ended: the next leader then takes over at once instead
	// of after the TTL.
	sess, err := concurrency.NewSession(el.s.cli, concurrency.WithTTL(el.ttl), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return el.s.mapErr(ctx, "election session", err)
	}
	defer sess.Close()
	e := concurrency.NewElection(sess, el.key)
	if err := e.Campaign(ctx, el.id); err != nil {
		return el.s.mapErr(ctx, "campaign", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	el.leading.Store(true)
	defer el.leading.Store(false)
	el.log.Info("leading the fleet's time-driven work", "replica", el.id)
	work(lctx)
	if ctx.Err() == nil {
		el.log.Warn("lost the lead", "replica", el.id)
	}
	return nil
}

// Leader returns the id of the current leader, or "" when there is none.
func (el *Election) Leader(ctx context.Context) (string, error) {
	if el.s.closed.Load() {
		return "", kv.ErrClosed
	}
	resp, err := el.s.cli.Get(ctx, el.key+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", el.s.mapErr(ctx, "leader", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}
