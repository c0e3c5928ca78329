package sbc

import (
	"errors"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar"
)

// hopToBinding routes a request whose Request-URI is one of natsbc's token
// Contacts to the registered phone's flow: the socket its REGISTER came in
// on (the same NAT pinhole) and its source address (for TCP, TLS and
// WebSocket, its own connection). ok is false when the Request-URI is not
// a token at all.
//
// Never a guess: a token natsbc did not issue gets 404; one it issued whose
// binding is gone (expired, un-registered, keepalive failed) gets 480, the
// phone being known but not reachable now (RFC 3261 §21.4.18).
func (s *Server) hopToBinding(req *sip.Request) (hop calleeHop, rej *Reject, ok bool) {
	if !registrar.LooksLikeToken(req.Recipient.User) || !s.pointsAtUs(req.Recipient) {
		return calleeHop{}, nil, false
	}
	b, err := s.reg.Reach(req.Recipient.User)
	var sock *socket
	switch {
	case errors.Is(err, registrar.ErrGone), errors.Is(err, registrar.ErrAwaitsReconnect):
		rej = &Reject{Code: 480, Reason: "Temporarily Unavailable"}
	case err != nil:
		rej = &Reject{Code: 404, Reason: "Not Found"}
	default:
		if sock = s.boundSocket(b.Flow.Transport, b.Flow.Local); sock == nil {
			// Its socket is not served any more (a changed config).
			err = errors.New("binding's socket " + b.Flow.Local.String() + " not served")
			rej = &Reject{Code: 480, Reason: "Temporarily Unavailable"}
		} else if flowBound(b.Flow.Transport) && !s.hasConnection(lower(b.Flow.Transport), b.Flow.Source.String()) {
			// Nothing but its connection reaches a TLS or WebSocket
			// client: it is gone, the call fails now, not after 64*T1.
			err = errors.New("binding's " + lower(b.Flow.Transport) + " connection is closed")
			rej = &Reject{Code: 480, Reason: "Temporarily Unavailable"}
		}
	}
	if rej != nil {
		s.log.Info("call to binding rejected", "token", req.Recipient.User, "status", rej.Code, "reason", err.Error())
		return calleeHop{}, rej, true
	}
	fl := b.Flow
	return calleeHop{
		dst: fl.Source, sock: sock, adv: fl.Adv, transport: fl.Transport,
		ruri: b.URI, peer: s.policy.Classify(fl.Source.Addr()),
		rule:  "registered binding of " + b.AoR + " (" + b.Verdict.Kind + "): phone's flow " + fl.String(),
		nated: b.Verdict.Keepalive,
	}, nil, true
}

// boundSocket is the socket bound to local for a transport: where a
// binding's flow came in.
func (s *Server) boundSocket(transport string, local netip.AddrPort) *socket {
	network := lower(transport)
	for _, sock := range s.sockets {
		if sock.network == network && sock.local == local {
			return sock
		}
	}
	return nil
}
