package engine

import "sync"

// decodedCache keeps recently decoded resources by store key, each with
// the revision it was decoded from. A load still reads the store (so
// revisions, and writes by other replicas, are always seen) but skips the
// JSON decode, the largest cost of a GET, when the stored revision is the
// cached one. Callers get clones, never the cached value.
type decodedCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*Resource
}

func newDecodedCache(max int) *decodedCache {
	return &decodedCache{max: max, items: make(map[string]*Resource, max)}
}

// get returns a clone of the cached resource for key if it was decoded
// from revision rev.
func (c *decodedCache) get(key string, rev int64) (*Resource, bool) {
	c.mu.Lock()
	r, ok := c.items[key]
	c.mu.Unlock()
	if !ok || r.Revision != rev {
		return nil, false
	}
	return r.Clone(), true
}

// put remembers a clone of r under key. When full it drops an arbitrary
// entry: simpler than LRU and as good for a cache that only saves work.
func (c *decodedCache) put(key string, r *Resource) {
	clone := r.Clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; !ok && len(c.items) >= c.max {
		for k := range c.items {
			delete(c.items, k)
			break
		}
	}
	c.items[key] = clone
}
