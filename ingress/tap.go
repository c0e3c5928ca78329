package ingress

import (
	"net"
	"net/netip"
)

// Tap sees the SIP messages natsbc receives and sends, as bytes on the
// wire with the addresses they really went between: for HEP export and
// the transport counters. It runs on the socket's goroutine: it must not
// block nor keep msg.
type Tap interface {
	SIP(received bool, transport string, local, remote netip.AddrPort, msg []byte)
}

// tapped hands msg to tap when there is one; CRLF keepalives are not SIP
// messages and are not tapped.
func tapped(tap Tap, received bool, transport string, local net.Addr, remote netip.AddrPort, msg []byte) {
	if tap == nil || isKeepalive(msg) {
		return
	}
	tap.SIP(received, transport, unmapped(addrPortOf(local)), unmapped(remote), msg)
}

// unmapped writes an IPv4 address as IPv4 (sockets report ::ffff:a.b.c.d).
func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
