package sbc

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/natsbc/natsbc/policy"
)

// Under a burst of concurrent INVITEs exactly max_calls get a slot, and
// once they end every counter is back to zero.
func TestAdmissionExactUnderConcurrency(t *testing.T) {
	a := newAdmission(10, 0, 0)
	var got atomic.Int32
	var wg sync.WaitGroup
	slots := make(chan *slot, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
			if s, err := a.take(src, policy.Peer{}); err == nil {
				got.Add(1)
				slots <- s
			}
		}()
	}
	wg.Wait()
	close(slots)
	if got.Load() != 10 || a.held() != 10 {
		t.Fatalf("%d slots taken (held %d), want exactly 10", got.Load(), a.held())
	}
	for s := range slots {
		s.release()
		s.release() // twice: once counts
	}
	if a.held() != 0 || len(a.bySource) != 0 || len(a.byPeer) != 0 {
		t.Fatalf("after release: held %d, sources %v, peers %v", a.held(), a.bySource, a.byPeer)
	}
}

// max_calls_per_source bounds one address that is not a peer; a peer's
// calls are bounded by its own max_calls, as caller or callee, and never
// by the per-source limit.
func TestAdmissionPerSourceAndPerPeer(t *testing.T) {
	a := newAdmission(0, 2, 0)
	phone := netip.MustParseAddr("198.51.100.7")
	pbx := policy.Peer{Name: "pbx", MaxCalls: 3}
	var held []*slot
	take := func(src netip.Addr, from policy.Peer) error {
		s, err := a.take(src, from)
		if err == nil {
			held = append(held, s)
		}
		return err
	}
	for range 2 {
		if err := take(phone, policy.Peer{}); err != nil {
			t.Fatal(err)
		}
	}
	var le *limitError
	if err := take(phone, policy.Peer{}); !errors.As(err, &le) || le.limit != "limits.max_calls_per_source" {
		t.Fatalf("third call from one phone: %v, want the per-source limit", err)
	}
	if err := take(netip.MustParseAddr("198.51.100.8"), policy.Peer{}); err != nil {
		t.Fatalf("another phone: %v", err)
	}
	// The three phone calls go to the pbx: it takes part in three.
	for i, s := range held {
		if err := s.alsoTo(pbx); err != nil {
			t.Fatalf("call %d to the pbx: %v", i, err)
		}
	}
	pbxAddr := netip.MustParseAddr("10.0.0.5")
	if err := take(pbxAddr, pbx); !errors.As(err, &le) || le.limit != "peers[pbx].max_calls" {
		t.Fatalf("a fourth call of the pbx: %v, want its max_calls", err)
	}
	held[0].release()
	if err := take(pbxAddr, pbx); err != nil {
		t.Fatalf("a pbx call after one ended: %v", err)
	}
	for _, s := range held {
		s.release()
	}
	if a.held() != 0 || len(a.bySource) != 0 || len(a.byPeer) != 0 {
		t.Fatalf("after release: held %d, sources %v, peers %v", a.held(), a.bySource, a.byPeer)
	}
}

// peers[].max_cps: a second's worth of calls with the peer at once, then
// one per 1/max_cps s; calls ending give no token back. Both directions
// count: calls from the peer and calls to it.
func TestAdmissionCallsPerSecondPerPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdmission(0, 0, 0)
		carrier := policy.Peer{Name: "carrier", MaxCPS: 2}
		from := netip.MustParseAddr("10.0.0.40")
		var le *limitError
		for i := range 2 {
			s, err := a.take(from, carrier)
			if err != nil {
				t.Fatalf("call %d of the second: %v", i, err)
			}
			s.release()
		}
		if _, err := a.take(from, carrier); !errors.As(err, &le) || le.limit != "peers[carrier].max_cps" {
			t.Fatalf("third call in the same second: %v, want peers[carrier].max_cps", err)
		}
		// A call to the carrier counts too.
		s, err := a.take(netip.MustParseAddr("198.51.100.7"), policy.Peer{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.alsoTo(carrier); !errors.As(err, &le) || le.limit != "peers[carrier].max_cps" {
			t.Fatalf("a call to the carrier over its rate: %v", err)
		}
		s.release()
		time.Sleep(500 * time.Millisecond) // one token at 2/s
		if s, err := a.take(from, carrier); err != nil {
			t.Fatalf("after half a second: %v", err)
		} else {
			s.release()
		}
		if a.held() != 0 {
			t.Errorf("%d slots held after every call ended", a.held())
		}
	})
}

// limits.max_relay_pairs_per_source: the pairs a source's calls hold only
// grow per call, are capped across its calls, and come back when a call
// ends; a peer's calls are not counted.
func TestAdmissionRelayPairsPerSource(t *testing.T) {
	a := newAdmission(0, 0, 6)
	phone := netip.MustParseAddr("198.51.100.7")
	first, _ := a.take(phone, policy.Peer{})
	second, _ := a.take(phone, policy.Peer{})
	if err := first.holdPairs(4); err != nil {
		t.Fatal(err)
	}
	if err := first.holdPairs(2); err != nil || first.pairs != 4 {
		t.Fatalf("a smaller SDP: %v, pairs %d; want 4 kept", err, first.pairs)
	}
	var le *limitError
	if err := second.holdPairs(4); !errors.As(err, &le) || le.limit != "limits.max_relay_pairs_per_source" {
		t.Fatalf("8 pairs from one source with 6 allowed: %v", err)
	}
	if err := second.holdPairs(2); err != nil {
		t.Fatalf("6 pairs: %v", err)
	}
	first.release()
	if err := second.holdPairs(6); err != nil {
		t.Fatalf("after the first call ended: %v", err)
	}
	pbx, _ := a.take(netip.MustParseAddr("10.0.0.5"), policy.Peer{Name: "pbx"})
	if err := pbx.holdPairs(100); err != nil {
		t.Fatalf("a peer's call: %v", err)
	}
	second.release()
	pbx.release()
	// An SDP read after its call ended (a 200 racing the caller's BYE)
	// must not count pairs nothing will give back.
	if err := first.holdPairs(6); err != nil {
		t.Fatalf("a released slot: %v", err)
	}
	if len(a.pairs) != 0 {
		t.Fatalf("pairs left after every call ended: %v", a.pairs)
	}
}
