package resolve

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Resolver locates SIP servers (RFC 3263) through a DNS, caching answers.
type Resolver struct {
	dns   DNS
	cache *cache
	rand  func(int) int
}

// Options tune a Resolver; the zero value is usable.
type Options struct {
	// MaxEntries bounds the cache (0: 1024 answers).
	MaxEntries int
	// MaxTTL caps how long an answer is kept (0: one hour).
	MaxTTL time.Duration
	// Now and Rand replace the clock and the SRV weight draw in tests.
	Now  func() time.Time
	Rand func(n int) int
}

// New returns a Resolver asking dns.
func New(dns DNS, o Options) *Resolver {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 1024
	}
	if o.MaxTTL <= 0 {
		o.MaxTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.IntN
	}
	return &Resolver{dns: dns, cache: newCache(o.MaxEntries, o.MaxTTL, o.Now), rand: o.Rand}
}

func (r *Resolver) cachedNAPTR(ctx context.Context, name string) ([]NAPTR, error) {
	return cached(r.cache, "NAPTR "+name, func() ([]NAPTR, time.Duration, error) { return r.dns.NAPTR(ctx, name) })
}

func (r *Resolver) cachedSRV(ctx context.Context, name string) ([]SRV, error) {
	return cached(r.cache, "SRV "+name, func() ([]SRV, time.Duration, error) { return r.dns.SRV(ctx, name) })
}

func (r *Resolver) cachedIP(ctx context.Context, name string) ([]netip.Addr, error) {
	return cached(r.cache, "IP "+name, func() ([]netip.Addr, time.Duration, error) { return r.dns.IP(ctx, name) })
}

// cached answers from the cache, or asks and keeps the answer for its TTL.
// Errors are not cached: the next call asks again.
func cached[T any](c *cache, key string, ask func() ([]T, time.Duration, error)) ([]T, error) {
	if v, ok := c.get(key); ok {
		return v.([]T), nil
	}
	recs, ttl, err := ask()
	if err != nil {
		return nil, err
	}
	c.put(key, recs, ttl)
	return recs, nil
}
