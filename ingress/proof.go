package ingress

import (
	"net/netip"
	"sync"
	"time"
)

// proofs remembers which UDP sources proved that they receive what natsbc
// sends to their address, and the digest nonces natsbc relayed, by the
// address they went to. Proven addresses are kept apart from the rate
// table, so that a flood of new (forged) sources, which evicts rate
// state, cannot make natsbc forget its phones' proofs; and apart from the
// pending nonces, which any source the PBX challenges creates, forged or
// not: only a proof enters the proven set.
//
// Two generations bound each map without a scan: entries live in cur; when
// cur is full or a generation's time is up, cur becomes prev and a new cur
// starts. A lookup that finds an entry in prev moves it back to cur, so an
// address in use is never forgotten and one unused for two generations is.
type proofs struct {
	mu     sync.RWMutex
	proven generations[netip.Addr, struct{}]
	// nonces maps a nonce natsbc relayed to the one address it went to;
	// a nonce relayed to, or shown from, two addresses (a PBX whose
	// nonces do not depend on the client: natsbc is its one client)
	// proves nothing and maps to the zero address.
	nonces generations[string, netip.Addr]
}

// generations is a map of two generations (see proofs).
type generations[K comparable, V any] struct {
	cur, prev map[K]V
	turned    time.Time
}

func (g *generations[K, V]) get(k K) (v V, inCur, ok bool) {
	if v, ok := g.cur[k]; ok {
		return v, true, true
	}
	v, ok = g.prev[k]
	return v, false, ok
}

// put stores k in cur, turning a generation first when cur is full or old.
func (g *generations[K, V]) put(k K, v V, now time.Time) {
	delete(g.prev, k)
	if _, ok := g.cur[k]; !ok && (len(g.cur) >= proofsPerGeneration || now.Sub(g.turned) >= proofGeneration) {
		g.prev, g.cur, g.turned = g.cur, map[K]V{}, now
	}
	g.cur[k] = v
}

const (
	// proofGeneration is how long an entry stays without being used.
	proofGeneration = 10 * time.Minute
	// proofsPerGeneration bounds the memory: 64 Ki entries a generation.
	proofsPerGeneration = 1 << 16
)

func newProofs(now time.Time) *proofs {
	return &proofs{
		proven: generations[netip.Addr, struct{}]{cur: map[netip.Addr]struct{}{}, prev: map[netip.Addr]struct{}{}, turned: now},
		nonces: generations[string, netip.Addr]{cur: map[string]netip.Addr{}, prev: map[string]netip.Addr{}, turned: now},
	}
}

// isProven reports whether src proved itself. It takes only a read lock,
// unless src must move from the old generation to the new.
func (p *proofs) isProven(src netip.Addr, now time.Time) bool {
	p.mu.RLock()
	_, inCur, ok := p.proven.get(src)
	p.mu.RUnlock()
	if ok && !inCur {
		p.mu.Lock()
		p.proven.put(src, struct{}{}, now)
		p.mu.Unlock()
	}
	return ok
}

func (p *proofs) prove(src netip.Addr, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.proven.put(src, struct{}{}, now)
}

// challenged records a nonce natsbc relays to src.
func (p *proofs) challenged(src netip.Addr, nonce string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if owner, _, ok := p.nonces.get(nonce); ok && owner != src {
		src = netip.Addr{} // sent to two addresses: proves nothing
	}
	p.nonces.put(nonce, src, now)
}

// showed reports whether src presented a nonce natsbc relayed to it and
// to no other address (and then src is proven: the nonce reached it).
func (p *proofs) showed(src netip.Addr, nonce string, now time.Time) bool {
	if nonce == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	owner, _, ok := p.nonces.get(nonce)
	if !ok {
		return false
	}
	if owner != src {
		// Shown from another address than it went to: a forger with a
		// nonce it got at its own address. It proves nothing, for anyone.
		p.nonces.put(nonce, netip.Addr{}, now)
		return false
	}
	p.proven.put(src, struct{}{}, now)
	return true
}
