package sbc

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

var (
	errNoAck     = errors.New("no ACK for 2xx within 64*T1")
	errCallEnded = errors.New("call ended")
)

// retransmitted is how many 2xx copies after our ACK earn a warning.
const retransmitted = 3

// sendAck ACKs a 2xx on leg l (RFC 3261 §13.2.2.4): a new transaction to
// the dialog's next hop (route set, or the Contact, or — for a NATed
// end-point or a nat: always peer — the flow the 2xx came from), from the
// leg's own socket. It is kept so every retransmitted 2xx gets it again.
// answer is the near leg's ACK carrying the SDP answer of a delayed offer
// (nil otherwise).
func (c *call) sendAck(l *leg, seq uint32, res *sip.Response, answer *sip.Request) {
	ack := l.newInDialogRequest(sip.ACK, seq)
	if answer != nil && len(answer.Body()) > 0 {
		rewritten, err := c.rewriteSDP(c.other(l.side), answer, l.face().adv.Addr())
		if err != nil {
			// An ACK cannot be refused: the far leg gets no answer, and
			// its offer stays unanswered until the call is re-negotiated.
			c.log.Warn("SDP in ACK not anchored", "leg", l.side.String(), "error", err)
			rewritten = nil
		}
		setBody(ack, contentType(answer), rewritten)
	}
	c.rememberAck(l.side, seq, toTag(res), ack)
	c.writeAck(l, ack)
}

func (c *call) writeAck(l *leg, ack *sip.Request) {
	// The same ACK is re-sent from whichever goroutine saw a 2xx copy, and
	// sipgo writes into a request while sending it: one at a time.
	c.ackMu.Lock()
	err := c.s.writeAck(ack)
	c.ackMu.Unlock()
	if err != nil {
		c.log.Warn("ACK not sent", "leg", l.side.String(), "to", ack.Destination(), "error", err)
		return
	}
	r := l.routeInfo()
	c.log.Debug("ACK sent", "leg", l.side.String(), "to", ack.Destination(), "route_rule", r.Rule)
}

// onRetransmitted2xx re-sends our ACK for a 2xx the far side repeats: it
// has not seen our ACK (yet). Repeated retransmissions mean our ACK does
// not reach it; that is worth a warning that names where it went.
func (c *call) onRetransmitted2xx(side media.Leg, res *sip.Response) {
	if res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE {
		return
	}
	c.mu.Lock()
	sent, ok := c.sentAcks[ackKey{side, res.CSeq().SeqNo}]
	resent := 0
	if ok {
		sent.resent++
		resent = sent.resent
	}
	c.mu.Unlock()
	if !ok {
		return
	}
	if sent.toTag != toTag(res) {
		// Another fork answered: it gets its own ACK and BYE.
		c.log.Info("2xx from another fork", "leg", side.String(), "to_tag", toTag(res))
		c.s.goTracked(func() { c.ackAndBye(c.leg(side), sent.ack, res) })
		return
	}
	c.s.ops.peer2xx[side].Add(1)
	l := c.leg(side)
	c.writeAck(l, sent.ack)
	if resent == retransmitted {
		r := l.routeInfo()
		c.log.Warn("peer keeps retransmitting its 2xx: natsbc's ACK does not reach it",
			"leg", side.String(), "ack_to", sent.ack.Destination(), "contact", r.Contact,
			"source", r.Source, "route_rule", r.Rule)
	}
}

// sendFinal2xx answers the near leg with a 2xx and retransmits it until the
// ACK arrives (RFC 3261 §13.3.1.4: T1, doubling up to T2), giving up at
// 64*T1. sipgo's server transaction does not retransmit a 2xx itself
// (RFC 6026 §7.1 leaves it to the core).
func (c *call) sendFinal2xx(side media.Leg, in *sip.Request, tx sip.ServerTransaction, reply *sip.Response) (*sip.Request, error) {
	s := c.s
	seq := in.CSeq().SeqNo
	wait := c.expectAck(side, seq)
	defer c.forgetAck(side, seq)

	err := s.respond(tx, in, reply)
	if permanentSendError(err) {
		return nil, fmt.Errorf("%w: %w", errNotSent, err)
	}
	// sent: some copy left natsbc, so a missing ACK is the peer's story.
	sent, lastErr := err == nil, err
	interval := s.conf().T1
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	giveUp := time.NewTimer(64 * s.conf().T1)
	defer giveUp.Stop()
	for {
		select {
		case ack := <-wait:
			return ack, nil
		case ack := <-tx.Acks():
			// An ACK reusing the INVITE's branch matches the transaction.
			return ack, nil
		case <-retransmit.C:
			err := tx.Respond(reply)
			if err != nil {
				// The transaction is gone (TCP terminates it early): the
				// 2xx still has to reach the peer.
				err = s.ua.TransportLayer().WriteMsg(reply)
			}
			if err == nil {
				s.ops.resent2xx[side].Add(1)
				s.tapStreamSent(reply)
			}
			sent, lastErr = sent || err == nil, cmp.Or(err, lastErr)
			interval = min(2*interval, s.conf().T2)
			retransmit.Reset(interval)
		case <-giveUp.C:
			if !sent {
				return nil, fmt.Errorf("%w: %w", errNotSent, lastErr)
			}
			return nil, errNoAck
		case <-c.ended:
			return nil, errCallEnded
		}
	}
}

// diagnoseNoAck says, in one line, why a 2xx was never ACKed: where the 2xx
// went, what the peer's own headers said, and which rule chose the route.
func (c *call) diagnoseNoAck(l *leg, reply *sip.Response) {
	r := l.routeInfo()
	hint := "the peer's ACK is addressed to natsbc's Contact " + l.contactHeader().Address.String() + "; if it never came, the peer could not reach that address or never received the 2xx"
	c.s.callEvent(c, l, reply, map[string]string{"event": "no-ack", "leg": l.side.String(), "sent_to": reply.Destination(),
		"contact": r.Contact, "source": r.Source, "nat": r.Verdict, "route_rule": r.Rule, "hint": hint})
	// The engine of `natsbc trace`, on what natsbc recorded of the call.
	var verdict []any
	if d, ok := c.s.diagnosisOf(c, l); ok {
		verdict = []any{"diagnosis", string(d.Verdict), "diagnosis_cause", string(d.Cause), "diagnosis_rule", d.Rule}
	}
	c.log.Warn("no ACK for 2xx, ending call", append([]any{
		"leg", l.side.String(),
		"sent_to", reply.Destination(),
		"contact", r.Contact,
		"via", r.Via,
		"source", r.Source,
		"nat", r.Verdict,
		"route_rule", r.Rule,
		"waited", (64 * c.cfg.T1).String(),
		"hint", hint,
	}, verdict...)...)
}

// handleAck takes ACKs for 2xx (their own transactions, RFC 3261 §17.1.1.3)
// and hands them to the call waiting for them. ACKs for non-2xx are
// absorbed by sipgo's server transaction and never reach here.
func (s *Server) handleAck(req *sip.Request, _ sip.ServerTransaction) {
	c, side, ok := s.calls.lookup(callID(req), toTag(req))
	if !ok {
		s.log.Debug("ACK for no call", "call_id", callID(req))
		return
	}
	if !c.deliverAck(side, req) {
		c.log.Debug("ACK retransmission absorbed", "leg", side.String())
		return
	}
	// The ACK carries the To tag natsbc sent only in its 2xx to this leg's
	// address: an ACK from that address proves it receives there.
	if src := parseAddrPort(req.Source()); src == c.leg(side).source && strings.EqualFold(req.Transport(), "UDP") {
		s.shield.Prove(src.Addr())
	}
}

// onStrayResponse gets responses no transaction matches: answers to the
// keepalives natsbc sends without one (keepalive_once.go), and 2xx
// retransmissions after the INVITE client transaction is gone, each of
// which gets our ACK again.
func (s *Server) onStrayResponse(res *sip.Response) {
	if s.pings.answer(res) {
		return
	}
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE {
		return
	}
	c, side, ok := s.calls.lookup(callID(res), fromTag(res))
	if !ok {
		return
	}
	c.onRetransmitted2xx(side, res)
}
