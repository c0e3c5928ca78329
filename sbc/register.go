package sbc

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/registrar"
	"github.com/natsbc/natsbc/resolve"
)

// regExchange is one REGISTER on its way through natsbc: the phone's
// request, and what the binding table sees of it (its flow, the PBX it
// goes to and the bindings it touches).
type regExchange struct {
	req    *sip.Request
	tx     sip.ServerTransaction
	parsed regRequest
	peer   string // the configured peer it came from; "" for a phone
	*registrar.Exchange
}

// handleRegister relays a phone's REGISTER to the PBX with natsbc's token
// Contact, or answers a refresh that changes nothing from the binding table
// (registration caching).
func (s *Server) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	if s.draining.Load() {
		res := s.newResponse(req, 503, "Service Unavailable")
		res.AppendHeader(sip.NewHeader("Retry-After", "30"))
		s.respond(tx, req, res)
		return
	}
	x, rej := s.newRegExchange(req, tx)
	if rej != nil {
		s.log.Info("REGISTER rejected", "call_id", callID(req), "source", req.Source(), "status", rej.Code, "reason", rej.Reason)
		s.replyStateless(req, tx, rej.Code, rej.Reason)
		return
	}
	if s.answerCachedRefresh(x) {
		return
	}
	src := x.Flow.Source.Addr()
	release := func() {}
	if x.peer == "" {
		if !s.regFlight.take(src) {
			s.logLimit(slog.LevelInfo, "REGISTER rejected", "call_id", callID(req), "source", req.Source(), "status", 503,
				"reason", "limit registrations.max_in_flight_per_source reached")
			res := s.newResponse(req, 503, "Service Unavailable")
			res.AppendHeader(sip.NewHeader("Retry-After", "5"))
			s.respond(tx, req, res)
			return
		}
		// Given back as soon as the PBX answered, before the phone hears
		// it: a phone that sends its next REGISTER at once finds it free.
		var once sync.Once
		release = func() { once.Do(func() { s.regFlight.give(src) }) }
		defer release()
	}
	out := s.registerRequest(x)
	ctx, cancel := context.WithTimeout(s.base, 64*s.conf().T1)
	defer cancel()
	res, err := s.do(ctx, out)
	release()
	if err == nil {
		s.noteAuthOutcome(req, res)
	}
	if err != nil {
		s.log.Warn("REGISTER not answered by the registrar", "aor", x.AoR, "registrar", x.PBX.Dst.String(), "error", err)
		s.replyStateless(req, tx, 408, "Request Timeout")
		return
	}
	if !res.IsSuccess() {
		// 401/407 challenges, 423 Interval Too Brief...: the phone deals
		// with them; natsbc relays them untouched.
		s.respond(tx, req, s.relayRegisterResponse(x, res, nil))
		return
	}
	granted := s.commitBindings(x, res)
	s.respond(tx, req, s.relayRegisterResponse(x, res, granted))
}

// newRegExchange reads the REGISTER and finds the flow it came on and the
// PBX it goes to.
func (s *Server) newRegExchange(req *sip.Request, tx sip.ServerTransaction) (*regExchange, *Reject) {
	parsed, rej := parseRegister(req)
	if rej != nil {
		return nil, rej
	}
	source := parseAddrPort(req.Source())
	network := lower(req.Transport())
	aSock, aAdv, err := s.arrivedOn(network, localAddrOf(tx), source.Addr())
	if err != nil {
		return nil, &Reject{Code: 500, Reason: "Server Internal Error"}
	}
	peer := s.policy.Classify(source.Addr())
	target, err := s.policy.Route(peer, requestURIOf(req))
	if err != nil {
		if errors.Is(err, policy.ErrNoRoute) {
			return nil, &Reject{Code: 404, Reason: "Not Found"}
		}
		return nil, &Reject{Code: 500, Reason: "Server Internal Error"}
	}
	hops, err := s.locate(resolve.Query{Host: target.Host, Port: target.Port, Transport: target.Transport})
	if err != nil {
		return nil, &Reject{Code: 503, Reason: "Service Unavailable"}
	}
	dst, transport, bSock, bAdv := hops[0].dst, hops[0].transport, hops[0].sock, hops[0].adv
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return nil, &Reject{Code: 400, Reason: "Missing From or To"}
	}
	seq := uint32(0)
	if cs := req.CSeq(); cs != nil {
		seq = cs.SeqNo
	}
	x := &regExchange{req: req, tx: tx, parsed: parsed, peer: peer.Name, Exchange: &registrar.Exchange{
		AoR: parsed.aor, Wildcard: parsed.wildcard, Contacts: parsed.tableContacts(),
		Flow: registrar.Flow{Transport: strings.ToUpper(req.Transport()), Local: aSock.local, Source: source, Adv: aAdv},
		PBX: registrar.PBXSide{
			RURI: *req.Recipient.Clone(), From: *from.Address.Clone(), To: *to.Address.Clone(),
			CallID: callID(req), CSeq: seq,
			Dst: dst, Local: bSock.local, Adv: bAdv, Transport: transport,
		},
		Verdict: s.registrationVerdict(req, source),
	}}
	s.reg.Begin(x.Exchange)
	// A peer (a proxy in front of many phones) registers for all of them.
	if peer.Name == "" && s.reg.Admit(x.Exchange) != nil {
		return nil, &Reject{Code: 503, Reason: "Too Many Registered Contacts"}
	}
	return x, nil
}

// registerRequest builds the REGISTER natsbc sends to the PBX: the phone's
// request with natsbc's Via, and natsbc's token Contact in place of each of
// the phone's. R-URI, From, To, Call-ID, CSeq, Expires and Authorization are
// the phone's, so the PBX orders refreshes and checks credentials exactly as
// if the phone had sent it.
func (s *Server) registerRequest(x *regExchange) *sip.Request {
	out := sip.NewRequest(sip.REGISTER, x.PBX.RURI)
	out.AppendHeader(pbxVia(x.PBX))
	copyHeaders(out, x.req, carried{dialogID: true, software: true, registerExpiry: true,
		identity: s.policy.Classify(x.Flow.Source.Addr()).TrustIdentity})
	decrementMaxForwards(out, x.req)
	s.stampRealSource(out, x.req)
	if x.Wildcard {
		out.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Wildcard: true}})
	}
	for i, token := range x.Tokens() {
		out.AppendHeader(tokenContact(token, x.PBX, x.parsed.contacts[i]))
	}
	s.addressPBX(x.PBX, out)
	return out
}

// pbxVia is natsbc's Via on a REGISTER towards the PBX; rport asks for a
// symmetric answer (RFC 3581 §3).
func pbxVia(p registrar.PBXSide) *sip.ViaHeader {
	return legFace{adv: p.Adv, transport: p.Transport}.via()
}

// addressPBX sends req to the PBX from the socket facing it (for UDP, the
// listening socket itself). A REGISTER too large for UDP may still go over
// TCP when it is sent (pickTransport).
func (s *Server) addressPBX(p registrar.PBXSide, req *sip.Request) {
	if req.ContentLength() == nil {
		req.SetBody(nil) // RFC 3261 §20.14: mandatory over TCP
	}
	req.SetTransport(p.Transport)
	req.SetDestination(p.Dst.String())
	if sock := s.boundSocket(p.Transport, p.Local); isUDP(p.Transport) && sock != nil {
		sock.laddr.Copy(&req.Laddr)
	}
}

// tokenContact is natsbc's Contact for one of the phone's: the token in the
// user part, natsbc's address facing the PBX, the phone's header parameters
// (q, +sip.instance...) and the interval the phone asked for.
func tokenContact(token string, pbx registrar.PBXSide, c regContact) *sip.ContactHeader {
	host, port := hostPort(pbx.Adv)
	h := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: token, Host: host, Port: port}, Params: sip.NewParams()}
	if !isUDP(pbx.Transport) {
		h.Address.UriParams = sip.NewParams()
		h.Address.UriParams.Add("transport", lower(pbx.Transport))
	}
	for _, k := range c.hdr.Params.Keys() {
		if k == "expires" || k == "reg-id" {
			continue
		}
		v, _ := c.hdr.Params.Get(k)
		h.Params.Add(k, v)
	}
	if c.asked != registrar.NoExpires {
		h.Params.Add("expires", strconv.Itoa(c.asked))
	}
	return h
}

// ownToken returns the binding id of a URI that is natsbc's token Contact.
func (s *Server) ownToken(u sip.Uri) (uint64, error) {
	if u.User == "" || !s.pointsAtUs(u) {
		return 0, registrar.ErrNotToken
	}
	return s.reg.TokenID(u.User)
}
