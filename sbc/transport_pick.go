package sbc

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// pickTransport decides, just before a request leaves, whether a request
// built for a UDP leg goes over TCP instead.
//
// RFC 3261 §18.1.1: a request larger than 1300 bytes (path MTU unknown)
// MUST use a congestion-controlled transport, and "If this causes a change
// in the transport protocol from the one indicated in the top Via, the
// value in the top Via MUST be changed." natsbc does so when the leg's peer
// can be reached that way: not a NATed end-point (its NAT lets no
// connection in), not a peer configured large_requests: udp, natsbc has a
// TCP socket facing it, and it accepts the connection. Otherwise the
// request goes as one UDP datagram, which IP fragments.
//
// The switch is per request, not per dialog: the leg's Contact keeps its
// transport (the peer reaches natsbc over UDP, or TCP for its own large
// requests), and each later request of the dialog (ACK, BYE, re-INVITE)
// is sent to the dialog's next hop and chooses again by its own size.
//
// Outside calls, a REGISTER to the PBX (relayed, or natsbc's un-register)
// chooses the same way, its peer being the one its destination belongs
// to; the binding's token Contact keeps the PBX side's transport.
func (s *Server) pickTransport(req *sip.Request) {
	if !isUDP(req.Transport()) {
		return
	}
	via := req.Via()
	if via == nil {
		return
	}
	if !isUDP(via.Transport) {
		// A CANCEL copies the top Via of the INVITE it cancels and goes
		// where that INVITE went (RFC 3261 §9.1), over TCP when it did.
		s.overTCP(req, via, netip.AddrPort{})
		return
	}
	c, l := s.legOf(req)
	switch {
	case l != nil:
		if l.largeMayUseTCP() {
			s.largeOverTCP(req, c.log, l.side.String())
		}
	case req.Method == sip.REGISTER:
		// A relayed REGISTER (or natsbc's un-register) goes to the PBX,
		// outside any call: the peer found by its address decides.
		if peerTakesTCP(s.policy.Classify(parseAddrPort(req.Destination()).Addr())) {
			s.largeOverTCP(req, s.log, "registrar")
		}
	}
}

// largeOverTCP sends req over TCP when it is too large for UDP, natsbc
// serves TCP facing its next hop and that hop has not refused TCP lately;
// the caller has checked that the peer may take a connection. leg names
// where req goes in the log lines.
func (s *Server) largeOverTCP(req *sip.Request, log *slog.Logger, leg string) {
	size := messageSize(req)
	if size <= udpSizeLimit {
		return
	}
	hop := req.Destination()
	if s.refusedTCP.recent(hop) {
		return
	}
	dst := parseAddrPort(hop)
	_, adv, err := s.facing("tcp", dst.Addr())
	if err != nil {
		return // natsbc serves no TCP: nowhere for the peer to answer
	}
	via := req.Via()
	old, oldLaddr := *via, req.Laddr
	s.overTCP(req, via, adv)
	if err := s.dialTCP(req); err != nil {
		// The peer has no TCP (refused, or the connect timed out): back to
		// the UDP socket req was built for, and no new attempt for a while.
		*via = old
		req.SetTransport("UDP")
		req.Laddr = oldLaddr
		s.refusedTCP.add(hop)
		log.Info("large request sent as one UDP datagram: next hop refuses TCP",
			"leg", leg, "method", req.Method, "bytes", size, "to", hop, "error", err)
		return
	}
	log.Debug("large request sent over TCP", "leg", leg, "method", req.Method, "bytes", size, "to", hop)
}

// overTCP turns req into a TCP request from natsbc's address adv (zero:
// keep the Via's sent-by). TCP requests never pin a local address: sipgo
// would write them onto whatever connection has it.
func (s *Server) overTCP(req *sip.Request, via *sip.ViaHeader, adv netip.AddrPort) {
	via.Transport = "TCP"
	if adv.IsValid() {
		via.Host, via.Port = hostPort(adv)
	}
	req.SetTransport("TCP")
	req.Laddr = sip.Addr{}
}

// dialTCP opens (or finds in sipgo's pool) the connection req will be sent
// on, within 4*T1: a peer that drops the SYN must not hold the call for the
// kernel's minutes of retries. sipgo sends req on the pooled connection.
func (s *Server) dialTCP(req *sip.Request) error {
	ctx, cancel := context.WithTimeout(s.base, 4*s.conf().T1)
	defer cancel()
	conn, err := s.ua.TransportLayer().ClientRequestConnection(ctx, req)
	if err != nil {
		return err
	}
	_, _ = conn.TryClose() // the pool keeps it; sipgo takes its own reference
	return nil
}

// legOf finds the call and leg a request natsbc sends belongs to: its
// Call-ID and From tag are that leg's (natsbc's own tag). nil, nil for
// requests outside calls (REGISTER relays, keepalives).
func (s *Server) legOf(req *sip.Request) (*call, *leg) {
	return s.legByTag(callID(req), fromTag(req))
}

// legByTag finds a leg by its Call-ID and natsbc's tag on it.
func (s *Server) legByTag(callID, localTag string) (*call, *leg) {
	if localTag == "" {
		return nil, nil
	}
	c, side, ok := s.calls.lookup(callID, localTag)
	if !ok {
		return nil, nil
	}
	return c, c.leg(side)
}

// largeMayUseTCP: a request too large for UDP may try TCP towards this
// leg's peer (see pickTransport).
func (l *leg) largeMayUseTCP() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.nated && peerTakesTCP(l.peer)
}

// peerTakesTCP: the peer's configuration lets a large request try TCP
// (a nat: always peer sits behind a NAT that lets no connection in).
func peerTakesTCP(p policy.Peer) bool {
	return p.NAT != policy.NATAlways && !p.LargeOverUDP()
}
