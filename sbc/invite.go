package sbc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/resolve"
)

// handleInvite starts a call (an INVITE without To tag) or relays a
// re-INVITE. sipgo terminates the server transaction when the handler
// returns, so the handler lives until the INVITE is answered and, for a
// 2xx, ACKed.
func (s *Server) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if toTag(req) != "" {
		s.handleInDialog(req, tx)
		return
	}
	if s.draining.Load() {
		res := s.newResponse(req, 503, "Service Unavailable")
		res.AppendHeader(sip.NewHeader("Retry-After", "30"))
		s.respond(tx, req, res)
		return
	}
	// RFC 3262 §3: with 100rel turned off, natsbc cannot send reliable
	// provisionals.
	if s.conf().Disable100rel && hasToken(req, "Require", "100rel") {
		res := s.newResponse(req, 420, "Bad Extension")
		res.AppendHeader(sip.NewHeader("Unsupported", "100rel"))
		s.respond(tx, req, res)
		return
	}
	if s.reject422(req, tx) {
		return
	}
	source := parseAddrPort(req.Source())
	slot, err := s.admit.take(source.Addr(), s.policy.Classify(source.Addr()))
	if err != nil {
		s.logLimit(slog.LevelWarn, "call limit reached", "limit", err.(*limitError).limit, "source", source.String(), "a_call_id", callID(req))
		s.replyStateless(req, tx, 503, "Service Unavailable")
		return
	}
	// RFC 3261 §8.2.6.1: tell the caller at once that natsbc has it, so it
	// stops retransmitting while the B-leg is set up.
	s.respond(tx, req, s.newResponse(req, 100, "Trying"))

	c, bReq, err := s.setUpCall(req, tx, slot)
	if err != nil {
		// No call holds the slot (a call set up and ended at once, e.g. an
		// unanswerable Replaces, gave it back already: release is once).
		slot.release()
		var rej *Reject
		if !errors.As(err, &rej) {
			rej = &Reject{Code: 500, Reason: "Server Internal Error"}
		}
		s.log.Info("call rejected", "a_call_id", callID(req), "status", rej.Code, "error", err)
		s.replyStateless(req, tx, rej.Code, rej.Reason)
		return
	}
	if !s.conf().Disable100rel {
		c.rel.start(media.LegA, req, bReq)
	}
	// setUpCall claimed the call's INVITE slot for this INVITE.
	defer c.endInitialInvite()
	c.watchCancel(tx)
	c.relayInvite(media.LegA, req, tx, bReq, true)
}

// setUpCall builds both legs of a new call and the B-leg INVITE.
func (s *Server) setUpCall(req *sip.Request, tx sip.ServerTransaction, slot *slot) (*call, *sip.Request, error) {
	source := parseAddrPort(req.Source())
	peer := s.policy.Classify(source.Addr())
	next, err := s.calleeHop(req, peer)
	if err != nil {
		return nil, nil, err
	}
	if err := slot.alsoTo(next.peer); err != nil {
		s.logLimit(slog.LevelWarn, "call limit reached", "limit", err.(*limitError).limit, "source", source.String(), "a_call_id", callID(req))
		return nil, nil, &Reject{Code: 503, Reason: "Service Unavailable"}
	}
	a, b, err := s.newLegPair(req, tx, source, peer, next)
	if err != nil {
		return nil, nil, err
	}
	var c *call
	ms, err := s.media.NewSession(a.callID, func(reason string) {
		// From the anchor's goroutine: end the call on one of ours.
		s.goTracked(func() { c.mediaTimedOut(reason) })
	})
	if err != nil {
		s.log.Warn("media session not created", "a_call_id", a.callID, "error", err)
		return nil, nil, sdpReject(err)
	}
	c = newCall(s, a, b, ms)
	c.slot = slot
	c.alternates = next.alternates
	// RFC 3261 §14.2: the initial INVITE holds the call's INVITE slot
	// until its final response, so a re-INVITE in the early dialog is
	// refused (500), not relayed over it; claimed before the call is
	// findable.
	c.claimInitialInvite()
	// Before the call is findable: what was recorded of its INVITE
	// becomes the call's, and what comes next finds it.
	s.diag.Adopt(a.callID)
	s.calls.add(c)
	s.counts.callStarted(peerName(peer))
	if c.infoEnabled() {
		c.log.Info("call started", "from", req.From().Address.String(), "to", req.Recipient.String(),
			"peer", peerName(peer), "source", source.String(), "nat", a.route.Verdict,
			"route", next.rule, "b_next_hop", b.nextHop, "b_socket", next.sock.String())
	}

	bReq := b.newInDialogRequest(sip.INVITE, 0)
	copyEndToEnd(bReq, req, a.peerOf())
	decrementMaxForwards(bReq, req)
	s.stampRealSource(bReq, req)
	// RFC 3891 §3: attended transfer and call pickup name a dialog; the
	// callee must get the name it knows.
	if rej := s.mapReplacesHeader(bReq); rej != nil {
		c.end("rejected")
		return nil, nil, rej
	}
	body, err := c.rewriteSDP(media.LegA, req, b.face().adv.Addr())
	if err != nil {
		c.log.Warn("SDP not anchored", "leg", "a", "error", err)
		c.end("rejected")
		return nil, nil, sdpReject(err)
	}
	setBody(bReq, contentType(req), body)
	c.offerTimers(media.LegB, bReq, false)
	return c, bReq, nil
}

// calleeHop is where the B-leg goes: natsbc's routes, or the flow of a
// registered phone when the Request-URI is one of natsbc's token Contacts.
type calleeHop struct {
	dst       netip.AddrPort
	sock      *socket
	adv       netip.AddrPort
	transport string
	ruri      sip.Uri
	peer      policy.Peer
	rule      string
	nated     bool // a registered phone that needs keepalive
	// alternates are the next addresses RFC 3263 gave for the target,
	// tried in order when the first times out or answers 503 (§4.3).
	alternates []hop
}

func (s *Server) calleeHop(req *sip.Request, peer policy.Peer) (calleeHop, error) {
	if hop, rej, ok := s.hopToBinding(req); ok {
		if rej != nil {
			return calleeHop{}, rej
		}
		return hop, nil
	}
	target, err := s.policy.Route(peer, requestURIOf(req))
	if err != nil {
		if errors.Is(err, policy.ErrNoRoute) || req.Recipient.Scheme == "tel" {
			// A tel: URI has no host: only a route to a peer or an
			// address can carry it.
			return calleeHop{}, &Reject{Code: 404, Reason: "Not Found"}
		}
		return calleeHop{}, err
	}
	hops, err := s.locate(resolve.Query{Host: target.Host, Port: target.Port, Transport: target.Transport})
	if errors.Is(err, errOwnAddress) {
		// RFC 3261 §16.3 item 4 spirit: a request routed back to natsbc
		// itself would loop.
		return calleeHop{}, &Reject{Code: 482, Reason: "Loop Detected"}
	}
	if err != nil {
		s.log.Info("callee not located", "host", target.Host, "rule", target.Rule, "error", err)
		return calleeHop{}, &Reject{Code: 503, Reason: "Service Unavailable"}
	}
	h := hops[0]
	return calleeHop{dst: h.dst, sock: h.sock, adv: h.adv, transport: h.transport,
		ruri: bLegRequestURI(req.Recipient, target),
		peer: peerFor(s.policy, h.dst.Addr(), target), rule: target.Rule, alternates: hops[1:]}, nil
}

// decrementMaxForwards carries the hop budget across natsbc (RFC 3261
// §16.6 item 3), so a loop through several B2BUAs still ends.
func decrementMaxForwards(out, in *sip.Request) {
	mf := sip.MaxForwardsHeader(70)
	if h := in.MaxForwards(); h != nil && h.Val() > 0 {
		mf = sip.MaxForwardsHeader(h.Val() - 1)
	}
	out.ReplaceHeader(&mf)
}

func requestURIOf(req *sip.Request) policy.RequestURI {
	t, _ := req.Recipient.UriParams.Get("transport")
	return policy.RequestURI{Host: req.Recipient.Host, Port: req.Recipient.Port, Transport: t}
}

// peerFor is the peer natsbc talks to on the B-leg: the routed peer, or
// whoever owns the destination address.
func peerFor(p Policy, dst netip.Addr, t policy.Target) policy.Peer {
	if t.Kind == policy.TargetPeer {
		return t.Peer
	}
	return p.Classify(dst)
}

func peerName(p policy.Peer) string {
	if p.Name == "" {
		return "unknown"
	}
	return p.Name
}

func (s *Server) isOwnAddress(ap netip.AddrPort) bool {
	for _, sock := range s.sockets {
		if sock.local.Port() != ap.Port() {
			continue
		}
		if sock.local.Addr() == ap.Addr() || (sock.spec.Advertise.IsValid() && sock.spec.Advertise == ap.Addr()) {
			return true
		}
		if sock.public != nil && sock.public.Addr() == ap.Addr() {
			return true
		}
		if sock.wildcard() && s.router != nil {
			if src, err := s.router.SourceFor(ap.Addr()); err == nil && src.Unmap() == ap.Addr() {
				return true
			}
		}
	}
	return false
}

func localAddrOf(tx sip.ServerTransaction) netip.AddrPort {
	type withConn interface{ Connection() sip.Connection }
	if wc, ok := tx.(withConn); ok && wc.Connection() != nil {
		return parseAddrPort(wc.Connection().LocalAddr().String())
	}
	return netip.AddrPort{}
}

func newLocalTag() string { return randomHex(8) }

func newCallID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
