package sbc

import (
	"testing"
	"time"
)

func TestKeepaliveTick(t *testing.T) {
	for _, c := range []struct{ interval, want time.Duration }{
		{15 * time.Second, time.Second},
		{2 * time.Second, 200 * time.Millisecond},
		{50 * time.Millisecond, 10 * time.Millisecond},
	} {
		if got := keepaliveTick(c.interval); got != c.want {
			t.Errorf("keepaliveTick(%v) = %v, want %v", c.interval, got, c.want)
		}
	}
}

// The keepalive schedule: a NATed binding is pinged once per interval,
// never twice while a ping is in flight; a public one never; an expired
// one is dropped, not pinged.
func TestDueBindings(t *testing.T) {
	now := time.Unix(1000, 0)
	r := newRegistrar(RegistrationConfig{}, nil)
	r.now = func() time.Time { return now }
	const interval = 15 * time.Second
	nated := &binding{id: 1, key: "n", keepalive: true, expires: now.Add(60 * time.Second), nextPing: now.Add(interval)}
	public := &binding{id: 2, key: "p", expires: now.Add(60 * time.Second)}
	stale := &binding{id: 3, key: "s", keepalive: true, expires: now.Add(10 * time.Second), nextPing: now}
	for _, b := range []*binding{nated, public, stale} {
		r.store.put(b)
	}

	step := func(d time.Duration) (exp, due []*binding) {
		now = now.Add(d)
		return r.dueBindings(interval)
	}
	if exp, due := step(14 * time.Second); len(exp) != 1 || exp[0] != stale || len(due) != 0 {
		t.Fatalf("at 14s: expired %v due %v; want the stale binding expired, nothing due", ids(exp), ids(due))
	}
	r.store.remove(stale)
	if _, due := step(time.Second); len(due) != 1 || due[0] != nated {
		t.Fatalf("at 15s: due %v, want the NATed binding", ids(due))
	}
	// Still in flight at 30 s: no second ping on top of it.
	if _, due := step(15 * time.Second); len(due) != 0 {
		t.Fatalf("ping in flight: due %v, want none", ids(due))
	}
	nated.pingPending = false
	if _, due := step(0); len(due) != 1 {
		t.Fatalf("after the answer at 30s: due %v, want the NATed binding again", ids(due))
	}
	if _, due := step(10 * time.Second); len(due) != 0 {
		t.Fatalf("10s after a ping: due %v, want none before the interval", ids(due))
	}
}

func ids(bs []*binding) []uint64 {
	out := make([]uint64, len(bs))
	for i, b := range bs {
		out[i] = b.id
	}
	return out
}
