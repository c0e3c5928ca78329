package sbc

import (
	"fmt"
	"runtime/debug"

	"github.com/emiago/sipgo/sip"
)

// routeHandlers registers one handler per method. Every handler runs
// through guarded: tracked for Shutdown, ingress-checked, and protected from
// panics so one bad message can never take the listener down.
func (s *Server) routeHandlers() {
	s.srv.OnInvite(s.guarded(s.handleInvite))
	s.srv.OnAck(s.guarded(s.handleAck))
	s.srv.OnCancel(s.guarded(s.handleStrayCancel))
	s.srv.OnBye(s.guarded(s.handleBye))
	s.srv.OnOptions(s.guarded(s.handleOptions))
	for _, m := range []sip.RequestMethod{sip.UPDATE, sip.INFO, sip.REFER, sip.NOTIFY, sip.MESSAGE} {
		s.srv.OnRequest(m, s.guarded(s.handleInDialog))
	}
	s.srv.OnRequest(sip.PRACK, s.guarded(s.handlePrack))
	s.srv.OnRegister(s.guarded(s.handleRegister))
	s.srv.OnNoRoute(s.guarded(s.handleUnsupported))
}

func (s *Server) guarded(h func(*sip.Request, sip.ServerTransaction)) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.handlers.Add(1)
		defer s.handlers.Done()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("handler panic", "method", req.Method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !req.IsAck() {
					s.replyStateless(req, tx, 500, "Server Internal Error")
				}
			}
		}()
		if rej := CheckRequest(req); rej != nil {
			s.log.Info("malformed message", "src", req.Source(), "method", req.Method, "reason", rej.Reason, "code", rej.Code)
			if !req.IsAck() {
				s.replyStateless(req, tx, rej.Code, rej.Reason)
			}
			return
		}
		h(req, tx)
	}
}

func (s *Server) handleUnsupported(req *sip.Request, tx sip.ServerTransaction) {
	res := s.newResponse(req, 405, "Method Not Allowed")
	res.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	s.respond(tx, req, res)
}

const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, REFER, NOTIFY, MESSAGE, PRACK"

// handleOptions answers OPTIONS addressed to natsbc itself (no To tag:
// out of dialog) and relays in-dialog OPTIONS leg to leg.
func (s *Server) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	if toTag(req) != "" {
		s.handleInDialog(req, tx)
		return
	}
	res := s.newResponse(req, 200, "OK")
	res.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	s.respond(tx, req, res)
}
