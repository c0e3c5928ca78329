package media

import (
	"testing"
	"time"
)

func TestPortPoolPairsStartEven(t *testing.T) {
	p, err := newPortPool(20001, 20006, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// 20001 is odd: the first pair is 20002/20003, then 20004/20005;
	// 20006 alone is no pair.
	now := time.Now()
	var got []int
	for {
		port, ok := p.take(now)
		if !ok {
			break
		}
		got = append(got, port)
	}
	if len(got) != 2 || got[0] != 20002 || got[1] != 20004 {
		t.Fatalf("pairs = %v, want [20002 20004]", got)
	}
	if free, all := p.free(), p.pairs(); free != 0 || all != 2 {
		t.Errorf("after taking both: free %d of %d, want 0 of 2", free, all)
	}
	p.put(got[0], now)
	if free := p.free(); free != 1 {
		t.Errorf("after a put: %d free, want 1 (resting counts as free)", free)
	}
}

func TestPortPoolRejectsRangeWithoutPair(t *testing.T) {
	for _, r := range [][2]int{{20001, 20002}, {30000, 20000}, {0, 10}, {65534, 65536}} {
		if _, err := newPortPool(r[0], r[1], 0); err == nil {
			t.Errorf("range %d-%d accepted", r[0], r[1])
		}
	}
	if _, err := newPortPool(65534, 65535, 0); err != nil {
		t.Errorf("last pair rejected: %v", err)
	}
}

func TestPortPoolDrainsBeforeReuse(t *testing.T) {
	p, _ := newPortPool(20000, 20003, 30*time.Second)
	t0 := time.Now()
	a, _ := p.take(t0)
	b, _ := p.take(t0)
	if _, ok := p.take(t0); ok {
		t.Fatal("took a third pair from a range of two")
	}
	p.put(b, t0)
	p.put(a, t0.Add(time.Second))
	if _, ok := p.take(t0.Add(29 * time.Second)); ok {
		t.Fatal("reused a pair before it drained")
	}
	got, ok := p.take(t0.Add(30 * time.Second))
	if !ok || got != b {
		t.Fatalf("after drain took %d,%v; want the first freed pair %d", got, ok, b)
	}
	if _, ok := p.take(t0.Add(30 * time.Second)); ok {
		t.Fatal("a pair freed a second later was reused early")
	}
	if got, ok := p.take(t0.Add(31 * time.Second)); !ok || got != a {
		t.Fatalf("took %d,%v; want %d", got, ok, a)
	}
}

func TestPortPoolFreedPairsQueueBehindUnused(t *testing.T) {
	// A freed pair goes to the back: the next call gets a pair nobody used
	// recently even when drain is zero.
	p, _ := newPortPool(20000, 20005, 0)
	now := time.Now()
	a, _ := p.take(now)
	p.put(a, now)
	if got, _ := p.take(now); got == a {
		t.Fatalf("freed pair %d handed out again before the unused ones", a)
	}
	if p.free() != 2 {
		t.Fatalf("free = %d, want 2", p.free())
	}
}

func TestPortPoolIgnoresExtraPut(t *testing.T) {
	p, _ := newPortPool(20000, 20001, 0)
	now := time.Now()
	p.put(20000, now) // never taken
	if p.free() != 1 {
		t.Fatalf("free = %d after a stray put, want 1", p.free())
	}
}
