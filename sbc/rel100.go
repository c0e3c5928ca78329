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

// reliability is the RFC 3262 state of one INVITE transaction relayed
// through natsbc: the call's initial INVITE, or a re-INVITE from either
// side (RFC 3262 applies to any INVITE, §3). Reliable provisionals are per
// leg: natsbc offers 100rel on the far leg, relays a PRACK leg to leg when
// both sides use 100rel, and otherwise terminates reliability on the leg
// that uses it (it PRACKs the far side's reliable provisionals itself, or
// sends reliable provisionals to a sender that requires them and answers
// its PRACKs). "near" is the leg the INVITE came from.
type reliability struct {
	mu   sync.Mutex
	on   bool      // started: an INVITE with 100rel enabled
	near media.Leg // the leg the INVITE came in on
	// The sender's INVITE: Supported/Require 100rel, its CSeq, and
	// whether it had no offer (the far side's reliable provisional could
	// then carry one that only the caller can answer).
	nearSupports, nearRequires, lateOffer bool
	nearCSeq                              uint32
	nearBranch                            string // its top Via branch, which its CANCEL repeats
	nextRSeq                              uint32
	pending                               map[uint32]*reliable   // natsbc's unacknowledged reliable provisionals on the near leg
	prackInFlight                         map[*reliable]struct{} // PRACKed, the PRACK's answer not yet sent
	last                                  chan struct{}          // acked channel of the last one queued
	farLast                               map[string]uint32      // highest far RSeq handled, per far To tag
	final                                 chan struct{}          // closed once the INVITE has its final response
	// refused is closed once that final is no 2xx (natsbc's own 408, 487,
	// 503, 504 among them), or the caller cancelled the 2xx natsbc held
	// for a PRACK: every retransmission stops.
	refused               chan struct{}
	finalOnce, refuseOnce sync.Once
	// ended: the final response came; answered: and it was a 2xx, which
	// waits for the PRACKs of reliable provisionals with SDP (§3).
	ended, answered bool
	// noPrack carries the first reliable provisional never PRACKed to the
	// relay loop, which rejects the INVITE (one slot: one rejection).
	noPrack chan unPracked
	// sendMu is held while a reliable provisional goes out and while the
	// final response is recorded, so none follows a final natsbc sends.
	sendMu sync.Mutex
}

// unPracked is a reliable provisional whose PRACK never came.
type unPracked struct {
	status int
	rseq   uint32
	sentTo string
}

// reliable is one reliable provisional natsbc sent on the A-leg.
type reliable struct {
	rseq  uint32
	acked chan struct{}
	// answered is closed once the caller has the answer to its PRACK
	// (prackAnswered): a 2xx waits for it, so that the caller gets the
	// far side's answers in the far side's order.
	answered     chan struct{}
	answeredOnce sync.Once
	// far is the fork whose reliable provisional this relays, with its
	// RSeq and the B-leg INVITE's CSeq: the caller's PRACK goes there.
	// nil: natsbc made this provisional reliable and answers the PRACK.
	far     *leg
	farRSeq uint32
	farCSeq uint32
	sdp     bool // it carries SDP: a 2xx waits for its PRACK
	sent    bool // transmitted (it may wait for the one before)
}

// start records what the near side's INVITE says about 100rel and offers
// 100rel on the far leg's INVITE. The far side's reliable provisionals are
// relayed or PRACKed by natsbc; only when the caller cannot PRACK and its
// INVITE had no offer is 100rel not offered: a reliable provisional could
// then carry an offer natsbc cannot answer.
func (r *reliability) start(near media.Leg, in, out *sip.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.near = true, near
	r.nearRequires = hasToken(in, "Require", "100rel")
	r.nearSupports = r.nearRequires || hasToken(in, "Supported", "100rel")
	r.lateOffer = len(in.Body()) == 0
	if cs := in.CSeq(); cs != nil {
		r.nearCSeq = cs.SeqNo
	}
	r.nearBranch = viaBranch(in)
	// RFC 3262 §3: the first RSeq is random, 1 to 2**31-1 (kept well below
	// so it never wraps within a call).
	var b [4]byte
	_, _ = rand.Read(b[:])
	r.nextRSeq = binary.BigEndian.Uint32(b[:])%(1<<30) + 1
	r.pending = map[uint32]*reliable{}
	r.prackInFlight = map[*reliable]struct{}{}
	r.farLast = map[string]uint32{}
	r.final = make(chan struct{})
	r.refused = make(chan struct{})
	r.noPrack = make(chan unPracked, 1)
	if r.nearSupports || !r.lateOffer {
		addOptionTag(out, "Supported", "100rel")
	}
}

// enabled is false for an INVITE natsbc relays without RFC 3262 (nil:
// 100rel turned off).
func (r *reliability) enabled() bool {
	if r == nil {
		return false
	}
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
func (r *reliability) queue(p *reliable) (prev, final, refused <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.rseq = r.nextRSeq
	r.nextRSeq++
	p.acked = make(chan struct{})
	p.answered = make(chan struct{})
	r.pending[p.rseq] = p
	prev, r.last = r.last, p.acked
	return prev, r.final, r.refused
}

// unpracked is where the relay loop of the INVITE hears of a reliable
// provisional never PRACKed; nil (never ready) without RFC 3262.
func (r *reliability) unpracked() <-chan unPracked {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.noPrack
}

// noPrackFor tells the relay loop that p was never PRACKed.
func (r *reliability) noPrackFor(u unPracked) {
	select {
	case r.noPrack <- u:
	default:
	}
}

// acknowledge matches a PRACK's RAck to natsbc's unacknowledged reliable
// provisional on side and marks it acknowledged; nil when none matches.
func (r *reliability) acknowledge(side media.Leg, rack rAck) *reliable {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on || side != r.near || rack.method != sip.INVITE || rack.cseq != r.nearCSeq {
		return nil
	}
	p, ok := r.pending[rack.rseq]
	if !ok {
		return nil
	}
	delete(r.pending, rack.rseq)
	close(p.acked)
	r.prackInFlight[p] = struct{}{}
	return p
}

// prackAnswered records that the caller has the answer to p's PRACK.
func (r *reliability) prackAnswered(p *reliable) {
	if r == nil || p == nil {
		return
	}
	p.answeredOnce.Do(func() { close(p.answered) })
	r.mu.Lock()
	delete(r.prackInFlight, p)
	r.mu.Unlock()
}

// finish records the INVITE's final response, before it is sent: reliable
// provisionals not yet sent are dropped, and retransmissions stop (RFC 3262
// §3), except those of provisionals with SDP before a 2xx, which waits for
// their PRACK. A non-2xx after a 2xx (the caller cancelled the 2xx natsbc
// held) stops those too. Once finish returns, no reliable provisional goes
// out any more (sendMu): the caller gets nothing after its final response.
func (r *reliability) finish(answered bool) {
	if r == nil {
		return
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	final, refused := r.final, r.refused
	if final != nil {
		if !r.ended {
			r.ended, r.answered = true, answered
		}
		r.answered = r.answered && answered
	}
	r.mu.Unlock()
	if final == nil {
		return
	}
	r.finalOnce.Do(func() { close(final) })
	if !answered {
		r.refuseOnce.Do(func() { close(refused) })
	}
}

// cancelled records the near side's CANCEL of this INVITE, which sipgo
// answers 487 right after: a CANCEL of another INVITE changes nothing.
func (r *reliability) cancelled(cancel *sip.Request) {
	if r == nil {
		return
	}
	r.mu.Lock()
	ours := r.on && cancel != nil && r.nearBranch != "" && viaBranch(cancel) == r.nearBranch
	r.mu.Unlock()
	if ours {
		r.finish(false)
	}
}

func viaBranch(m *sip.Request) string {
	if v := m.Via(); v != nil {
		b, _ := v.Params.Get("branch")
		return b
	}
	return ""
}

// transmit sends p (first or again) unless the INVITE's final response
// stopped it: for its first transmission, any final response; afterwards a
// final that p's PRACK does not hold up (holdsFinal).
func (r *reliability) transmit(p *reliable, send func()) bool {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	ok := !r.ended || (p.sent && r.answered && p.sdp)
	p.sent = p.sent || ok
	r.mu.Unlock()
	if ok {
		send()
	}
	return ok
}

// holdsFinal tells whether p's retransmissions go on after the final
// response: a 2xx waits for the PRACK of a reliable provisional with SDP.
func (r *reliability) holdsFinal(p *reliable) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answered && p.sdp
}

// unacknowledgedSDP returns what the 2xx waits for: the answered channels
// of the reliable provisionals with SDP that went out and wait for their
// PRACK, and of every PRACK natsbc is relaying (its answer goes to the
// caller before the 2xx).
func (r *reliability) unacknowledgedSDP() []chan struct{} {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []chan struct{}
	for _, p := range r.pending {
		if p.sent && p.sdp {
			out = append(out, p.answered)
		}
	}
	for p := range r.prackInFlight {
		out = append(out, p.answered)
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

// reliabilityOf is the RFC 3262 state of the INVITE being relayed: the
// initial INVITE's, or the pending re-INVITE's (nil when 100rel is off).
func (c *call) reliabilityOf(initial bool) *reliability {
	if initial {
		return &c.rel
	}
	return c.reRel.Load()
}

// startReInviteReliability gives a re-INVITE its own RFC 3262 state: its
// RSeq space and PRACKs are its transaction's (§3), not the initial
// INVITE's. The returned func ends it once the transaction is over.
func (c *call) startReInviteReliability(near media.Leg, in, out *sip.Request) func() {
	r := &reliability{}
	r.start(near, in, out)
	c.reRel.Store(r)
	return func() { c.reRel.CompareAndSwap(r, nil) }
}
