package loadgen

import (
	"net/netip"
	"testing"
	"time"
)

func TestRetransmitScheduleDoublesUpToCeilingThenGivesUp(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const t1, t2 = 500 * time.Millisecond, 4 * time.Second
	var r retransmit
	gaveUp := 0
	r.start([]byte("m"), netip.AddrPort{}, t0, t1, t2, 64*t1, func() { gaveUp++ })
	// Walk time in 10 ms steps, as the sweeper would, and note resends.
	var sends []time.Duration
	for now := t0; now.Before(t0.Add(40 * time.Second)); now = now.Add(10 * time.Millisecond) {
		resend, expired := r.due(now)
		if resend {
			sends = append(sends, now.Sub(t0))
		}
		if expired {
			r.onGiveUp()
		}
	}
	// §17.1.2.2 Timer E: 0.5, 1.5, 3.5, 7.5, then every 4 s until 32 s.
	want := []time.Duration{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}
	if len(sends) != len(want) {
		t.Fatalf("resent at %v, want %v ms", sends, want)
	}
	for i, ms := range want {
		if sends[i] != ms*time.Millisecond {
			t.Fatalf("resend %d at %v, want %d ms (all: %v)", i, sends[i], ms, sends)
		}
	}
	if gaveUp != 1 || r.active {
		t.Fatalf("gave up %d times, active %v; want once and stopped", gaveUp, r.active)
	}
}

func TestRetransmitTimerANeverCapsAndStops(t *testing.T) {
	t0 := time.Unix(0, 0)
	var r retransmit
	r.start(nil, netip.AddrPort{}, t0, 100*time.Millisecond, 0, time.Hour, nil)
	var last time.Time
	for i, at := range []int{100, 300, 700, 1500, 3100} { // doubling, no ceiling
		now := t0.Add(time.Duration(at) * time.Millisecond)
		if resend, _ := r.due(now.Add(-time.Millisecond)); resend {
			t.Fatalf("resend %d came early", i)
		}
		if resend, _ := r.due(now); !resend {
			t.Fatalf("resend %d missing at %d ms", i, at)
		}
		last = now
	}
	r.stop()
	if resend, expired := r.due(last.Add(time.Hour)); resend || expired {
		t.Fatal("a stopped retransmission still fires")
	}
}

func TestRetransmitSlowDownAfterProvisional(t *testing.T) {
	t0 := time.Unix(0, 0)
	var r retransmit
	r.start(nil, netip.AddrPort{}, t0, 500*time.Millisecond, 4*time.Second, time.Minute, nil)
	r.slowDown(t0.Add(100*time.Millisecond), 4*time.Second)
	if resend, _ := r.due(t0.Add(4 * time.Second)); resend {
		t.Fatal("resent before T2 after a provisional response")
	}
	if resend, _ := r.due(t0.Add(4100 * time.Millisecond)); !resend {
		t.Fatal("not resent at T2")
	}
}
