package sbc

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// Subscriptions (RFC 6665) cross natsbc as B2BUA dialogs, like calls: the
// subscriber's dialog with natsbc (A-leg) and natsbc's own with the
// notifier (B-leg), each with its own Call-ID, tags and CSeq. They live in
// the call table, so in-dialog SUBSCRIBE (refresh, un-subscribe) and
// NOTIFY are relayed leg to leg by handleInDialog, and a NOTIFY reaches
// the subscriber over the flow its SUBSCRIBE came on (its NAT pinhole or
// TCP connection). Event packages are opaque and bodies cross untouched.

// defaultSubscriptionExpires stands in for a 2xx without Expires: the
// interval most event packages default to (RFC 3842 §4.2, RFC 4235 §4.2).
const defaultSubscriptionExpires = 3600

// subscription is the part of a call that makes it a subscription: when
// natsbc forgets it.
type subscription struct {
	event string
	mu    sync.Mutex
	timer *time.Timer
}

// handleSubscribe starts a subscription (no To tag) or relays a refresh or
// un-subscribe in one (RFC 6665 §4.1.2.2).
func (s *Server) handleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if toTag(req) != "" {
		s.handleInDialog(req, tx)
		return
	}
	source := parseAddrPort(req.Source())
	peer := s.policy.Classify(source.Addr())
	next, err := s.calleeHop(req, peer)
	if err != nil {
		s.refuseOutOfDialog(req, tx, err)
		return
	}
	a, b, err := s.newLegPair(req, tx, source, peer, next)
	if err != nil {
		s.refuseOutOfDialog(req, tx, err)
		return
	}
	ms, _ := media.Passthrough{}.NewSession(a.callID, nil)
	c := newCall(s, a, b, ms)
	c.sub = &subscription{}
	if ev := req.GetHeader("Event"); ev != nil {
		c.sub.event = ev.Value()
	}
	// In the table before the SUBSCRIBE leaves: the notifier's first NOTIFY
	// may come before its 2xx (RFC 6665 §4.1.2.4).
	s.calls.add(c)
	c.log.Info("subscription started", "event", c.sub.event, "from", req.From().Address.String(),
		"to", req.Recipient.String(), "source", source.String(), "route", next.rule, "b_next_hop", b.nextHop)

	out := s.firstRequestOn(b, a, req)
	ctx, cancel := context.WithTimeout(s.base, 64*s.conf().T1)
	defer cancel()
	res, err := s.do(ctx, out)
	if err != nil {
		c.log.Info("SUBSCRIBE not answered", "to", out.Destination(), "error", err)
		s.replyStateless(req, tx, 408, "Request Timeout")
		c.end("subscribe-timeout")
		return
	}
	if res.IsSuccess() {
		source := parseAddrPort(res.Source())
		b.mu.Lock()
		if b.remoteTag == "" {
			b.remoteTag = toTag(res)
		}
		b.source = source
		b.mu.Unlock()
		s.learnRoute(b, res, source, true)
	}
	reply, _ := c.buildResponse(media.LegA, req, res, true)
	copySubscriptionExpires(reply, res)
	s.respond(tx, req, reply)
	c.subscriptionAnswered(req, res)
}

// noteSubscriptionRequest is called for a request relayed in a
// subscription: a NOTIFY that comes before the 2xx to the SUBSCRIBE
// creates the notifier's dialog (RFC 6665 §4.1.2.4), its From tag the
// B-leg's remote tag.
func (c *call) noteSubscriptionRequest(fromSide media.Leg, req *sip.Request) {
	if c.sub == nil || req.Method != sip.NOTIFY || fromSide != media.LegB {
		return
	}
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.remoteTag == "" {
		b.remoteTag = fromTag(req)
	}
}

// subscriptionAnswered updates when natsbc forgets a subscription after
// req, a request of it (SUBSCRIBE or NOTIFY, either way), was answered
// with res:
//   - a failed initial SUBSCRIBE, a 481 to anything, a NOTIFY whose
//     Subscription-State is terminated (RFC 6665 §4.1.3): now;
//   - a 2xx to SUBSCRIBE: its Expires (§4.1.2.1), plus a grace;
//   - a NOTIFY: its Subscription-State expires parameter, plus a grace.
func (c *call) subscriptionAnswered(req *sip.Request, res *sip.Response) {
	if c.sub == nil {
		return
	}
	method := req.Method
	switch {
	case res.StatusCode == 481:
		c.end("subscription-gone")
		return
	case method == sip.SUBSCRIBE && !res.IsSuccess() && !c.subscriptionConfirmed():
		c.end("subscribe-refused")
		return
	case method == sip.SUBSCRIBE && res.IsSuccess():
		secs, ok := expiresOf(res)
		if !ok {
			// §4.1.2.1 makes Expires mandatory in the 2xx; without it,
			// natsbc keeps the subscription as long as the usual default.
			secs = defaultSubscriptionExpires
		}
		c.expireSubscriptionIn(time.Duration(secs) * time.Second)
	case method == sip.NOTIFY:
		state, secs, ok := subscriptionState(req)
		if state == "terminated" {
			c.end("subscription-terminated")
			return
		}
		if ok {
			c.expireSubscriptionIn(time.Duration(secs) * time.Second)
		}
	}
}

// subscriptionConfirmed: the notifier has a dialog with natsbc.
func (c *call) subscriptionConfirmed() bool {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.b.remoteTag != ""
}

// expireSubscriptionIn (re)arms the timer that forgets the subscription.
func (c *call) expireSubscriptionIn(d time.Duration) {
	sub := c.sub
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if c.isEnded() {
		return
	}
	if sub.timer != nil {
		sub.timer.Stop()
	}
	// A grace of 64*T1 (32 s) past the expiry: the endpoints' own refresh
	// and final NOTIFY race their timers too.
	sub.timer = time.AfterFunc(d+64*c.cfg.T1, func() { c.end("subscription-expired") })
}

// stop ends the expiry timer: the subscription is over.
func (sub *subscription) stop() {
	if sub == nil {
		return
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.timer != nil {
		sub.timer.Stop()
	}
}

// expiresOf is the Expires header of a response to SUBSCRIBE.
func expiresOf(res *sip.Response) (int, bool) {
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			return n, true
		}
	}
	return 0, false
}

// subscriptionState reads a NOTIFY's Subscription-State (RFC 6665 §8.2.3):
// "active;expires=3600", "terminated;reason=timeout".
func subscriptionState(req *sip.Request) (state string, expires int, ok bool) {
	h := req.GetHeader("Subscription-State")
	if h == nil {
		return "", 0, false
	}
	parts := strings.Split(h.Value(), ";")
	state = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "expires") {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
				return state, n, true
			}
		}
	}
	return state, 0, false
}

// copySubscriptionExpires carries a SUBSCRIBE's Expires, and the one of
// its response, across natsbc: the duration the subscriber asks for and
// the notifier grants (RFC 6665 §4.1.2.1, §4.2.1.1). The header table
// keeps Expires off calls (registerExpiry), so subscriptions carry it
// here.
func copySubscriptionExpires(dst, src sip.Message) {
	if src.CSeq() == nil || src.CSeq().MethodName != sip.SUBSCRIBE {
		return
	}
	if hs := src.GetHeaders("Expires"); len(hs) > 0 {
		dst.AppendHeader(sip.HeaderClone(hs[0]))
	}
}
