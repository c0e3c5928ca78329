package sbc

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// The SIP tap (Options.Tap: HEP export, transport counters) sees every
// message on the wire. UDP is tapped at the guarded socket, retransmissions
// included. sipgo writes stream transports on connections it dials itself,
// so over TCP what is received is tapped as sipgo hands it to its
// transaction layer and what is sent at natsbc's few send points (a
// reliable transport has no retransmissions to miss). The local address of
// a TCP message is the TCP listener's.

// tapStreamReceived is registered with sipgo's transport layer.
func (s *Server) tapStreamReceived(msg sip.Message) {
	if isUDP(msg.Transport()) {
		return
	}
	s.ops.messages[transportTCP][0].Add(1)
	if s.tap == nil {
		return
	}
	transport := strings.ToLower(msg.Transport())
	s.tap.SIP(true, transport, s.streamLocal(transport), parseAddrPort(msg.Source()), []byte(msg.String()))
}

// tapStreamSent is called after natsbc wrote msg (sipgo retransmits over
// UDP only, where the socket taps).
func (s *Server) tapStreamSent(msg sip.Message) {
	if isUDP(msg.Transport()) {
		return
	}
	s.ops.messages[transportTCP][1].Add(1)
	if s.tap == nil {
		return
	}
	transport := strings.ToLower(msg.Transport())
	s.tap.SIP(false, transport, s.streamLocal(transport), parseAddrPort(msg.Destination()), []byte(msg.String()))
}

// streamLocal is the address of natsbc's first listener of transport.
func (s *Server) streamLocal(transport string) netip.AddrPort {
	for _, l := range s.listeners {
		if l.Stream != nil && strings.EqualFold(l.Spec.Network, transport) {
			return l.Spec.Addr
		}
	}
	return netip.AddrPort{}
}

// CorrelationID ties the messages of one call's two legs together (HEP
// chunk 0x0011): the A-leg Call-ID for a Call-ID of either leg of a call
// up, callID itself otherwise.
func (s *Server) CorrelationID(callID string) string {
	if c := s.calls.byCallID(callID); c != nil {
		return c.a.callID
	}
	return callID
}
