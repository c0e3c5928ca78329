package media

import (
	"fmt"
	"sync"
	"time"
)

// portPool hands out relay port pairs: RTP on an even port, RTCP on the odd
// one above it (RFC 3550 §11). Freed pairs queue behind the others and rest
// for drain before they are handed out again, so the late packets of an
// ended call never land in a new one. Calls take pairs under a mutex when
// their SDP is rewritten, never on the packet path.
type portPool struct {
	mu    sync.Mutex
	drain time.Duration
	// ring is a FIFO of free pairs, oldest freed first; every pair is either
	// in it or taken, so its capacity is the number of pairs.
	ring  []freePair
	head  int
	count int
}

type freePair struct {
	rtp     int
	resting time.Time // zero: never used; else when it was freed
}

func newPortPool(portMin, portMax int, drain time.Duration) (*portPool, error) {
	first := portMin + portMin%2
	if portMin < 1 || portMax > 65535 || first+1 > portMax {
		return nil, fmt.Errorf("media: port range %d-%d holds no even/odd pair", portMin, portMax)
	}
	n := (portMax - first + 1) / 2
	p := &portPool{drain: drain, ring: make([]freePair, n), count: n}
	for i := range p.ring {
		p.ring[i].rtp = first + 2*i
	}
	return p, nil
}

// take returns the RTP port of a free pair that has drained, or false when
// there is none.
func (p *portPool) take(now time.Time) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count == 0 {
		return 0, false
	}
	fp := p.ring[p.head]
	// The queue is in the order pairs were freed, so if the oldest has not
	// drained none has.
	if !fp.resting.IsZero() && now.Sub(fp.resting) < p.drain {
		return 0, false
	}
	p.head = (p.head + 1) % len(p.ring)
	p.count--
	return fp.rtp, true
}

// put frees the pair whose RTP port is rtp; it drains from now on.
func (p *portPool) put(rtp int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count == len(p.ring) {
		return // more puts than takes: a bug elsewhere must not corrupt the ring
	}
	p.ring[(p.head+p.count)%len(p.ring)] = freePair{rtp: rtp, resting: now}
	p.count++
}

// free counts the pairs not taken (drained or not).
func (p *portPool) free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// pairs counts all pairs of the range.
func (p *portPool) pairs() int { return len(p.ring) }
