package resolve

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestAnswersAreCachedForTheirTTL(t *testing.T) {
	now := time.Unix(1000, 0)
	z := &zone{ttl: 30 * time.Second, ip: map[string][]string{"pbx": {"10.0.0.10"}}}
	r := New(z, Options{Now: func() time.Time { return now }})
	q := Query{Host: "pbx", Port: 5060}
	for range 3 {
		if _, err := r.Locate(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	if len(z.asked) != 1 {
		t.Fatalf("asked %d times within the TTL, want 1", len(z.asked))
	}
	now = now.Add(30 * time.Second)
	if _, err := r.Locate(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if len(z.asked) != 2 {
		t.Errorf("asked %d times after the TTL, want 2", len(z.asked))
	}
}

func TestEmptyAnswersAreCachedToo(t *testing.T) {
	z := &zone{ttl: time.Minute, ip: map[string][]string{"pbx": {"10.0.0.10"}}}
	r := New(z, Options{})
	for range 2 {
		if _, err := r.Locate(context.Background(), Query{Host: "pbx"}); err != nil {
			t.Fatal(err)
		}
	}
	// NAPTR, SRV udp, SRV tcp and IP, once each.
	if len(z.asked) != 4 {
		t.Errorf("asked %v", z.asked)
	}
}

func TestZeroTTLAndErrorsAreNotCached(t *testing.T) {
	z := &zone{ip: map[string][]string{"pbx": {"10.0.0.10"}}}
	r := New(z, Options{})
	for range 2 {
		if _, err := r.Locate(context.Background(), Query{Host: "pbx", Port: 5060}); err != nil {
			t.Fatal(err)
		}
	}
	if len(z.asked) != 2 {
		t.Errorf("TTL 0: asked %d times, want 2", len(z.asked))
	}
	z = &zone{ttl: time.Minute, fail: map[string]bool{"pbx": true}}
	r = New(z, Options{})
	for range 2 {
		_, _ = r.Locate(context.Background(), Query{Host: "pbx"})
	}
	if len(z.asked) != 2 {
		t.Errorf("failure: asked %v, want the NAPTR twice", z.asked)
	}
}

func TestCacheIsBoundedAndDropsTheSoonestToExpire(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(3, time.Hour, func() time.Time { return now })
	c.put("a", 1, 10*time.Second)
	c.put("b", 2, 5*time.Second)
	c.put("c", 3, 20*time.Second)
	c.put("d", 4, 30*time.Second)
	if c.size() != 3 {
		t.Fatalf("size %d, want 3", c.size())
	}
	if _, ok := c.get("b"); ok {
		t.Error("b (expiring soonest) kept")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s dropped", k)
		}
	}
	// Expired entries go before live ones.
	now = now.Add(15 * time.Second) // a expired
	c.put("e", 5, time.Minute)
	if _, ok := c.get("c"); !ok {
		t.Error("c dropped while an expired entry was there")
	}
	for i := range 100 {
		c.put(fmt.Sprint(i), i, time.Minute)
	}
	if c.size() != 3 {
		t.Errorf("size %d after 100 puts, want 3", c.size())
	}
}

func TestTTLIsCapped(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(3, time.Minute, func() time.Time { return now })
	c.put("a", 1, 24*time.Hour)
	now = now.Add(time.Minute)
	if _, ok := c.get("a"); ok {
		t.Error("kept past MaxTTL")
	}
}
