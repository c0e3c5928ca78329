package loadgen

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

type uacState uint8

const (
	uacInviting   uacState = iota // INVITE sent, no response yet
	uacProceeding                 // a provisional response came
	uacAnswered                   // 2xx came and was ACKed: a dialog
	uacFailed                     // final error or timeout, no dialog
	uacByeing                     // BYE sent, no final response yet
	uacEnded
)

// uacCall is one call as the caller (side A) sees it.
type uacCall struct {
	n          int
	state      uacState
	callID     string
	from, to   string // to carries the callee's tag once answered
	inviteVia  string
	invite     retransmit // Timer A
	setupTimer retransmit // the set-up timeout (sends nothing)
	sentAt     time.Time
	route      routeSet
	ack        []byte
	ackDest    netip.AddrPort
	media      netip.AddrPort // where this call's A→B RTP goes
	bye        retransmit     // Timer E
	late       bool           // answered after its set-up timed out: BYEd at once
}

// uac places the calls: INVITE to the target, ACK for the 2xx through the
// route set, BYE at the end (RFC 3261 §12, §13.2.2.4, §15.1.1).
type uac struct {
	ep           *endpoint
	tracker      *setupTracker
	target       netip.AddrPort
	uasHost      string           // host:port of the callee in Request-URI and To
	rtp          []netip.AddrPort // by worker
	ptime        time.Duration
	run          uint32
	setupTimeout time.Duration
	calls        []*uacCall
	byCallID     map[string]*uacCall

	byeLeft   int           // BYEs of the tear-down still without a final response
	byeDone   chan struct{} // closed when byeLeft reaches 0
	byeFailed int
	remoteBye int // calls the far side ended itself
}

func (u *uac) local() string { return hostPort(u.ep.local) }

func (u *uac) contact() string { return "sip:loadgen@" + u.local() }

// invite starts call n. The caller holds no lock.
func (u *uac) invite(n int, now time.Time) {
	u.ep.mu.Lock()
	defer u.ep.mu.Unlock()
	c := &uacCall{
		n:      n,
		callID: fmt.Sprintf("lg%08x-%d@%s", u.run, n, u.ep.local.Addr()),
		from:   fmt.Sprintf("<sip:loadgen@%s>;tag=a%08xx%d", u.local(), u.run, n),
		to:     "<sip:bench-" + strconv.Itoa(n) + "@" + u.uasHost + ">",
		sentAt: now,
	}
	c.inviteVia = via(u.local(), u.branch(n, 'i'))
	req := request{method: "INVITE", ruri: "sip:bench-" + strconv.Itoa(n) + "@" + u.uasHost,
		via: c.inviteVia, from: c.from, to: c.to, callID: c.callID, cseq: 1,
		contact: u.contact(), body: sdpBody(u.rtp[WorkerOf(uint32(n), len(u.rtp))], n, u.ptime)}
	msg := req.build()
	u.calls[n] = c
	u.byCallID[c.callID] = c
	u.ep.send(msg, u.target)
	t := u.ep.timers
	c.invite.start(msg, u.target, now, t.T1, 0, u.setupTimeout, nil)
	u.ep.retransmit(&c.invite)
	c.setupTimer.start(nil, netip.AddrPort{}, now, u.setupTimeout, 0, u.setupTimeout, func() { u.setupExpired(c) })
	u.ep.retransmit(&c.setupTimer)
}

func (u *uac) branch(n int, kind byte) string {
	return fmt.Sprintf("%08x.%d.%c", u.run, n, kind)
}

// setupExpired is Timer B in spirit: the call did not come up in time.
// A call whose caller has the 2xx but whose callee never got the ACK fails
// here too; one already up stays up (fail ignores resolved calls).
func (u *uac) setupExpired(c *uacCall) {
	switch c.state {
	case uacInviting, uacProceeding:
		c.state = uacFailed
		c.invite.stop()
		u.tracker.fail(c.n, "timeout")
	case uacAnswered:
		u.tracker.fail(c.n, "no ACK reached the callee")
	}
}

func (u *uac) handle(m *sipMessage, src netip.AddrPort, now time.Time) {
	if m.request {
		u.handleRequest(m, src)
		return
	}
	c := u.byCallID[m.callID]
	if c == nil {
		return
	}
	switch m.cseqMethod {
	case "INVITE":
		u.inviteResponse(c, m, now)
	case "BYE":
		u.byeResponse(c, m, now)
	}
}

func (u *uac) inviteResponse(c *uacCall, m *sipMessage, now time.Time) {
	switch {
	case m.status < 200:
		if c.state == uacInviting {
			c.state = uacProceeding
			c.invite.stop() // §17.1.1.2: a provisional response stops Timer A
		}
	case m.status < 300:
		switch c.state {
		case uacInviting, uacProceeding:
			u.answered(c, m, now)
		case uacFailed:
			// The 2xx came after the set-up gave up: the dialog exists at
			// the far end, so ACK it and end it.
			u.answered(c, m, now)
			c.late = true
			u.bye(c, now)
		default:
			// §13.2.2.4: every retransmission of the 2xx gets the ACK again.
			if c.ack != nil {
				u.ep.send(c.ack, c.ackDest)
			}
		}
	default:
		u.ackError(c, m)
		if c.state == uacInviting || c.state == uacProceeding {
			c.state = uacFailed
			c.invite.stop()
			u.tracker.fail(c.n, "status "+strconv.Itoa(m.status))
		}
	}
}

// answered takes the dialog from the 2xx (§12.1.2) and ACKs it (§13.2.2.4):
// a new transaction, to the remote target through the route set.
func (u *uac) answered(c *uacCall, m *sipMessage, now time.Time) {
	c.invite.stop()
	c.to = m.to
	c.route = uacRouteSet(m)
	ruri, routes, dest, err := u.next(c)
	if err != nil {
		c.state = uacFailed
		u.tracker.fail(c.n, "2xx unroutable: "+err.Error())
		return
	}
	ack := request{method: "ACK", ruri: ruri, via: via(u.local(), u.branch(c.n, 'a')),
		from: c.from, to: c.to, callID: c.callID, cseq: 1, routes: routes}
	c.ack, c.ackDest = ack.build(), dest
	u.ep.send(c.ack, c.ackDest)
	c.state = uacAnswered
	media, err := sdpAudioAddr(m.body)
	if err != nil {
		u.tracker.fail(c.n, "2xx SDP: "+err.Error())
		return
	}
	c.media = media
	u.tracker.markAnswered(c.n, now.Sub(c.sentAt))
}

// next is where the dialog's next request goes.
func (u *uac) next(c *uacCall) (ruri string, routes []string, dest netip.AddrPort, err error) {
	if c.route.target == "" {
		return "", nil, netip.AddrPort{}, errors.New("no Contact")
	}
	ruri, routes, hop := c.route.next()
	uri, err := parseSIPURI(hop)
	if err == nil {
		dest, err = uri.addr()
	}
	return ruri, routes, dest, err
}

// ackError is §17.1.1.3: the ACK of a non-2xx final response belongs to
// the INVITE transaction: same branch, same Request-URI, To from the
// response, sent where the INVITE went.
func (u *uac) ackError(c *uacCall, m *sipMessage) {
	ack := request{method: "ACK", ruri: "sip:bench-" + strconv.Itoa(c.n) + "@" + u.uasHost,
		via: c.inviteVia, from: c.from, to: m.to, callID: c.callID, cseq: 1}
	u.ep.send(ack.build(), u.target)
}
