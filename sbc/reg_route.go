package sbc

import (
	"github.com/emiago/sipgo/sip"
)

// hopToBinding routes a request whose Request-URI is one of natsbc's token
// Contacts to the registered phone's flow: the socket its REGISTER came in
// on (the same NAT pinhole) and its source address (for TCP, its own
// connection). ok is false when the Request-URI is not a token at all.
//
// Never a guess: a token natsbc did not issue gets 404; one it issued whose
// binding is gone (expired, un-registered, keepalive failed) gets 480, the
// phone being known but not reachable now (RFC 3261 §21.4.18).
func (s *Server) hopToBinding(req *sip.Request) (hop calleeHop, rej *Reject, ok bool) {
	if !looksLikeToken(req.Recipient.User) || !s.pointsAtUs(req.Recipient) {
		return calleeHop{}, nil, false
	}
	id, err := s.reg.tokens.decode(req.Recipient.User)
	if err != nil {
		rej = &Reject{Code: 404, Reason: "Not Found"}
	}
	var b *binding
	if rej == nil {
		var found bool
		if b, found = s.reg.store.byID(id); !found {
			rej = &Reject{Code: 480, Reason: "Temporarily Unavailable"}
		}
	}
	if rej != nil {
		s.log.Info("call to binding rejected", "token", req.Recipient.User, "status", rej.Code, "reason", tokenProblem(err, rej))
		return calleeHop{}, rej, true
	}
	s.reg.mu.Lock()
	fl, uri, aor, verdict, nated, lost := b.flow, b.uri, b.aor, b.nat, b.keepalive, b.awaitsReconnect
	s.reg.mu.Unlock()
	if lost {
		// RFC 3261 §21.4.18: known, not reachable now.
		s.log.Info("call to binding rejected", "token", req.Recipient.User, "status", 480,
			"reason", "its TCP connection was lost in a restart; waiting for the phone to register again")
		return calleeHop{}, &Reject{Code: 480, Reason: "Temporarily Unavailable"}, true
	}
	return calleeHop{
		dst: fl.source, sock: fl.sock, adv: fl.adv, transport: fl.transport,
		ruri: *uri.Clone(), peer: s.policy.Classify(fl.source.Addr()),
		rule:  "registered binding of " + aor + " (" + verdict + "): phone's flow " + fl.String(),
		nated: nated,
	}, nil, true
}

// looksLikeToken tells a mangled token (natsbc's prefix, wrong length or
// alphabet) from an ordinary user part addressed to natsbc.
func looksLikeToken(user string) bool {
	return len(user) > len(tokenPrefix) && lower(user[:len(tokenPrefix)]) == tokenPrefix
}

func tokenProblem(err error, rej *Reject) string {
	switch {
	case err != nil:
		return err.Error()
	case rej.Code == 480:
		return "binding expired or removed"
	}
	return rej.Reason
}
