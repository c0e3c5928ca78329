package sbc

import (
	"context"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// relayProvisional maps a far-leg provisional onto the near leg. For the
// initial INVITE it also makes the far early dialog (early_dialog.go) and
// applies RFC 3262 per leg:
//
//	far reliable,   caller uses 100rel  → reliable on the A-leg, PRACK relayed
//	far reliable,   caller without      → natsbc PRACKs it, unreliable on the A-leg
//	far unreliable, caller requires     → natsbc makes it reliable, answers the PRACK
//	otherwise                           → relayed as it is
//
// It returns what it sent the caller unreliably (nil when nothing), and
// whether it sent a reliable provisional instead (its own loop
// retransmits it).
func (c *call) relayProvisional(fromSide media.Leg, in *sip.Request, tx sip.ServerTransaction, out *sip.Request, res *sip.Response, initial bool) (*sip.Response, bool) {
	r := c.reliabilityOf(initial)
	to := c.leg(c.other(fromSide))
	// A re-INVITE's provisionals belong to the confirmed dialog: its PRACK
	// goes there.
	fork := to
	if initial {
		fork = c.learnEarlyDialog(to, res)
	}
	if !r.enabled() {
		return c.relayResponse(fromSide, in, tx, res, true), false
	}
	rseq, farReliable := reliableRSeq(res)
	farReliable = farReliable && fork != nil
	if farReliable && !r.firstSight(toTag(res), rseq) {
		// RFC 3262 §4: a retransmission (our PRACK is on its way) or out
		// of order: discarded.
		return nil, false
	}
	reply, err := c.buildResponse(fromSide, in, res, true)
	if err != nil {
		c.log.Warn("SDP of a response not anchored", "status", res.StatusCode, "error", err)
		stripBody(reply)
	}
	supports, requires, lateOffer := r.modes()
	switch {
	case farReliable && supports:
		c.sendReliable(r, in, tx, reply, &reliable{far: fork, farRSeq: rseq, farCSeq: out.CSeq().SeqNo})
		return nil, true
	case farReliable:
		c.prackFar(to, fork, rAck{rseq: rseq, cseq: out.CSeq().SeqNo, method: sip.INVITE})
		c.s.respond(tx, in, reply)
		return reply, false
	case requires:
		if lateOffer {
			// The body of an unreliable provisional to an INVITE without
			// offer is no offer; made reliable it would become one that
			// the callee never made (RFC 3262 §5).
			stripBody(reply)
		}
		c.sendReliable(r, in, tx, reply, &reliable{})
		return nil, true
	default:
		c.s.respond(tx, in, reply)
		return reply, false
	}
}

func stripBody(m *sip.Response) {
	m.SetBody(nil)
	m.RemoveHeader("Content-Type")
}

// sendReliable sends reply reliably on the near leg (RFC 3262 §3): Require:
// 100rel and natsbc's RSeq, after the previous reliable provisional was
// acknowledged, retransmitted at T1 doubling until the PRACK comes or the
// INVITE has its final response. No PRACK within 64*T1 rejects the INVITE
// (the relay loop sends the 504).
func (c *call) sendReliable(r *reliability, in *sip.Request, tx sip.ServerTransaction, reply *sip.Response, p *reliable) {
	p.sdp = len(reply.Body()) > 0
	prev, final, refused := r.queue(p)
	reply.AppendHeader(sip.NewHeader("Require", "100rel"))
	reply.AppendHeader(sip.NewHeader("RSeq", strconv.FormatUint(uint64(p.rseq), 10)))
	c.s.goTracked(func() { c.retransmitReliable(r, in, tx, reply, p, prev, final, refused) })
}

func (c *call) retransmitReliable(r *reliability, in *sip.Request, tx sip.ServerTransaction, reply *sip.Response, p *reliable, prev, final, refused <-chan struct{}) {
	if prev != nil {
		select {
		case <-prev:
		case <-final:
			return
		case <-c.ended:
			return
		}
	}
	s := c.s
	send := func() { s.writeProvisional(tx, in, reply) }
	if !r.transmit(p, send) {
		return
	}
	interval := s.conf().T1
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	giveUp := time.NewTimer(64 * s.conf().T1)
	defer giveUp.Stop()
	for {
		select {
		case <-p.acked:
			return
		case <-refused:
			return
		case <-final:
			if !r.holdsFinal(p) {
				return
			}
			final = nil // the 2xx waits for this PRACK (awaitPracks)
		case <-c.ended:
			return
		case <-retransmit.C:
			if !r.transmit(p, send) {
				return
			}
			interval *= 2
			retransmit.Reset(interval)
		case <-giveUp.C:
			if r.holdsFinal(p) {
				c.log.Warn("no PRACK for a reliable provisional with SDP, sending the 2xx anyway", "leg", r.near.String(),
					"status", reply.StatusCode, "rseq", p.rseq, "sent_to", reply.Destination())
				return
			}
			r.noPrackFor(unPracked{status: reply.StatusCode, rseq: p.rseq, sentTo: reply.Destination()})
			return
		}
	}
}

// writeProvisional writes a reliable provisional straight to the INVITE
// transaction's connection. RFC 3262 §3 makes its retransmission the UAS
// core's; handed to sipgo's transaction it would become the response the
// transaction repeats on its own (Timer G), even in place of a final
// response that came after it.
func (s *Server) writeProvisional(tx sip.ServerTransaction, in *sip.Request, res *sip.Response) {
	conn, ok := tx.(interface{ Connection() sip.Connection })
	if !ok || conn.Connection() == nil {
		s.respond(tx, in, res)
		return
	}
	if err := conn.Connection().WriteMsg(res); err != nil {
		s.responseNotSent(in, res, err)
		return
	}
	s.tapStreamSent(res)
}

// rejectUnpracked answers the INVITE 504 when a reliable provisional was
// never PRACKed (RFC 3262 §3: "the UAS SHOULD reject the original request
// with a 5xx response"); the B-leg is then cancelled (p.stop).
func (c *call) rejectUnpracked(fromSide media.Leg, in *sip.Request, tx sip.ServerTransaction, u unPracked, initial bool) {
	c.log.Warn("no PRACK for a reliable provisional, rejecting the INVITE", "leg", fromSide.String(), "initial", initial,
		"status", u.status, "rseq", u.rseq, "sent_to", u.sentTo)
	c.answerCaller(in, tx, initial, 504, "Server Time-out")
}

// prackFar acknowledges a far reliable provisional natsbc does not relay
// (the caller does not use 100rel), on that fork's early dialog.
func (c *call) prackFar(to, fork *leg, rack rAck) {
	prack := fork.newInDialogRequest(sip.PRACK, to.nextCSeq())
	prack.AppendHeader(sip.NewHeader("RAck", rack.String()))
	c.s.goTracked(func() {
		ctx, cancel := context.WithTimeout(c.s.base, 64*c.cfg.T1)
		defer cancel()
		res, err := c.s.do(ctx, prack)
		switch {
		case err != nil:
			c.log.Info("PRACK not answered", "leg", to.side.String(), "to", prack.Destination(), "error", err)
		case !res.IsSuccess():
			c.log.Info("PRACK refused", "leg", to.side.String(), "status", res.StatusCode)
		}
	})
}

// handlePrack takes a PRACK (RFC 3262 §3) for one of natsbc's reliable
// provisionals: relayed to the fork whose reliable provisional it mapped,
// with that fork's RSeq, or answered by natsbc when the reliability was
// its own.
func (s *Server) handlePrack(req *sip.Request, tx sip.ServerTransaction) {
	c, fromSide, ok := s.findLeg(req, tx)
	if !ok {
		return
	}
	rack, ok := parseRAck(req)
	if !ok {
		s.replyStateless(req, tx, 400, "Bad RAck")
		return
	}
	r := &c.rel
	p := r.acknowledge(fromSide, rack)
	if p == nil {
		r = c.reRel.Load()
		p = r.acknowledge(fromSide, rack)
	}
	// Whatever happens to this PRACK, a 2xx waiting for its answer goes
	// once it is settled.
	defer r.prackAnswered(p)
	if p == nil {
		// RFC 3262 §3: a PRACK matching no unacknowledged reliable
		// provisional gets 481.
		s.replyStateless(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	if p.far == nil {
		if len(req.Body()) > 0 {
			c.log.Warn("offer in PRACK not relayed: the callee does not use 100rel", "leg", fromSide.String())
		}
		s.respond(tx, req, s.newResponse(req, 200, "OK"))
		return
	}
	to := c.leg(c.other(fromSide))
	out := p.far.newInDialogRequest(sip.PRACK, to.nextCSeq())
	out.AppendHeader(sip.NewHeader("RAck", rAck{rseq: p.farRSeq, cseq: p.farCSeq, method: sip.INVITE}.String()))
	// RFC 3262 §5: a PRACK may carry an offer or an answer.
	if !c.fillRelayed(fromSide, req, tx, out) {
		return
	}
	if _, reply := c.exchange(fromSide, req, tx, out, false); reply != nil {
		s.respond(tx, req, reply)
	}
}

// awaitPracks holds the caller's 2xx until the reliable provisionals with
// SDP natsbc sent it are PRACKed (RFC 3262 §3: "it MUST NOT send a final
// response until those provisional responses are acknowledged"), at most
// 64*T1 (their retransmission gives up then too). False: the caller
// CANCELled first, sipgo answered it 487, and the 2xx must not follow.
func (c *call) awaitPracks(r *reliability) bool {
	if !c.waitPracks(r.unacknowledgedSDP()) {
		return false
	}
	// A CANCEL that came with the last PRACK, or with no PRACK to wait
	// for, was answered 487 too.
	select {
	case <-c.cancel:
		return false
	default:
		return true
	}
}

// waitPracks waits for the acked channels; false when a CANCEL came first.
func (c *call) waitPracks(waits []chan struct{}) bool {
	if len(waits) == 0 {
		return true
	}
	giveUp := time.NewTimer(64 * c.cfg.T1)
	defer giveUp.Stop()
	for _, acked := range waits {
		select {
		case <-acked:
		case <-c.cancel:
			return false
		case <-c.ended:
			return true
		case <-giveUp.C:
			return true
		}
	}
	return true
}

// dropHeld2xx ends the call whose caller CANCELled while natsbc held its
// 2xx: the far leg's 2xx crossed that CANCEL. RFC 3261 §15: its dialog is
// ACKed (already, unless the answer was to come in the caller's ACK) and
// ended with BYE; the caller keeps its 487 and never gets the 2xx.
func (c *call) dropHeld2xx(fromSide media.Leg, to *leg, seq uint32, res *sip.Response, delayed bool) {
	c.log.Info("INVITE cancelled", "leg", fromSide.String(), "initial", true, "held_2xx", true)
	c.finalToCaller(true, false)
	if delayed {
		c.sendAck(to, seq, res, nil)
	}
	c.hangup("cancel", &fromSide, "")
}

// finalToCaller records, before natsbc sends it, the INVITE's final
// response to the near side: relayed, or natsbc's own (RFC 3262 §3: it
// ends the retransmission of reliable provisionals).
func (c *call) finalToCaller(initial, answered bool) {
	c.reliabilityOf(initial).finish(answered)
}

// answerCaller sends the near leg a final response natsbc makes itself
// (Timer C or B, the call's end, no PRACK): no reliable provisional
// follows it.
func (c *call) answerCaller(in *sip.Request, tx sip.ServerTransaction, initial bool, code int, reason string) {
	c.finalToCaller(initial, false)
	c.s.replyStateless(in, tx, code, reason)
}
