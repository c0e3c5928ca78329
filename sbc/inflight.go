package sbc

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
)

// Work in flight: two caps a carrier SBC's DoS settings have besides the
// call limits (admission.go).
//
//   - limits.max_transactions: new requests (out of dialog) natsbc is
//     handling at once. Over it natsbc is overloaded and sheds new work
//     with 503 Retry-After (RFC 3261 §21.5.4) rather than queueing it;
//     ACK, CANCEL and in-dialog requests are never shed, so calls that
//     exist keep working.
//   - registrations.max_in_flight_per_source: REGISTERs of one non-peer
//     address waiting for the PBX's answer. A phone has one at a time; a
//     scanner sending hundreds of REGISTERs without waiting holds no more
//     than this many transactions towards the PBX.

// transactionGate counts the new requests being handled.
type transactionGate struct {
	max  atomic.Int64 // 0: no bound
	held atomic.Int64
	shed atomic.Uint64
}

// enter reports whether req may be handled now, and whether it was
// counted: a counted request must be followed by leave. It is decided
// here once: handling may add a To tag to req.
func (g *transactionGate) enter(req *sip.Request) (ok, counted bool) {
	max := g.max.Load()
	if max <= 0 || req.IsAck() || req.IsCancel() || toTag(req) != "" {
		return true, false
	}
	if g.held.Add(1) > max {
		g.held.Add(-1)
		g.shed.Add(1)
		return false, false
	}
	return true, true
}

func (g *transactionGate) leave() { g.held.Add(-1) }

// perSourceGate counts what each source has in flight, up to max (0: no
// bound). It counts even without a bound, so that a reload setting one
// finds the true numbers.
type perSourceGate struct {
	max atomic.Int64
	mu  sync.Mutex
	by  map[netip.Addr]int
}

func newPerSourceGate(max int) *perSourceGate {
	g := &perSourceGate{by: map[netip.Addr]int{}}
	g.max.Store(int64(max))
	return g
}

// take reports whether src may have one more in flight; a true answer
// must be followed by give.
func (g *perSourceGate) take(src netip.Addr) bool {
	max := int(g.max.Load())
	g.mu.Lock()
	defer g.mu.Unlock()
	if max > 0 && g.by[src] >= max {
		return false
	}
	g.by[src]++
	return true
}

func (g *perSourceGate) give(src netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.by[src]--; g.by[src] <= 0 {
		delete(g.by, src)
	}
}
