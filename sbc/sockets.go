package sbc

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/nat"
)

// Listener is one SIP socket handed to the Server. The caller opens it
// (so tests can inject sockets) and the Server serves it until Shutdown.
type Listener struct {
	Spec ListenSpec
	// Packet is set for Spec.Network "udp", Stream for the others: "tcp",
	// and "tls", "ws", "wss" (for tls and wss a listener whose connections
	// are TLS already, crypto/tls's NewListener: the Server caps and times
	// them as TCP connections, beneath the handshake).
	Packet net.PacketConn
	Stream net.Listener
}

// socket is a served Listener as the signalling core sees it.
type socket struct {
	spec    ListenSpec
	network string         // "udp" | "tcp" | "tls" | "ws" | "wss"
	local   netip.AddrPort // bound address (may be unspecified IP)
	laddr   sip.Addr       // key of the socket in sipgo's connection pool
	// packet is the raw UDP socket (nil for TCP), for what natsbc writes
	// outside SIP: STUN answers and CRLF keepalives.
	packet net.PacketConn
	// public, when set, learns the advertised address over STUN.
	public *nat.PublicAddress
}

func newSocket(l Listener) (*socket, error) {
	var addr net.Addr
	switch l.Spec.Network {
	case "udp":
		if l.Packet == nil {
			return nil, fmt.Errorf("listener %q: udp without a packet socket", l.Spec.Name)
		}
		addr = l.Packet.LocalAddr()
	case "tcp", "tls", "ws", "wss":
		if l.Stream == nil {
			return nil, fmt.Errorf("listener %q: %s without a stream listener", l.Spec.Name, l.Spec.Network)
		}
		addr = l.Stream.Addr()
	default:
		return nil, fmt.Errorf("listener %q: unknown network %q", l.Spec.Name, l.Spec.Network)
	}
	local, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return nil, fmt.Errorf("listener %q: local address %s: %w", l.Spec.Name, addr, err)
	}
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	return &socket{
		spec:    l.Spec,
		network: l.Spec.Network,
		local:   local,
		laddr:   sip.Addr{IP: net.IP(local.Addr().AsSlice()), Port: int(local.Port()), Hostname: local.Addr().String()},
	}, nil
}

// wildcard reports whether the socket is bound to all interfaces.
func (s *socket) wildcard() bool { return s.local.Addr().IsUnspecified() }

// advertised returns the address natsbc puts in Via/Contact on this socket
// towards a peer reached from local address facing: the configured advertise
// address, else the bound address, else (wildcard) the address of the
// interface that faces the peer.
func (s *socket) advertised(facing netip.Addr) netip.AddrPort {
	if s.public != nil {
		if a := s.public.Addr(); a.IsValid() {
			return netip.AddrPortFrom(a, s.local.Port())
		}
	}
	switch {
	case s.spec.Advertise.IsValid():
		return netip.AddrPortFrom(s.spec.Advertise, s.local.Port())
	case !s.wildcard():
		return s.local
	default:
		return netip.AddrPortFrom(facing, s.local.Port())
	}
}

func (s *socket) String() string {
	name := s.spec.Name
	if name == "" {
		name = "sip"
	}
	return name + "/" + s.network + "/" + s.local.String()
}

// hostPort formats an advertised address for Via/Contact (IPv6 in brackets).
func hostPort(ap netip.AddrPort) (string, int) {
	return ap.Addr().String(), int(ap.Port())
}

// joinHostPort is net.JoinHostPort for an int port.
func joinHostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
