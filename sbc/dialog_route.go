package sbc

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/nat"
	"github.com/natsbc/natsbc/policy"
)

// learnRoute sets a leg's remote target, route set and next hop from the
// message that establishes (or refreshes) its dialog: the INVITE on the
// A-leg (RFC 3261 §12.1.1), the 2xx on the B-leg (§12.1.2).
//
// This is where the ACK is made routable. The next hop is the route set when
// the message carried Record-Route; otherwise the peer's Contact, except when
// policy.ContactFix says the Contact must be replaced by where the message
// really came from: only for a NATed end-point that sent it straight to us,
// or a peer configured nat: always. A Contact of a message that came through
// a proxy staying in the path is never touched (the "excessive NAT handling"
// that loses the callee).
func (s *Server) learnRoute(l *leg, msg sip.Message, source netip.AddrPort, uac bool) {
	l.mu.Lock()
	transport, legSource, peer := l.transport, l.source, l.peer
	establishing, routes := !l.routeSetFixed, l.routeSet
	l.mu.Unlock()
	if t := msg.Transport(); t != "" && !strings.EqualFold(t, transport) && legSource.IsValid() {
		// A request too large for UDP that the peer sent over TCP on a UDP
		// leg (RFC 3261 §18.1.1): its connection is not the leg's flow.
		source = legSource
	}
	contact := firstContact(msg)
	var rr []sip.Uri
	for _, h := range msg.GetHeaders("Record-Route") {
		if r, ok := h.(*sip.RecordRouteHeader); ok {
			rr = append(rr, *r.Address.Clone())
		}
	}
	if uac {
		slices.Reverse(rr) // §12.1.2: the UAC's route set is the reversed Record-Route
	}

	obs := nat.Observation{Transport: lower(transport), Source: source, SDPAddrs: sdpConnectionAddrs(msg)}
	if contact != nil {
		obs.ContactHost, obs.ContactPort = contact.Host, contact.Port
	}
	via := ""
	if req, isReq := msg.(*sip.Request); isReq {
		// A response carries our own Via: only a request's Via says
		// anything about the peer.
		if v := req.Via(); v != nil {
			obs.ViaHost, obs.ViaPort = v.Host, v.Port
			via = v.SentBy()
		}
	}
	verdict := nat.Detect(s.withoutOwnAddrs(obs))
	s.ops.checksFired("dialog", verdict)
	fix, rule := policy.ContactFix(peer, len(rr) > 0, verdict.NATed())

	// Over TLS and WebSocket the peer's connection is the flow: the
	// Contact stays the remote target (a WebSocket client's is a .invalid
	// name, RFC 7118 §5.2) and requests go on the connection.
	flow := flowBound(transport) && source.IsValid()
	natedBy := fix || (verdict.NATed() && peer.NAT != policy.NATNever)
	if flow {
		fix = false
		rule = "connection of the flow: requests reuse the peer's " + lower(transport) + " connection (RFC 5923, RFC 7118 §5)"
	}

	// Locate the next hop before taking the lock: it may ask the DNS.
	if establishing {
		routes = rr
	}
	var next dialogHop
	switch {
	case flow:
	case len(routes) > 0:
		next = s.dialogHopOf(routes[0], transport)
	case !fix && contact != nil:
		next = s.dialogHopOf(*contact, transport)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if contact != nil {
		target := *contact.Clone()
		if fix {
			// Keep the user part and parameters: a carrier's user part may
			// carry the routing it needs.
			target.Host = source.Addr().String()
			target.Port = int(source.Port())
		}
		l.remoteTarget = target
	}
	if !l.routeSetFixed {
		// §12.2: the route set is fixed when the dialog is established; a
		// target refresh only changes the remote target.
		l.routeSet = rr
		l.routeSetFixed = true
	}
	switch {
	case flow:
		l.nextHop = source.String()
	case fix && len(l.routeSet) == 0:
		l.nextHop = source.String()
	case next.addr != "":
		l.nextHop = next.addr
	default:
		l.nextHop = uriHostPort(l.remoteTarget)
	}
	if establishing && !fix && !flow && next.transport != "" {
		// transport= of the first Route (or of the Contact) is honoured
		// (RFC 3263 §4.1). Only while the dialog is being established:
		// nothing else uses the leg yet.
		l.transport, l.sock, l.adv = next.transport, next.sock, next.adv
	}
	l.route = routeChoice{Rule: rule, Via: via, Source: source.String(), Verdict: verdict.String(), Fixed: fix}
	l.nated = l.nated || natedBy
	if contact != nil {
		l.route.Contact = contact.String()
	}
}

func firstContact(msg sip.Message) *sip.Uri {
	for _, h := range msg.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok && !c.Address.Wildcard {
			return &c.Address
		}
	}
	return nil
}

// uriHostPort is a SIP URI's host and port, 5060 by default: the next hop
// when RFC 3263 could not locate it (dialogHopOf).
func uriHostPort(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return joinHostPort(u.Host, port)
}

func parseAddrPort(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
