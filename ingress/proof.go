package ingress

import (
	"net/netip"
	"sync"
	"time"
)

// proofs remembers which UDP sources proved that they receive what natsbc
// sends to their address, and the digest nonces natsbc relayed to sources
// that have not yet. It is kept apart from the rate table so that a flood
// of new (forged) sources, which evicts rate state, cannot make natsbc
// forget its phones' proofs; and a forged source never gets in, so only
// receivers fill it.
//
// Two generations bound it without a scan: entries live in cur; when cur
// is full or a generation's time is up, cur becomes prev and a new cur
// starts. A lookup that finds an entry in prev moves it back to cur, so an
// address in use is never forgotten and one unused for two generations is.
type proofs struct {
	mu        sync.RWMutex
	cur, prev map[netip.Addr]*proof
	turned    time.Time
}

type proof struct {
	proven bool
	// nonces natsbc relayed to the source in 401/407 challenges, newest
	// last (two: a REGISTER and an INVITE may be challenged at once).
	nonces [2]string
}

const (
	// proofGeneration is how long an entry stays without being used.
	proofGeneration = 10 * time.Minute
	// proofsPerGeneration bounds the memory: 64 Ki addresses a generation.
	proofsPerGeneration = 1 << 16
)

func newProofs(now time.Time) *proofs {
	return &proofs{cur: map[netip.Addr]*proof{}, prev: map[netip.Addr]*proof{}, turned: now}
}

// proven reports whether src proved itself. It takes only a read lock,
// unless src must move from the old generation to the new.
func (p *proofs) proven(src netip.Addr, now time.Time) bool {
	p.mu.RLock()
	e, inCur := p.cur[src]
	if !inCur {
		e = p.prev[src]
	}
	known := e != nil && e.proven
	p.mu.RUnlock()
	if e != nil && !inCur {
		p.mu.Lock()
		p.entryLocked(src, now, false)
		p.mu.Unlock()
	}
	return known
}

func (p *proofs) prove(src netip.Addr, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entryLocked(src, now, true).proven = true
}

// challenged records a nonce natsbc relays to src.
func (p *proofs) challenged(src netip.Addr, nonce string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entryLocked(src, now, true)
	if e.proven || e.nonces[1] == nonce {
		return
	}
	e.nonces[0], e.nonces[1] = e.nonces[1], nonce
}

// showed reports whether src presented a nonce natsbc relayed to it (and
// then src is proven: the nonce reached it at its address).
func (p *proofs) showed(src netip.Addr, nonce string, now time.Time) bool {
	if nonce == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entryLocked(src, now, false)
	if e == nil || (e.nonces[0] != nonce && e.nonces[1] != nonce) {
		return false
	}
	e.proven, e.nonces = true, [2]string{}
	return true
}

// entryLocked finds src's entry (moving it from prev to cur), or makes
// one when create is set; nil when there is none.
func (p *proofs) entryLocked(src netip.Addr, now time.Time, create bool) *proof {
	if e, ok := p.cur[src]; ok {
		return e
	}
	e, ok := p.prev[src]
	if !ok && !create {
		return nil
	}
	if !ok {
		e = &proof{}
	}
	delete(p.prev, src)
	if len(p.cur) >= proofsPerGeneration || now.Sub(p.turned) >= proofGeneration {
		p.prev, p.cur, p.turned = p.cur, map[netip.Addr]*proof{}, now
	}
	p.cur[src] = e
	return e
}
