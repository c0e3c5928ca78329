package sbc

import (
	"net/netip"
	"sync"
	"time"

	"github.com/natsbc/natsbc/policy"
)

// admission holds the call slots. A slot is taken before a call is set up
// and given back when the call ends, whichever way, under one lock: the
// limits are exact under concurrency, where comparing the call table's
// size and adding the call later let a burst of INVITEs through.
//
// Four limits, each 0 for none: every call (limits.max_calls); calls
// from one source address that is not a configured peer (phones and
// strangers: limits.max_calls_per_source; a PBX carries many calls from
// one address); calls a configured peer takes part in, as caller or
// callee (peers[].max_calls); and new calls per second with a peer
// (peers[].max_cps, a token bucket holding one second's worth). And the
// relay port pairs the calls of one non-peer source hold
// (limits.max_relay_pairs_per_source), counted as their SDPs ask for them.
type admission struct {
	now func() time.Time

	mu                     sync.Mutex
	maxTotal, maxPerSource int
	maxPairsPerSource      int
	total                  int
	bySource               map[netip.Addr]int
	pairs                  map[netip.Addr]int // relay pairs held, by non-peer source
	byPeer                 map[string]int
	cps                    map[string]*cpsBucket
}

// cpsBucket is a peer's call-rate bucket.
type cpsBucket struct {
	tokens float64
	last   time.Time
}

func newAdmission(maxTotal, maxPerSource, maxPairsPerSource int) *admission {
	return &admission{maxTotal: maxTotal, maxPerSource: maxPerSource, maxPairsPerSource: maxPairsPerSource, now: time.Now,
		bySource: map[netip.Addr]int{}, pairs: map[netip.Addr]int{}, byPeer: map[string]int{}, cps: map[string]*cpsBucket{}}
}

// slot is one call's hold on the limits. release gives it back; it is
// safe to call more than once and on a nil slot.
type slot struct {
	a      *admission
	source netip.Addr // zero: a configured peer's call, not counted by source
	// pairs (relay port pairs counted against source), peers and
	// released are guarded by a.mu.
	pairs    int
	peers    []string
	released bool
	once     sync.Once
}

// limitError names the limit a call ran into, for the log.
type limitError struct{ limit string }

func (e *limitError) Error() string { return "call limit reached: " + e.limit }

// setLimits replaces the limits (a reload): calls up already stay, new
// ones meet the new limits.
func (a *admission) setLimits(maxTotal, maxPerSource, maxPairsPerSource int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.maxTotal, a.maxPerSource, a.maxPairsPerSource = maxTotal, maxPerSource, maxPairsPerSource
}

// take holds a slot for a call from source, classified as from.
func (a *admission) take(source netip.Addr, from policy.Peer) (*slot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.maxTotal > 0 && a.total >= a.maxTotal {
		return nil, &limitError{"limits.max_calls"}
	}
	s := &slot{a: a}
	if from.Name == "" {
		if a.maxPerSource > 0 && a.bySource[source] >= a.maxPerSource {
			return nil, &limitError{"limits.max_calls_per_source"}
		}
		s.source = source
		a.bySource[source]++
	} else if limit := a.countPeerLocked(s, from); limit != "" {
		return nil, &limitError{limit}
	}
	a.total++
	return s, nil
}

// alsoTo counts the call against the peer it goes to; a *limitError (and
// nothing more counted) when that peer is at its limit. The caller
// releases the slot either way.
func (s *slot) alsoTo(to policy.Peer) error {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	if to.Name == "" {
		return nil
	}
	for _, p := range s.peers {
		if p == to.Name {
			return nil // a peer calling itself through natsbc is one call
		}
	}
	if limit := s.a.countPeerLocked(s, to); limit != "" {
		return &limitError{limit}
	}
	return nil
}

// holdPairs raises the relay pairs the call holds to n (a call's pairs
// only grow: a stream once relayed keeps its ports until the call ends);
// a *limitError, and nothing counted, when that puts its source over
// limits.max_relay_pairs_per_source. A peer's call is not counted, nor
// one whose slot was released (the call ended while its SDP was read).
func (s *slot) holdPairs(n int) error {
	if s == nil || !s.source.IsValid() {
		return nil
	}
	a := s.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.released || n <= s.pairs {
		return nil
	}
	if a.maxPairsPerSource > 0 && a.pairs[s.source]-s.pairs+n > a.maxPairsPerSource {
		return &limitError{"limits.max_relay_pairs_per_source"}
	}
	a.pairs[s.source] += n - s.pairs
	s.pairs = n
	return nil
}

// countPeerLocked counts the call against peer p: "" when within its
// limits, else the limit it ran into (and nothing counted).
func (a *admission) countPeerLocked(s *slot, p policy.Peer) string {
	if p.MaxCalls > 0 && a.byPeer[p.Name] >= p.MaxCalls {
		return "peers[" + p.Name + "].max_calls"
	}
	if p.MaxCPS > 0 && !a.takeCPSLocked(p) {
		return "peers[" + p.Name + "].max_cps"
	}
	a.byPeer[p.Name]++
	s.peers = append(s.peers, p.Name)
	return ""
}

// takeCPSLocked takes a token of p's call-rate bucket (full when new).
func (a *admission) takeCPSLocked(p policy.Peer) bool {
	now := a.now()
	rate := float64(p.MaxCPS)
	b, ok := a.cps[p.Name]
	if !ok {
		b = &cpsBucket{tokens: rate, last: now}
		a.cps[p.Name] = b
	}
	b.tokens = min(rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (s *slot) release() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		a := s.a
		a.mu.Lock()
		defer a.mu.Unlock()
		s.released = true
		a.total--
		if s.source.IsValid() {
			if a.bySource[s.source]--; a.bySource[s.source] == 0 {
				delete(a.bySource, s.source)
			}
			if a.pairs[s.source] -= s.pairs; a.pairs[s.source] <= 0 {
				delete(a.pairs, s.source)
			}
		}
		for _, p := range s.peers {
			if a.byPeer[p]--; a.byPeer[p] == 0 {
				delete(a.byPeer, p)
			}
		}
	})
}

// held is the number of slots held, for tests and stats.
func (a *admission) held() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}
