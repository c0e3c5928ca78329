package sbc

import (
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// reliability is the RFC 3262 state of a call's initial INVITE. Reliable
// provisionals are per leg: natsbc offers 100rel on the B-leg, relays a
// PRACK leg to leg when both sides use 100rel, and otherwise terminates
// reliability on the leg that uses it (it PRACKs the callee's reliable
// provisionals itself, or sends reliable provisionals to a caller that
// requires them and answers its PRACKs).
type reliability struct {
	mu sync.Mutex
	on bool // started: the initial INVITE of a call with 100rel enabled
	// The caller's INVITE: Supported/Require 100rel, its CSeq, and
	// whether it had no offer (the far side's reliable provisional could
	// then carry one that only the caller can answer).
	nearSupports, nearRequires, lateOffer bool
	nearCSeq                              uint32
	nextRSeq                              uint32
	pending                               map[uint32]*reliable // natsbc's unacknowledged reliable provisionals on the A-leg
	last                                  chan struct{}        // acked channel of the last one queued
	farLast                               map[string]uint32    // highest far RSeq handled, per far To tag
	final                                 chan struct{}        // closed once the INVITE has its final response
	finalOnce                             sync.Once
	// ended: the final response came; answered: and it was a 2xx, which
	// waits for the PRACKs of reliable provisionals with SDP (§3).
	ended, answered bool
}

// reliable is one reliable provisional natsbc sent on the A-leg.
type reliable struct {
	rseq  uint32
	acked chan struct{}
	// far is the fork whose reliable provisional this relays, with its
	// RSeq and the B-leg INVITE's CSeq: the caller's PRACK goes there.
	// nil: natsbc made this provisional reliable and answers the PRACK.
	far     *leg
	farRSeq uint32
	farCSeq uint32
	sdp     bool // it carries SDP: a 2xx waits for its PRACK
	sent    bool // transmitted (it may wait for the one before)
}

// start records what the caller's INVITE says about 100rel and offers
// 100rel on the B-leg INVITE. The far side's reliable provisionals are
// relayed or PRACKed by natsbc; only when the caller cannot PRACK and its
// INVITE had no offer is 100rel not offered: a reliable provisional could
// then carry an offer natsbc cannot answer.
func (r *reliability) start(in, out *sip.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = true
	r.nearRequires = hasToken(in, "Require", "100rel")
	r.nearSupports = r.nearRequires || hasToken(in, "Supported", "100rel")
	r.lateOffer = len(in.Body()) == 0
	if cs := in.CSeq(); cs != nil {
		r.nearCSeq = cs.SeqNo
	}
	// RFC 3262 §3: the first RSeq is random, 1 to 2**31-1 (kept well below
	// so it never wraps within a call).
	var b [4]byte
	_, _ = rand.Read(b[:])
	r.nextRSeq = binary.BigEndian.Uint32(b[:])%(1<<30) + 1
	r.pending = map[uint32]*reliable{}
	r.farLast = map[string]uint32{}
	r.final = make(chan struct{})
	if r.nearSupports || !r.lateOffer {
		addOptionTag(out, "Supported", "100rel")
	}
}

func (r *reliability) enabled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.on
}

// modes returns what the caller said about 100rel.
func (r *reliability) modes() (supports, requires, lateOffer bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nearSupports, r.nearRequires, r.lateOffer
}

// firstSight tells whether a far reliable provisional is new (RFC 3262 §4):
// the first of its dialog, or the next RSeq. Retransmissions and
// out-of-order ones are discarded.
func (r *reliability) firstSight(tag string, rseq uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	last, seen := r.farLast[tag]
	if seen && rseq != last+1 {
		return false
	}
	r.farLast[tag] = rseq
	return true
}

// queue numbers p and returns the acked channel of the one before it: RFC
// 3262 §3 lets a second reliable provisional go only once the first is
// acknowledged.
func (r *reliability) queue(p *reliable) (prev <-chan struct{}, final <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.rseq = r.nextRSeq
	r.nextRSeq++
	p.acked = make(chan struct{})
	r.pending[p.rseq] = p
	prev, r.last = r.last, p.acked
	return prev, r.final
}

// acknowledge matches a PRACK's RAck to natsbc's unacknowledged reliable
// provisional on side and marks it acknowledged; nil when none matches.
func (r *reliability) acknowledge(side media.Leg, rack rAck) *reliable {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on || side != media.LegA || rack.method != sip.INVITE || rack.cseq != r.nearCSeq {
		return nil
	}
	p, ok := r.pending[rack.rseq]
	if !ok {
		return nil
	}
	delete(r.pending, rack.rseq)
	close(p.acked)
	return p
}

// finish records the INVITE's final response: reliable provisionals not
// yet sent are dropped, and retransmissions stop (RFC 3262 §3), except
// those of provisionals with SDP before a 2xx, which waits for their PRACK.
func (r *reliability) finish(answered bool) {
	r.mu.Lock()
	final := r.final
	if final != nil && !r.ended {
		r.ended, r.answered = true, answered
	}
	r.mu.Unlock()
	if final != nil {
		r.finalOnce.Do(func() { close(final) })
	}
}

// markSent records that p goes out now; false when the final response
// came first (p is dropped).
func (r *reliability) markSent(p *reliable) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return false
	}
	p.sent = true
	return true
}

// holdsFinal tells whether p's retransmissions go on after the final
// response: a 2xx waits for the PRACK of a reliable provisional with SDP.
func (r *reliability) holdsFinal(p *reliable) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answered && p.sdp
}

// unacknowledgedSDP returns the acked channels of the reliable
// provisionals with SDP that went out and wait for their PRACK.
func (r *reliability) unacknowledgedSDP() []chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []chan struct{}
	for _, p := range r.pending {
		if p.sent && p.sdp {
			out = append(out, p.acked)
		}
	}
	return out
}

// rAck is a PRACK's RAck header (RFC 3262 §7.2): response-num CSeq-num
// Method.
type rAck struct {
	rseq, cseq uint32
	method     sip.RequestMethod
}

func parseRAck(m *sip.Request) (rAck, bool) {
	h := m.GetHeader("RAck")
	if h == nil {
		return rAck{}, false
	}
	f := strings.Fields(h.Value())
	if len(f) != 3 {
		return rAck{}, false
	}
	rseq, err1 := strconv.ParseUint(f[0], 10, 32)
	cseq, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil || rseq == 0 {
		return rAck{}, false
	}
	return rAck{rseq: uint32(rseq), cseq: uint32(cseq), method: sip.RequestMethod(strings.ToUpper(f[2]))}, true
}

func (a rAck) String() string {
	return strconv.FormatUint(uint64(a.rseq), 10) + " " + strconv.FormatUint(uint64(a.cseq), 10) + " " + string(a.method)
}

// reliableRSeq returns the RSeq of a reliable provisional (RFC 3262 §3:
// Require: 100rel and RSeq), false for any other response.
func reliableRSeq(res *sip.Response) (uint32, bool) {
	if !res.IsProvisional() || res.StatusCode == 100 || !hasToken(res, "Require", "100rel") {
		return 0, false
	}
	h := res.GetHeader("RSeq")
	if h == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}
