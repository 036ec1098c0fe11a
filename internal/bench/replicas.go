package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/armlet/armlet/internal/config"
)

// EtcdPrefixRoot is the root of the etcd key prefixes of replica runs. A
// run that was killed leaves its keys under it; `etcdctl del --prefix
// armlet-bench/` removes them.
const EtcdPrefixRoot = "armlet-bench/"

// ReplicaRun is the scenarios run on Replicas in-process armlets sharing
// one etcd, the requests rotating over them.
type ReplicaRun struct {
	Replicas   int     `json:"replicas"`
	Store      string  `json:"store"`
	EtcdPrefix string  `json:"etcdPrefix"`
	Target     string  `json:"target"`
	Scenarios  []Stats `json:"scenarios"`
}

// Scenario returns the named scenario's stats.
func (r ReplicaRun) Scenario(name string) (Stats, bool) { return findStats(r.Scenarios, name) }

// newRunPrefix is a key prefix no earlier run used: the time and a random
// number, so that a run never sees the data of another.
func newRunPrefix() string {
	return fmt.Sprintf("%s%s-%08x/", EtcdPrefixRoot, time.Now().UTC().Format("20060102T150405Z"), rand.Uint32())
}

// runReplicas starts n armlets on o.Store under prefix, seeds them through
// the first, runs the scenarios with requests rotating over all of them,
// then stops them and deletes the prefix's keys.
func runReplicas(ctx context.Context, o Options, n int, prefix string, logf func(string, ...any)) (ReplicaRun, error) {
	logf("replicas: %d on %s under %s", n, o.Store, prefix)
	defer func() {
		if err := deletePrefix(ctx, o.Store, prefix, o.Compact); err != nil {
			logf("replicas: keys under %s not deleted (or etcd not compacted): %v", prefix, err)
		}
	}()
	a, err := startArmlets(ctx, o, n, func(c *config.Config) {
		c.Store = o.Store
		c.EtcdPrefix = prefix
	})
	if err != nil {
		return ReplicaRun{}, err
	}
	defer a.close()
	a.describe = fmt.Sprintf("%d in-process armlets on etcd %s, key prefix %s; each request goes to the next one; token from the first", n, o.Store, prefix)
	b := &armletBench{o: o, a: a, logf: logf}
	if err := b.setup(ctx); err != nil {
		return ReplicaRun{}, fmt.Errorf("%d replicas: %w", n, err)
	}
	sc, err := b.scenarios(ctx)
	if err != nil {
		return ReplicaRun{}, fmt.Errorf("%d replicas: %w", n, err)
	}
	return ReplicaRun{Replicas: n, Store: o.Store, EtcdPrefix: prefix, Target: a.describe, Scenarios: sc}, nil
}

// deletePrefix deletes every key under prefix in the etcd of store, even
// when ctx is already cancelled (the run was interrupted), then with
// compact compacts etcd to that revision.
func deletePrefix(ctx context.Context, store, prefix string, compact bool) error {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   (config.Config{Store: store}).EtcdEndpoints(),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	del, err := cli.Delete(ctx, prefix, clientv3.WithPrefix())
	if err != nil || !compact {
		return err
	}
	_, err = cli.Compact(ctx, del.Header.Revision, clientv3.WithCompactPhysical())
	return err
}
