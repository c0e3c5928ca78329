package loadgen

import (
	"fmt"
	"net/netip"
	"time"
)

// uasCall is one call as the callee (side B) sees it.
type uasCall struct {
	n      int
	ok     []byte     // the 2xx, resent for every retransmitted INVITE
	retx   retransmit // §13.3.1.4: 2xx until the ACK
	src    netip.AddrPort
	cseq   uint32 // of the INVITE that created the dialog
	acked  bool
	ended  bool
	media  netip.AddrPort // where this call's B→A RTP goes
	toTag  string
	answer string
}

// uas answers the calls the target routes to it: 100, 180 and 200 with an
// SDP answer at once, the 2xx retransmitted until its ACK, 200 to the BYE.
// It knows call n from the Request-URI user "bench-<n>" (or the To user,
// for targets that rewrite the Request-URI).
type uas struct {
	ep       *endpoint
	tracker  *setupTracker
	rtp      []netip.AddrPort // by worker
	ptime    time.Duration
	run      uint32
	calls    []*uasCall
	byCallID map[string]*uasCall
	noAck    int // 2xx retransmitted until 64·T1 without an ACK
	rejected int
}

func (s *uas) contact() string { return "sip:bench@" + hostPort(s.ep.local) }

func (s *uas) handle(m *sipMessage, src netip.AddrPort, now time.Time) {
	if !m.request {
		return // the callee sends no requests
	}
	c := s.byCallID[m.callID]
	switch m.method {
	case "INVITE":
		switch {
		case c == nil:
			s.invite(m, src, now)
		case m.cseq == c.cseq:
			s.ep.send(c.ok, src) // a retransmission (§17.2.1)
		default:
			// A re-INVITE (a target refreshing the session): the same
			// answer, in a response of its own.
			s.ep.send(response(m, 200, "OK", c.toTag, s.contact(), c.answer), src)
		}
	case "ACK":
		if c != nil && !c.acked && m.cseq == c.cseq {
			c.acked = true
			c.retx.stop()
			s.tracker.markAcked(c.n)
		}
	case "BYE":
		if c == nil {
			s.ep.send(response(m, 481, "Call/Transaction Does Not Exist", "", "", ""), src)
			return
		}
		c.ended = true
		c.retx.stop()
		s.ep.send(response(m, 200, "OK", "", "", ""), src)
	case "CANCEL":
		// Every INVITE is answered at once, so a CANCEL always comes too
		// late to matter (§9.2): 200 for the CANCEL, the call stands.
		status, reason := 200, "OK"
		if c == nil {
			status, reason = 481, "Call/Transaction Does Not Exist"
		}
		s.ep.send(response(m, status, reason, "", "", ""), src)
	case "OPTIONS":
		s.ep.send(response(m, 200, "OK", "", "", ""), src)
	default:
		s.ep.send(response(m, 501, "Not Implemented", "", "", ""), src)
	}
}

func (s *uas) invite(m *sipMessage, src netip.AddrPort, now time.Time) {
	n, ok := s.callIndex(m)
	if !ok {
		s.reject(m, src, 404, "Not Found")
		return
	}
	if s.calls[n] != nil {
		s.reject(m, src, 486, "Busy Here") // one dialog per call number
		return
	}
	media, err := sdpAudioAddr(m.body)
	if err != nil {
		s.reject(m, src, 488, "Not Acceptable Here")
		return
	}
	c := &uasCall{n: n, src: src, cseq: m.cseq, media: media, toTag: fmt.Sprintf("b%08xx%d", s.run, n)}
	c.answer = sdpBody(s.rtp[WorkerOf(uint32(n), len(s.rtp))], n, s.ptime)
	s.calls[n] = c
	s.byCallID[m.callID] = c
	s.ep.send(response(m, 100, "Trying", "", "", ""), src)
	s.ep.send(response(m, 180, "Ringing", c.toTag, s.contact(), ""), src)
	c.ok = response(m, 200, "OK", c.toTag, s.contact(), c.answer)
	s.ep.send(c.ok, src)
	t := s.ep.timers
	c.retx.start(c.ok, src, now, t.T1, t.T2, 64*t.T1, func() { s.noAck++ })
	s.ep.retransmit(&c.retx)
}

// reject answers an INVITE with an error; its ACK (same transaction) needs
// no answer and the generator keeps no state for it.
func (s *uas) reject(m *sipMessage, src netip.AddrPort, status int, reason string) {
	s.rejected++
	s.ep.send(response(m, status, reason, fmt.Sprintf("r%08x", s.run), "", ""), src)
}

func (s *uas) callIndex(m *sipMessage) (int, bool) {
	for _, uri := range []string{m.ruri, nameAddrURI(m.to)} {
		u, err := parseSIPURI(uri)
		if err != nil {
			continue
		}
		if n, ok := callIndexFromUser(u.user); ok && n < len(s.calls) {
			return n, true
		}
	}
	return 0, false
}
