package sbc

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// The call's side of the upkeep: the hooks the INVITE and in-dialog paths
// call, and the requests the upkeep loop sends.

// startUpkeep runs the call's upkeep loop from its answer (ACK) on.
func (c *call) startUpkeep() {
	plan := upkeepPlan{interval: c.cfg.Keepalive.Interval, maxMissed: c.cfg.Keepalive.MaxMissed}
	for _, side := range []media.Leg{media.LegA, media.LegB} {
		plan.nated[side] = c.leg(side).holdsPinhole()
	}
	c.s.goTracked(func() { c.up.run(c.s.base, c.ended, plan, callUpkeep{c}, c.log) })
}

// holdsPinhole says whether natsbc's requests on this leg cross a NAT
// pinhole natsbc must keep open: they go to the flow the peer's messages
// came from (its Contact was fixed), or the peer is a NATed end-point
// reached straight, e.g. a registered phone that advertises its mapped
// address. A PBX or proxy on a private network is "NATed" to the checks
// but stays in the path: its Contact is where it listens, no pinhole.
func (l *leg) holdsPinhole() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.route.Fixed {
		return true
	}
	return l.nated && len(l.routeSet) == 0 && !l.peer.Role.Forwards() && l.peer.NAT != policy.NATNever
}

// offerTimers puts natsbc's session timer on an INVITE or UPDATE natsbc
// relays onto leg to (the initial B-leg INVITE when !established).
func (c *call) offerTimers(to media.Leg, out *sip.Request, established bool) {
	if out.Method == sip.INVITE || out.Method == sip.UPDATE {
		c.cfg.offerTimerHeaders(out, c.up.timer(to), established)
	}
}

// timersOn2xx takes a relayed INVITE or UPDATE's 2xx as a refresh of both
// legs (RFC 4028 §10): the far leg's timer is what its 2xx says, the near
// leg's what natsbc answers to its request, written onto reply.
func (c *call) timersOn2xx(fromSide media.Leg, in *sip.Request, res, reply *sip.Response) {
	if !res.IsSuccess() || !reply.IsSuccess() || (in.Method != sip.INVITE && in.Method != sip.UPDATE) {
		return
	}
	far := c.other(fromSide)
	c.up.set(far, c.cfg.offerTimer(res, c.up.timer(far)))
	near := c.cfg.answerTimer(in, c.up.timer(fromSide))
	c.up.set(fromSide, near)
	answerTimerHeaders(reply, near)
	c.up.refreshed(far)
	c.up.refreshed(fromSide)
}

// callUpkeep is upkeepIO on a real call.
type callUpkeep struct{ c *call }

func (u callUpkeep) spawn(f func()) { u.c.s.goTracked(f) }

func (u callUpkeep) end(reason string, skip *media.Leg, why string) {
	u.c.s.goTracked(func() {
		if !u.c.isEnded() { // a BYE or the drain may have come first
			u.c.hangup(reason, skip, why)
		}
	})
}

// refresh refreshes a leg's session (RFC 4028 §7.4): an UPDATE without
// SDP where the peer allows UPDATE, else a re-INVITE offering the SDP
// natsbc last sent on that leg again.
func (u callUpkeep) refresh(ctx context.Context, side media.Leg, update bool) outcome {
	c, s, l := u.c, u.c.s, u.c.leg(side)
	ctx, cancel := context.WithTimeout(ctx, 64*s.conf().T1)
	defer cancel()
	t := c.up.timer(side)
	method := sip.UPDATE
	if !update {
		// natsbc's re-INVITE goes to this leg as one from the other
		// side would: the peer's crossing re-INVITE gets 491. It is an
		// offer too (RFC 3264 §4: one outstanding at a time), so it waits
		// for any offer of the call in flight, and one crossing it gets
		// 491 or 500 (RFC 3311 §5.2).
		if ok, _ := c.beginInvite(c.other(side)); !ok {
			return c.refreshDeferred(side)
		}
		defer c.endInvite()
		if ok, _ := c.claimOffer(c.other(side)); !ok {
			return c.refreshDeferred(side)
		}
		defer c.endOffer()
		method = sip.INVITE
	}
	req, res, err := c.sendRefresh(ctx, l, method, t)
	for retried := false; ; retried = true {
		// RFC 4028 §7.3, §7.4: a 422 names the peer's Min-SE, kept for
		// every later request on the leg; natsbc asks again at once, once,
		// for at least that, in a new transaction.
		floor := tooBriefFloor(req, res)
		if floor == 0 {
			break
		}
		t = c.up.raiseFloor(side, floor)
		if retried {
			break
		}
		c.log.Info("session refresh: interval too small for the peer, retrying", "leg", side.String(), "min_se", floor.String())
		req, res, err = c.sendRefresh(ctx, l, method, t)
	}
	out := refreshOutcome(res, err, update)
	if out == answered {
		if firstContact(res) != nil {
			// RFC 3261 §12.2.1.2, RFC 3311 §5.1: a target refresh.
			s.learnRoute(l, res, parseAddrPort(res.Source()), true)
		}
		if !update {
			c.sendAck(l, req.CSeq().SeqNo, res, nil)
		}
		c.up.set(side, c.cfg.offerTimer(res, t))
	}
	c.log.Debug("session refreshed by natsbc", "leg", side.String(), "method", method, "outcome", out.String())
	return out
}

// sendRefresh sends one refresh request on leg l: an UPDATE without SDP,
// or a re-INVITE offering the SDP natsbc last sent on that leg again.
func (c *call) sendRefresh(ctx context.Context, l *leg, method sip.RequestMethod, t legTimer) (*sip.Request, *sip.Response, error) {
	req := l.newInDialogRequest(method, 0)
	if method == sip.INVITE {
		ct, body := c.up.lastSDP(l.side)
		setBody(req, ct, body)
	}
	c.cfg.offerTimerHeaders(req, t, true)
	res, err := c.s.do(ctx, req)
	return req, res, err
}

func (c *call) refreshDeferred(side media.Leg) outcome {
	c.log.Debug("session refresh deferred: an INVITE or offer of the call is pending", "leg", side.String())
	return busy
}

func refreshOutcome(res *sip.Response, err error, update bool) outcome {
	switch {
	case err != nil || res == nil:
		return noAnswer
	case res.IsSuccess():
		return answered
	case res.StatusCode == 481 || res.StatusCode == 408:
		return gone
	case update && (res.StatusCode == 405 || res.StatusCode == 501):
		return noUpdate
	}
	return refused
}

// keepalive keeps a NATed leg's flow open: a CRLF datagram ("crlf" method,
// UDP) or an in-dialog OPTIONS. Any answer proves the flow works both ways
// (a 405 or 404 too); 481 and 408 say the peer's dialog is gone (RFC 3261
// §12.2.1.2).
func (u callUpkeep) keepalive(ctx context.Context, side media.Leg) outcome {
	c, s, l := u.c, u.c.s, u.c.leg(side)
	hop, face := parseAddrPort(l.nextHopOf()), l.face()
	if sent, err := s.crlfKeepalive(face.transport, face.sock, hop); sent {
		if err != nil {
			return noAnswer
		}
		return answered
	}
	ctx, cancel := context.WithTimeout(ctx, s.keepaliveWait())
	defer cancel()
	// The leg carried the call: its flow is proven to receive.
	res, err := s.keepaliveRequest(ctx, l.newInDialogRequest(sip.OPTIONS, 0), true)
	switch {
	case err != nil || res == nil:
		return noAnswer
	case res.StatusCode == 481 || res.StatusCode == 408:
		c.log.Info("call keepalive answered", "leg", side.String(), "status", res.StatusCode)
		return gone
	}
	return answered
}
