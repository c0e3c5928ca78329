package sbc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/registrar"
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
	for _, m := range []sip.RequestMethod{sip.UPDATE, sip.INFO, sip.REFER} {
		s.srv.OnRequest(m, s.guarded(s.handleInDialog))
	}
	// In a dialog or not (ood.go).
	for _, m := range []sip.RequestMethod{sip.NOTIFY, sip.MESSAGE, sip.PUBLISH} {
		s.srv.OnRequest(m, s.guarded(s.handleOutOfDialog))
	}
	s.srv.OnRequest(sip.PRACK, s.guarded(s.handlePrack))
	s.srv.OnRequest(sip.SUBSCRIBE, s.guarded(s.handleSubscribe))
	s.srv.OnRegister(s.guarded(s.handleRegister))
	s.srv.OnNoRoute(s.guarded(s.handleUnsupported))
}

func (s *Server) guarded(h func(*sip.Request, sip.ServerTransaction)) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.handlers.Add(1)
		defer s.handlers.Done()
		s.tapStreamReceived(req) // before any handler touches it
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("handler panic", "method", req.Method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !req.IsAck() {
					s.replyStateless(req, tx, 500, "Server Internal Error")
				}
			}
		}()
		// The shield first: a flood of malformed requests over TCP is
		// counted against its source like any other, not answered.
		if !s.shieldAdmitsStream(req, tx) {
			return
		}
		if rej := ingress.CheckRequest(req); rej != nil {
			s.logLimit(slog.LevelInfo, "malformed message", "src", req.Source(), "method", req.Method, "reason", rej.Reason, "code", rej.Code)
			if !req.IsAck() {
				s.replyStateless(req, tx, rej.Code, rej.Reason)
			}
			return
		}
		ok, counted := s.inFlight.enter(req)
		if !ok {
			s.shedOverload(req, tx)
			return
		}
		if counted {
			defer s.inFlight.leave()
		}
		h(req, tx)
	}
}

// shedOverload answers a new request natsbc has no room for: 503 with
// Retry-After, so a well-behaved sender waits instead of retrying at once.
func (s *Server) shedOverload(req *sip.Request, tx sip.ServerTransaction) {
	s.logLimit(slog.LevelWarn, "overloaded: request refused", "limit", "limits.max_transactions", "method", req.Method, "src", req.Source())
	res := s.newResponse(req, 503, "Service Unavailable")
	res.AppendHeader(sip.NewHeader("Retry-After", "5"))
	s.respond(tx, req, res)
}

// handleUnsupported relays any other method to a registered phone's token
// (the phone decides what it supports) and answers the rest 405.
func (s *Server) handleUnsupported(req *sip.Request, tx sip.ServerTransaction) {
	if s.addressesToken(req) {
		s.handleOutOfDialog(req, tx)
		return
	}
	res := s.newResponse(req, 405, "Method Not Allowed")
	res.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	s.respond(tx, req, res)
}

const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, REFER, SUBSCRIBE, NOTIFY, MESSAGE, PUBLISH, PRACK"

// addressesToken reports whether req's Request-URI is one of natsbc's
// binding tokens (whether or not its binding still exists).
func (s *Server) addressesToken(req *sip.Request) bool {
	return registrar.LooksLikeToken(req.Recipient.User) && s.pointsAtUs(req.Recipient)
}

// handleOptions relays in-dialog OPTIONS leg to leg, and an OPTIONS to a
// registered phone's token (a PBX's qualify) to the phone, so the PBX sees
// whether the phone itself is there; with registrations.answer_qualify,
// natsbc answers for a NATed phone it keeps alive itself. Any other OPTIONS
// is addressed to natsbc, which answers it.
func (s *Server) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	if toTag(req) != "" {
		s.handleInDialog(req, tx)
		return
	}
	if s.addressesToken(req) {
		s.qualify(req, tx)
		return
	}
	s.answerOptions(req, tx)
}

// qualify forwards a PBX's OPTIONS to the phone a token names.
func (s *Server) qualify(req *sip.Request, tx sip.ServerTransaction) {
	next, err := s.calleeHop(req, s.policy.Classify(parseAddrPort(req.Source()).Addr()))
	switch {
	case err != nil:
		s.refuseOutOfDialog(req, tx, err)
	case s.conf().Registrations.AnswerQualify && next.nated:
		// The keepalive proves this phone's flow every interval; the
		// operator chose to spare the phone the PBX's own probe.
		s.answerOptions(req, tx)
	default:
		s.relayOutOfDialog(req, tx, next)
	}
}

// answerOptions is natsbc's own answer to an OPTIONS (RFC 3261 §11.2).
func (s *Server) answerOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := s.newResponse(req, 200, "OK")
	res.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	s.respond(tx, req, res)
}

// limitLinesPerSecond bounds the lines of refused requests (logLimit).
const limitLinesPerSecond = 20

// logLimit writes a line about a refused request, at most
// limitLinesPerSecond a second; the first line after a pause says how many
// were held back.
func (s *Server) logLimit(level slog.Level, msg string, args ...any) {
	ok, heldBack := s.limitLog.Allow()
	if !ok {
		return
	}
	if heldBack > 0 {
		args = append(args, "lines_held_back", heldBack)
	}
	s.log.Log(context.Background(), level, msg, args...)
}
