package sbc

import (
	"encoding/json"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The SIP tap (Options.Tap: HEP export, transport counters) sees every
// message on the wire. UDP is tapped at the guarded socket, retransmissions
// included. sipgo writes stream transports on connections it dials itself,
// so over TCP what is received is tapped as sipgo parsed it and what is
// sent at natsbc's few send points (a reliable transport has no
// retransmissions to miss); the responses sipgo sends by itself over TCP
// (200 to CANCEL, 487) are not seen. The local address of a TCP message
// is the TCP listener's.

// wireTap is the tap of the UDP sockets: it counts every message and
// hands it to Options.Tap with natsbc's real address.
type wireTap struct{ s *Server }

func (t wireTap) SIP(received bool, transport string, local, remote netip.AddrPort, msg []byte) {
	dir := 1
	if received {
		dir = 0
	}
	t.s.ops.messages[transportUDP][dir].Add(1)
	if t.s.diag.Enabled() {
		t.s.record(received, transport, t.s.realLocal(local, remote), remote, msg)
	}
	if t.s.tap != nil {
		t.s.tap.SIP(received, transport, t.s.realLocal(local, remote), remote, msg)
	}
}

// realLocal is natsbc's address a message to or from remote went by: a
// socket bound to every address (0.0.0.0) does not say, the route to
// remote does.
// Answers are kept a while (the route lookup is a netlink round trip).
func (s *Server) realLocal(local, remote netip.AddrPort) netip.AddrPort {
	if !local.Addr().IsUnspecified() || s.router == nil {
		return local
	}
	if ip, ok := s.sourceFor.get(remote.Addr(), time.Now()); ok {
		return netip.AddrPortFrom(ip, local.Port())
	}
	ip, err := s.router.SourceFor(remote.Addr())
	if err != nil {
		return local
	}
	s.sourceFor.put(remote.Addr(), ip, time.Now())
	return netip.AddrPortFrom(ip, local.Port())
}

// routeCache keeps the local address the route to a remote address takes,
// for sourceCacheTTL, at most sourceCacheSize of them (then it starts
// afresh).
type routeCache struct {
	mu sync.Mutex
	m  map[netip.Addr]cachedSource
}

type cachedSource struct {
	ip netip.Addr
	at time.Time
}

const (
	sourceCacheTTL  = 30 * time.Second
	sourceCacheSize = 4096
)

func (c *routeCache) get(remote netip.Addr, now time.Time) (netip.Addr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[remote]
	if !ok || now.Sub(e.at) > sourceCacheTTL {
		return netip.Addr{}, false
	}
	return e.ip, true
}

func (c *routeCache) put(remote, ip netip.Addr, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= sourceCacheSize {
		c.m = map[netip.Addr]cachedSource{}
	}
	c.m[remote] = cachedSource{ip, now}
}

// tapStreamResponse is registered with sipgo's transport layer: it sees
// a response as it came (natsbc only reads received responses). Requests
// are tapped as a handler gets them (guarded), before it changes them
// (a To tag): sipgo hands them to the handler's goroutine before this
// runs. CANCELs and the ACKs of non-2xx over TCP, which sipgo answers
// itself, are not tapped.
func (s *Server) tapStreamResponse(msg sip.Message) {
	if _, isReq := msg.(*sip.Request); !isReq {
		s.tapStreamReceived(msg)
	}
}

// tapStreamReceived taps a message received over a stream transport.
func (s *Server) tapStreamReceived(msg sip.Message) {
	if isUDP(msg.Transport()) {
		return
	}
	s.ops.messages[transportIndex(msg.Transport())][0].Add(1)
	if s.tap == nil && !s.diag.Enabled() {
		return
	}
	transport := strings.ToLower(msg.Transport())
	remote := parseAddrPort(msg.Source())
	local, raw := s.realLocal(s.streamLocal(transport), remote), []byte(msg.String())
	s.record(true, transport, local, remote, raw)
	if s.tap != nil {
		s.tap.SIP(true, transport, local, remote, raw)
	}
}

// tapStreamSent is called after natsbc wrote msg (sipgo retransmits over
// UDP only, where the socket taps).
func (s *Server) tapStreamSent(msg sip.Message) {
	if isUDP(msg.Transport()) {
		return
	}
	s.ops.messages[transportIndex(msg.Transport())][1].Add(1)
	if s.tap == nil && !s.diag.Enabled() {
		return
	}
	transport := strings.ToLower(msg.Transport())
	remote := parseAddrPort(msg.Destination())
	local, raw := s.realLocal(s.streamLocal(transport), remote), []byte(msg.String())
	s.record(false, transport, local, remote, raw)
	if s.tap != nil {
		s.tap.SIP(false, transport, local, remote, raw)
	}
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

// EventTap, when Options.Tap has it, gets natsbc's own call events (a
// HEP log packet): the teardown of a call whose 2xx no ACK answered.
type EventTap interface {
	CallEvent(correlationID string, local, remote netip.AddrPort, event []byte)
}

// callEvent hands ev (as JSON) about leg l of c to the tap, between
// natsbc's socket and where msg went.
func (s *Server) callEvent(c *call, l *leg, msg sip.Message, ev map[string]string) {
	et, ok := s.tap.(EventTap)
	if !ok {
		return
	}
	ev["call_id"] = l.callID
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	remote := parseAddrPort(msg.Destination())
	var local netip.AddrPort
	if l.sock != nil {
		local = s.realLocal(l.sock.local, remote)
	}
	et.CallEvent(c.a.callID, local, remote, b)
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
