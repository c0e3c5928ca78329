package sbc

import (
	"context"
	"errors"

	"github.com/emiago/sipgo/sip"
)

// handleOutOfDialog carries a request that opens no dialog (MESSAGE, RFC
// 3428; an unsolicited NOTIFY such as Asterisk's message-summary, RFC 3842;
// PUBLISH; OPTIONS or any other method to a registered phone's token)
// across natsbc, routed as an INVITE from the same sender would be: to a
// registered phone's flow when the Request-URI is a token, else by the
// routes. A request with a To tag belongs to a dialog and is relayed in it.
func (s *Server) handleOutOfDialog(req *sip.Request, tx sip.ServerTransaction) {
	if toTag(req) != "" {
		s.handleInDialog(req, tx)
		return
	}
	source := parseAddrPort(req.Source())
	next, err := s.calleeHop(req, s.policy.Classify(source.Addr()))
	if err != nil {
		s.refuseOutOfDialog(req, tx, err)
		return
	}
	s.relayOutOfDialog(req, tx, next)
}

// refuseOutOfDialog answers a request natsbc could not route: the Reject
// calleeHop chose (404, 480, 482, 503), else 500.
func (s *Server) refuseOutOfDialog(req *sip.Request, tx sip.ServerTransaction, err error) {
	var rej *Reject
	if !errors.As(err, &rej) {
		rej = &Reject{Code: 500, Reason: "Server Internal Error"}
	}
	s.log.Info("request not relayed", "method", req.Method, "call_id", callID(req), "status", rej.Code, "error", err)
	s.replyStateless(req, tx, rej.Code, rej.Reason)
}

// relayOutOfDialog sends req to next as natsbc's own request (a new
// Call-ID, tags, CSeq and Via: the receiver learns nothing of the sender's
// side) with the end-to-end headers and the body untouched, and answers
// req with the final response, mapped back the same way. Nothing of it
// outlives the transaction; no answer within 64*T1 is a 408.
func (s *Server) relayOutOfDialog(req *sip.Request, tx sip.ServerTransaction, next calleeHop) {
	source := parseAddrPort(req.Source())
	a, b, err := s.newLegPair(req, tx, source, s.policy.Classify(source.Addr()), next)
	if err != nil {
		s.refuseOutOfDialog(req, tx, err)
		return
	}
	out := s.firstRequestOn(b, a, req)

	ctx, cancel := context.WithTimeout(s.base, 64*s.conf().T1)
	defer cancel()
	res, err := s.do(ctx, out)
	if err != nil {
		s.log.Info("request not answered", "method", req.Method, "call_id", callID(req), "to", out.Destination(), "error", err)
		s.replyStateless(req, tx, 408, "Request Timeout")
		return
	}
	s.noteAuthOutcome(req, res)
	reply := s.newResponse(req, res.StatusCode, res.Reason)
	copyEndToEnd(reply, res, b.peerOf())
	setBody(reply, contentType(res), res.Body())
	s.respond(tx, req, reply)
	s.log.Debug("request relayed", "method", req.Method, "a_call_id", a.callID, "b_call_id", b.callID,
		"to", out.Destination(), "status", res.StatusCode, "route", next.rule)
}

// firstRequestOn is the request that opens natsbc's exchange on leg b for
// req, which came on leg a: natsbc's own dialog names, req's end-to-end
// headers (and Expires of a SUBSCRIBE), the hop budget, the real source,
// and the body untouched.
func (s *Server) firstRequestOn(b, a *leg, req *sip.Request) *sip.Request {
	// 0: the leg's first CSeq, counted, so a refresh in its dialog
	// goes on from it.
	out := b.newInDialogRequest(req.Method, 0)
	copyEndToEnd(out, req, a.peerOf())
	copySubscriptionExpires(out, req)
	decrementMaxForwards(out, req)
	s.stampRealSource(out, req)
	setBody(out, contentType(req), req.Body())
	return out
}
