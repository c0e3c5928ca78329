package media

import (
	"net"
	"net/netip"
)

// udpConn is the socket API the packet path needs: netip addresses in and
// out, which *net.UDPConn serves without allocating.
type udpConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	Close() error
}

// asUDPConn adapts an injected net.PacketConn; *net.UDPConn and test fakes
// pass as they are.
func asUDPConn(pc net.PacketConn) udpConn {
	if u, ok := pc.(udpConn); ok {
		return u
	}
	return packetConnAdapter{pc}
}

// packetConnAdapter serves a PacketConn that only speaks net.Addr; it
// allocates per packet, which is the price of such a socket.
type packetConnAdapter struct{ net.PacketConn }

func (a packetConnAdapter) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, addr, err := a.ReadFrom(b)
	return n, addrPortOf(addr), err
}

func (a packetConnAdapter) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	return a.WriteTo(b, net.UDPAddrFromAddrPort(addr))
}

func addrPortOf(addr net.Addr) netip.AddrPort {
	switch a := addr.(type) {
	case nil:
		return netip.AddrPort{}
	case *net.UDPAddr:
		return a.AddrPort()
	default:
		ap, _ := netip.ParseAddrPort(addr.String())
		return ap
	}
}

// unmapped turns the ::ffff:a.b.c.d a dual-stack socket reports back into
// a.b.c.d, so addresses compare equal to those in SDP and SIP.
func unmapped(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}
