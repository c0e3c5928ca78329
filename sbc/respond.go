package sbc

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// newResponse builds a response to req that goes back where req came from.
//
// RFC 3581 §4 lets a server answer the source port only when the request
// carried rport; a NATed UDP peer that did not ask still needs it, because
// its Via port is behind a NAT that never mapped it. natsbc therefore always
// answers a UDP request symmetrically, to its source.
func (s *Server) newResponse(req *sip.Request, code int, reason string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	if isUDP(req.Transport()) && req.Source() != "" {
		res.SetDestination(req.Source())
	}
	return res
}

// respond sends res on the server transaction, logging a failure: a lost
// response is the peer's retransmission to recover, never a reason to stop.
func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		s.log.Debug("response not sent", "method", req.Method, "status", res.StatusCode, "error", err)
	}
}

func (s *Server) replyStateless(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	s.respond(tx, req, s.newResponse(req, code, reason))
}

func isUDP(transport string) bool { return strings.EqualFold(transport, "udp") }

func toTag(m sip.Message) string {
	if h := m.To(); h != nil {
		t, _ := h.Params.Get("tag")
		return t
	}
	return ""
}

func fromTag(m sip.Message) string {
	if h := m.From(); h != nil {
		t, _ := h.Params.Get("tag")
		return t
	}
	return ""
}

func callID(m sip.Message) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
