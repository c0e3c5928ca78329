package sbc

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// relayInvite carries an INVITE transaction from one leg to the other: the
// initial INVITE (A to B) or a re-INVITE from either side. It returns when
// the transaction on the "from" leg is over: answered with an error, or
// answered 2xx and ACKed (or given up on at 64*T1, which ends the call).
func (c *call) relayInvite(fromSide media.Leg, in *sip.Request, tx sip.ServerTransaction, out *sip.Request, initial bool) {
	s := c.s
	to := c.leg(c.other(fromSide))
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()

	otx, err := s.send(ctx, out)
	if err != nil && initial {
		otx = nil // sipgo returns a nil *tx inside the interface
		if c.tryNext(ctx, nil, &out, &otx) {
			err = nil
		}
	}
	if err != nil {
		c.log.Warn("INVITE not sent", "leg", to.side.String(), "to", out.Destination(), "error", err)
		c.answerCaller(in, tx, initial, 503, "Service Unavailable")
		if initial {
			c.end("rejected")
		}
		return
	}
	defer func() { otx.Terminate() }() // otx changes on a redirect or an RFC 3263 retry
	// 2xx retransmissions absorbed by the transaction (RFC 6026 Accepted
	// state) still need our ACK again.
	otx.OnRetransmission(func(res *sip.Response) { c.onRetransmitted2xx(to.side, res) })

	p := c.newPendingInvite(to, out)
	defer p.close()
	ring := c.newRingingPinhole(fromSide, initial)
	defer ring.stop()
	ended := c.ended
	rel := c.reliabilityOf(initial)
	for {
		select {
		case res := <-otx.Responses():
			switch {
			case res.IsProvisional():
				p.provisional(res.StatusCode)
				if res.StatusCode == 100 || p.stopping != "" {
					continue
				}
				ring.sent(c.relayProvisional(fromSide, in, tx, out, res, initial))
			case res.IsSuccess():
				if p.stopping != "" || c.isEnded() {
					c.unwanted2xx(to, p.out, res, initial)
					c.endInitial(initial, p.stopping)
					return
				}
				c.finalToCaller(initial, true)
				c.s.noteAuthOutcome(in, res)
				c.answered(fromSide, in, tx, p.out, res, initial)
				return
			default:
				// RFC 3263 §4.3: a 503 before the caller heard anything moves
				// the INVITE to the callee's next address.
				if initial && p.stopping == "" && !p.ringing && c.tryNext(ctx, res, &out, &otx) {
					p.redirected(out)
					continue
				}
				// RFC 4028 §7.4: a 422 asks for a longer session interval.
				if initial && p.stopping == "" && !p.ringing && c.retryTooBrief(ctx, res, &out, &otx) {
					p.redirected(out)
					continue
				}
				if initial && p.stopping == "" {
					if next, ntx := c.followRedirect(ctx, p, res); ntx != nil {
						otx.Terminate()
						otx, out = ntx, next
						otx.OnRetransmission(func(res *sip.Response) { c.onRetransmitted2xx(to.side, res) })
						p.redirected(out)
						continue
					}
				}
				if p.stopping == "" {
					c.finalToCaller(initial, false)
					c.s.noteAuthOutcome(in, res)
					c.relayFinal(fromSide, in, tx, res)
				}
				c.endInitial(initial, p.stopping, "rejected")
				return
			}
		case <-c.cancel:
			// sipgo already answered the near leg 487.
			c.log.Info("INVITE cancelled", "leg", fromSide.String(), "initial", initial, "far_proceeding", p.proceeding)
			c.finalToCaller(initial, false)
			p.stop("cancel")
		case u := <-rel.unpracked():
			if p.stopping == "" {
				c.rejectUnpracked(fromSide, in, tx, u, initial)
				p.stop("no-prack")
			}
		case <-ring.C():
			if p.stopping == "" {
				ring.refresh(c, in, tx)
			}
		case <-p.timerCFired():
			c.log.Info("Timer C fired: INVITE cancelled", "leg", to.side.String(), "to", p.out.Destination(), "timer_c", s.conf().TimerC.String())
			c.answerCaller(in, tx, initial, 408, "Request Timeout")
			p.stop("timer-c")
		case <-p.givenUp():
			c.log.Warn("CANCEL not followed by a final response: INVITE given up", "leg", to.side.String(), "to", p.out.Destination())
			c.endInitial(initial, p.stopping)
			return
		case <-otx.Done():
			if initial && p.stopping == "" && !p.ringing && c.tryNext(ctx, nil, &out, &otx) {
				p.redirected(out)
				continue
			}
			if p.stopping == "" {
				c.log.Info("INVITE timed out", "leg", to.side.String(), "to", p.out.Destination(), "error", otx.Err())
				c.answerCaller(in, tx, initial, 408, "Request Timeout")
			}
			c.endInitial(initial, p.stopping, "rejected")
			return
		case <-ended:
			if p.stopping == "" {
				p.stop("ended")
				// RFC 3261 §15.1.2: requests pending when the dialog
				// ends are answered, 487 recommended; a call that ends
				// before it is answered is refused.
				if initial {
					c.answerCaller(in, tx, initial, 503, "Service Unavailable")
				} else {
					s.replyStateless(in, tx, 487, "Request Terminated")
				}
			}
			if p.cancelSent {
				return
			}
			// RFC 3261 §9.1: the CANCEL waits for the far side's first
			// provisional. The loop stays for it, then for the final
			// (bounded by Timer B, or givenUp once the CANCEL is out).
			ended = nil
		case <-ctx.Done():
			return // natsbc is stopping
		}
	}
}

// endInitial ends the call when the INVITE was the initial one, for the
// first non-empty reason.
func (c *call) endInitial(initial bool, reasons ...string) {
	if !initial {
		return
	}
	for _, r := range reasons {
		if r != "" {
			c.end(r)
			return
		}
	}
}

// answered handles the 2xx of the relayed INVITE: natsbc ACKs the far leg
// itself, answers the near leg and waits for its ACK.
func (c *call) answered(fromSide media.Leg, in *sip.Request, tx sip.ServerTransaction, out *sip.Request, res *sip.Response, initial bool) {
	from, to := c.leg(fromSide), c.leg(c.other(fromSide))
	source := parseAddrPort(res.Source())
	if initial {
		to.mu.Lock()
		to.remoteTag = toTag(res)
		// RFC 3261 §13.2.2.4: the 2xx recomputes an early dialog's route set.
		to.routeSetFixed = false
		to.source = source
		to.mu.Unlock()
	}
	c.s.learnRoute(to, res, source, true)
	c.setConfirmed(to.side)
	seq := out.CSeq().SeqNo

	// Early offer: the far leg can be ACKed at once, so its 2xx stops
	// retransmitting whatever the near leg does. Delayed offer (no SDP in
	// the INVITE): the answer comes in the near leg's ACK.
	delayed := len(out.Body()) == 0 && len(res.Body()) > 0
	if !delayed {
		c.sendAck(to, seq, res, nil)
	}
	if initial {
		now := time.Now()
		c.answeredAt.Store(now.UnixNano())
		c.s.counts.callAnswered(peerName(c.a.peer), now.Sub(c.started))
	}
	if initial && c.infoEnabled() {
		r := to.routeInfo()
		c.log.Info("call answered", "status", res.StatusCode, "b_source", source.String(),
			"b_ack_to", to.nextHopOf(), "b_route_rule", r.Rule, "b_nat", r.Verdict)
	}

	reply, err := c.buildResponse(fromSide, in, res, true)
	if err != nil {
		// A 2xx cannot be refused: the far leg is ACKed (above, or here for
		// a delayed offer) and hung up; the near leg hears why.
		c.log.Warn("SDP of the answer not anchored", "leg", to.side.String(), "error", err)
		if delayed {
			c.sendAck(to, seq, res, nil)
		}
		rej := sdpReject(err)
		c.answerCaller(in, tx, initial, rej.Code, rej.Reason)
		if initial {
			c.hangup("rejected", &fromSide, `SIP;cause=488;text="SDP not anchored"`)
		}
		return
	}
	c.timersOn2xx(fromSide, in, res, reply)
	// RFC 3261 §13.3.1.4: the 2xx confirms the near dialog even if its ACK
	// never comes; such a session is then ended with BYE, on this leg too.
	c.setConfirmed(from.side)
	if initial && c.media != nil {
		c.media.Answered()
	}
	if !c.awaitPracks(c.reliabilityOf(initial)) {
		if initial {
			c.dropHeld2xx(fromSide, to, seq, res, delayed)
			return
		}
		// The near side CANCELled the re-INVITE and got 487 while its
		// 2xx waited for a PRACK: as for a 2xx that crossed natsbc's
		// CANCEL, the far leg is ACKed and keeps the session it answered.
		c.log.Warn("re-INVITE cancelled while its 2xx waited for a PRACK: far leg ACKed, keeps the session it answered",
			"leg", fromSide.String())
		if delayed {
			c.sendAck(to, seq, res, nil)
		}
		return
	}
	if initial {
		// RFC 3261 §14.2: the slot is the initial INVITE's until its final.
		c.endInitialInvite()
	}
	ack, err := c.sendFinal2xx(fromSide, in, tx, reply)
	if err != nil {
		if errors.Is(err, errNoAck) || errors.Is(err, errNotSent) {
			reason, why := "no-ack", `SIP;cause=408;text="no ACK for 2xx"`
			if errors.Is(err, errNotSent) {
				reason, why = c.twoxxNotSent(from, reply, err)
			} else {
				c.s.ops.acksMissing[fromSide].Add(1)
				c.diagnoseNoAck(from, reply)
			}
			if delayed {
				// The far leg waits for an ACK we cannot give it.
				c.sendAck(to, seq, res, nil)
			}
			c.hangup(reason, nil, why)
		}
		return
	}
	if delayed {
		c.sendAck(to, seq, res, ack)
	}
	if initial {
		c.startUpkeep()
	}
}

// relayResponse answers the near leg's INVITE with the far leg's response.
func (c *call) relayResponse(fromSide media.Leg, in *sip.Request, tx sip.ServerTransaction, res *sip.Response, provisional bool) *sip.Response {
	reply, err := c.buildResponse(fromSide, in, res, provisional)
	if err != nil {
		// Early media natsbc cannot anchor is not relayed: the response
		// goes on without its body rather than with the far side's addresses.
		c.log.Warn("SDP of a response not anchored", "status", res.StatusCode, "error", err)
		reply.SetBody(nil)
		reply.RemoveHeader("Content-Type")
	}
	c.s.respond(tx, in, reply)
	return reply
}

// buildResponse maps a far-leg response onto the near leg: the near leg's
// Via/From/To/Call-ID/CSeq (and natsbc's tag), end-to-end headers and the
// body rewritten for the near leg, natsbc's own Contact on dialog-creating
// responses.
func (c *call) buildResponse(fromSide media.Leg, in *sip.Request, res *sip.Response, withContact bool) (*sip.Response, error) {
	near := c.leg(fromSide)
	reply := c.s.newResponse(in, res.StatusCode, res.Reason)
	copyEndToEnd(reply, res, c.leg(c.other(fromSide)).peerOf())
	if withContact && res.StatusCode > 100 && res.StatusCode < 300 {
		reply.AppendHeader(near.contactHeader())
	}
	if body := res.Body(); len(body) > 0 {
		rewritten, err := c.rewriteSDP(c.other(fromSide), res, near.face().adv.Addr())
		if err != nil {
			return reply, err
		}
		setBody(reply, contentType(res), rewritten)
	}
	return reply, nil
}

// sendCancel cancels the far leg's pending INVITE (RFC 3261 §9.1): same
// R-URI, Call-ID, From, To, CSeq number and top Via as the INVITE.
func (c *call) sendCancel(to *leg, invite *sip.Request) {
	cancelReq := sip.NewRequest(sip.CANCEL, *invite.Recipient.Clone())
	cancelReq.AppendHeader(sip.HeaderClone(invite.Via()))
	for _, h := range invite.GetHeaders("Route") {
		cancelReq.AppendHeader(sip.HeaderClone(h))
	}
	cancelReq.AppendHeader(sip.HeaderClone(invite.From()))
	cancelReq.AppendHeader(sip.HeaderClone(invite.To()))
	cancelReq.AppendHeader(sip.HeaderClone(invite.CallID()))
	cancelReq.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	cancelReq.AppendHeader(&mf)
	cancelReq.SetBody(nil)
	to.address(cancelReq, invite.Destination())
	c.s.goTracked(func() {
		ctx, cancel := context.WithTimeout(c.s.base, 32*c.cfg.T1)
		defer cancel()
		if _, err := c.s.do(ctx, cancelReq); err != nil {
			c.log.Info("CANCEL not answered", "leg", to.side.String(), "error", err)
		}
	})
}

// ackAndBye closes a dialog natsbc does not want (a 2xx after CANCEL, or
// from a second fork): RFC 3261 §13.2.2.4 requires the ACK, then BYE.
func (c *call) ackAndBye(to *leg, invite *sip.Request, res *sip.Response) {
	orphan := to.sibling(toTag(res))
	c.s.learnRoute(orphan, res, parseAddrPort(res.Source()), true)
	c.sendAck(orphan, invite.CSeq().SeqNo, res, nil)
	bye := orphan.newInDialogRequest(sip.BYE, 0)
	ctx, cancel := context.WithTimeout(c.s.base, 32*c.cfg.T1)
	defer cancel()
	if _, err := c.s.do(ctx, bye); err != nil {
		c.log.Info("BYE of unwanted dialog not answered", "error", err)
	}
}
