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
	res.AppendHeader(sip.NewHeader("Server", s.conf().UserAgent))
	if isUDP(req.Transport()) && req.Source() != "" {
		res.SetDestination(req.Source())
	}
	return res
}

// respond sends res on the server transaction. A failure is a warning
// naming the leg and the size (responseNotSent); the peer's retransmission
// may still recover it, so callers go on unless they must know.
func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, res *sip.Response) error {
	err := tx.Respond(res)
	if err != nil {
		s.responseNotSent(req, res, err)
	} else {
		s.tapStreamSent(res)
	}
	return err
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
