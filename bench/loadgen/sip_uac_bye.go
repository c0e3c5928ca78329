package loadgen

import (
	"net/netip"
	"time"
)

// bye ends an answered call (RFC 3261 §15.1.1): CSeq above the INVITE's,
// through the route set, retransmitted on Timer E until a final response
// or Timer F (64·T1).
func (u *uac) bye(c *uacCall, now time.Time) {
	ruri, routes, dest, err := u.next(c)
	if err != nil {
		u.byeResolved(c, false)
		return
	}
	req := request{method: "BYE", ruri: ruri, via: via(u.local(), u.branch(c.n, 'b')),
		from: c.from, to: c.to, callID: c.callID, cseq: 2, routes: routes}
	msg := req.build()
	u.ep.send(msg, dest)
	c.state = uacByeing
	t := u.ep.timers
	c.bye.start(msg, dest, now, t.T1, t.T2, 64*t.T1, func() { u.byeResolved(c, false) })
	u.ep.retransmit(&c.bye)
}

func (u *uac) byeResponse(c *uacCall, m *sipMessage, now time.Time) {
	if c.state != uacByeing {
		return
	}
	if m.status < 200 {
		c.bye.slowDown(now, u.ep.timers.T2)
		return
	}
	c.bye.stop()
	u.byeResolved(c, m.status < 300)
}

// byeResolved ends the call; only BYEs of the tear-down count towards its
// wait (a late call's BYE is not waited for).
func (u *uac) byeResolved(c *uacCall, ok bool) {
	c.state = uacEnded
	if c.late {
		return
	}
	if !ok {
		u.byeFailed++
	}
	u.byeLeft--
	if u.byeLeft == 0 && u.byeDone != nil {
		close(u.byeDone)
	}
}

// startTeardown counts the calls that need a BYE and returns them; the
// caller then paces bye() over them and waits on byeDone.
func (u *uac) startTeardown() []*uacCall {
	u.ep.mu.Lock()
	defer u.ep.mu.Unlock()
	var answered []*uacCall
	for _, c := range u.calls {
		if c != nil && c.state == uacAnswered {
			answered = append(answered, c)
		}
	}
	u.byeLeft = len(answered)
	u.byeDone = make(chan struct{})
	if u.byeLeft == 0 {
		close(u.byeDone)
	}
	return answered
}

// byeOne sends the BYE of c unless the far side ended it meanwhile.
func (u *uac) byeOne(c *uacCall, now time.Time) {
	u.ep.mu.Lock()
	defer u.ep.mu.Unlock()
	if c.state == uacAnswered {
		u.bye(c, now)
	}
}

// handleRequest answers what the far side sends within a call: a BYE (a
// relay ending the call, e.g. for media timeout) or an OPTIONS ping gets
// 200; anything else 501 (§8.2.1: a method the UA does not support).
func (u *uac) handleRequest(m *sipMessage, src netip.AddrPort) {
	switch m.method {
	case "ACK":
		return
	case "BYE":
		c := u.byCallID[m.callID]
		if c == nil {
			u.ep.send(response(m, 481, "Call/Transaction Does Not Exist", "", "", ""), src)
			return
		}
		u.ep.send(response(m, 200, "OK", "", "", ""), src)
		switch c.state {
		case uacAnswered:
			u.remoteBye++
			c.state = uacEnded
			// A tear-down in progress already counted this call.
			if u.byeDone != nil {
				u.byeResolved(c, true)
			}
		case uacByeing:
			// Both sides hung up at once: ours still gets its response.
		}
	case "OPTIONS":
		u.ep.send(response(m, 200, "OK", "", "", ""), src)
	default:
		u.ep.send(response(m, 501, "Not Implemented", "", "", ""), src)
	}
}
