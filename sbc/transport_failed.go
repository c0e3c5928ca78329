package sbc

import (
	"errors"

	"github.com/emiago/sipgo/sip"
)

// errNotSent: natsbc could not write its 2xx to the peer, so no ACK can
// come; the call ends saying so, not blaming the peer.
var errNotSent = errors.New("2xx not sent")

// requestNotSent warns about a request natsbc could not write: which leg,
// how large, over what, to where.
func (s *Server) requestNotSent(req *sip.Request, err error) {
	c, l := s.legOf(req)
	log, leg := s.log, "none"
	if l != nil {
		log, leg = c.log, l.side.String()
	}
	log.Warn("request not sent", "leg", leg, "method", req.Method, "bytes", messageSize(req),
		"transport", req.Transport(), "to", req.Destination(), "error", err)
}

// responseNotSent warns about a response natsbc could not write. Its To tag
// is natsbc's own on the leg it answers.
func (s *Server) responseNotSent(req *sip.Request, res *sip.Response, err error) {
	c, l := s.legByTag(callID(res), toTag(res))
	log, leg := s.log, "none"
	if l != nil {
		log, leg = c.log, l.side.String()
	}
	log.Warn("response not sent", "leg", leg, "method", req.Method, "status", res.StatusCode,
		"bytes", messageSize(res), "transport", req.Transport(), "to", responseDestination(req, res), "error", err)
}

// responseDestination is where a response goes: its own destination (UDP,
// symmetric) or the connection its request came on.
func responseDestination(req *sip.Request, res *sip.Response) string {
	if d := res.Destination(); d != "" {
		return d
	}
	return req.Source()
}

// twoxxNotSent ends the wait for an ACK natsbc made impossible: a warning
// that names the leg, the size and the error, and the hangup's reason.
func (c *call) twoxxNotSent(l *leg, reply *sip.Response, err error) (reason, why string) {
	c.log.Warn("2xx not sent, ending call", "leg", l.side.String(), "bytes", messageSize(reply),
		"sent_to", reply.Destination(), "error", err)
	return "2xx-not-sent", `SIP;cause=500;text="2xx not sent"`
}
