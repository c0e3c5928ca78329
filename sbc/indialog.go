package sbc

import (
	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// findLeg returns the call and leg a request arrived on, or answers 481
// (RFC 3261 §12.2.2) when it belongs to no dialog natsbc knows.
func (s *Server) findLeg(req *sip.Request, tx sip.ServerTransaction) (*call, media.Leg, bool) {
	c, side, ok := s.calls.lookup(callID(req), toTag(req))
	if !ok {
		s.replyStateless(req, tx, 481, "Call/Transaction Does Not Exist")
		return nil, 0, false
	}
	return c, side, true
}

// handleInDialog relays a request of one leg's dialog onto the other leg:
// re-INVITE, UPDATE, INFO, REFER, NOTIFY, MESSAGE and in-dialog OPTIONS.
// Each leg keeps its own CSeq space; the final response comes back mapped
// onto the first leg.
func (s *Server) handleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	c, fromSide, ok := s.findLeg(req, tx)
	if !ok {
		return
	}
	if !c.checkRemoteCSeq(fromSide, req, tx) {
		return
	}
	from, to := c.leg(fromSide), c.leg(c.other(fromSide))
	if (req.IsInvite() || req.Method == sip.UPDATE) && s.reject422(req, tx) {
		return
	}
	if req.IsInvite() && c.cfg.Disable100rel && hasToken(req, "Require", "100rel") {
		// RFC 3262 §3: with 100rel turned off, natsbc cannot send
		// reliable provisionals (RFC 3261 §8.2.2.3).
		res := s.newResponse(req, 420, "Bad Extension")
		res.AppendHeader(sip.NewHeader("Unsupported", "100rel"))
		s.respond(tx, req, res)
		return
	}
	if req.IsInvite() {
		if ok, busyFrom := c.beginInvite(fromSide); !ok {
			c.refusePending(fromSide, busyFrom, req, tx)
			return
		}
		defer c.endInvite()
		c.watchCancel(tx)
	}
	if carriesOffer(req) {
		if !c.beginOffer(fromSide, req, tx) {
			return
		}
		defer c.endOffer()
	}
	if refreshesTarget(req.Method) && firstContact(req) != nil {
		// A target refresh moves the remote target, under the same
		// Contact-fixing rule as the dialog's first message.
		s.learnRoute(from, req, parseAddrPort(req.Source()), false)
	}

	c.noteSubscriptionRequest(fromSide, req)
	out := to.newInDialogRequest(req.Method, 0)
	if !c.fillRelayed(fromSide, req, tx, out) || !c.relayTransfer(fromSide, req, tx, out) {
		return
	}
	copySubscriptionExpires(out, req)
	c.offerTimers(to.side, out, true)
	c.log.Debug("in-dialog request relayed", "method", req.Method, "from_leg", fromSide.String(), "to", out.Destination())

	if req.IsInvite() {
		if !c.cfg.Disable100rel {
			defer c.startReInviteReliability(fromSide, req, out)()
		}
		c.relayInvite(fromSide, req, tx, out, false)
		return
	}
	// RFC 6665 §4.1.2.1: a 2xx to SUBSCRIBE carries a Contact, like UPDATE's.
	res, reply := c.exchange(fromSide, req, tx, out, req.Method == sip.UPDATE || req.Method == sip.SUBSCRIBE)
	if res == nil {
		return
	}
	c.timersOn2xx(fromSide, req, res, reply)
	copySubscriptionExpires(reply, res)
	s.respond(tx, req, reply)
	c.subscriptionAnswered(req, res)
}

// handleBye ends the call: the sender gets 200 at once (its dialog is over
// whatever the other side says), the other leg gets natsbc's BYE.
func (s *Server) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	c, fromSide, ok := s.findLeg(req, tx)
	if !ok {
		return
	}
	if !c.checkRemoteCSeq(fromSide, req, tx) {
		return
	}
	s.respond(tx, req, s.newResponse(req, 200, "OK"))
	c.hangup("bye-from-"+fromSide.String(), &fromSide, "")
}

// handleStrayCancel answers a CANCEL that matches no pending INVITE (RFC
// 3261 §9.2): sipgo matches the ones that do before this handler runs.
func (s *Server) handleStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.replyStateless(req, tx, 481, "Call/Transaction Does Not Exist")
}
