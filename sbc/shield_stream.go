package sbc

import (
	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/ingress"
)

// shieldAdmitsStream gives a request that came over a stream transport
// (TCP) the shield's per-request checks: scanners' User-Agents, bans and
// the source's rate. UDP requests met them in ingress.GuardedPacketConn
// before sipgo parsed them; sipgo frames stream messages itself, so here
// is the first place a whole TCP request can be seen.
func (s *Server) shieldAdmitsStream(req *sip.Request, tx sip.ServerTransaction) bool {
	if isUDP(req.Transport()) {
		return true
	}
	src := parseAddrPort(req.Source()).Addr()
	verdict := ingress.DropBanned
	if !s.shield.DropsBanned(src) {
		verdict = s.shield.RequestOf(src, req)
	}
	switch verdict {
	case ingress.Pass:
		return true
	case ingress.Answer503:
		if !req.IsAck() && ingress.CheckRequest(req) == nil {
			res := s.newResponse(req, 503, "Service Unavailable")
			res.AppendHeader(sip.NewHeader("Retry-After", "1"))
			s.respond(tx, req, res)
		}
		return false
	}
	// Dropped without an answer, as on UDP; the connection of a banned
	// source ends at its next read (ingress.GuardedListener).
	if tx != nil {
		tx.Terminate()
	}
	return false
}
