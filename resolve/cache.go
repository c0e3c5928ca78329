package resolve

import (
	"sync"
	"time"
)

// cache keeps DNS answers until their TTL runs out. It is bounded: when it
// is full, expired answers go first, then the one that expires soonest.
type cache struct {
	mu      sync.Mutex
	max     int
	maxTTL  time.Duration
	now     func() time.Time
	entries map[string]entry
}

type entry struct {
	value   any
	expires time.Time
}

func newCache(max int, maxTTL time.Duration, now func() time.Time) *cache {
	return &cache{max: max, maxTTL: maxTTL, now: now, entries: make(map[string]entry)}
}

func (c *cache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, key)
		return nil, false
	}
	return e.value, true
}

// put keeps value for ttl (capped at maxTTL); a TTL of 0 is not cached
// (RFC 1035 §3.2.1: "zero values are interpreted to mean that the RR can
// only be used for the transaction in progress").
func (c *cache) put(key string, value any, ttl time.Duration) {
	ttl = min(ttl, c.maxTTL)
	if ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[key] = entry{value: value, expires: now.Add(ttl)}
}

// evict makes room for one entry. It runs only when the cache is full, so
// its scan does not cost the common path.
func (c *cache) evict(now time.Time) {
	var soonest string
	var at time.Time
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
			continue
		}
		if soonest == "" || e.expires.Before(at) {
			soonest, at = k, e.expires
		}
	}
	if len(c.entries) >= c.max {
		delete(c.entries, soonest)
	}
}

// size is the number of answers kept, for tests.
func (c *cache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
