package loadgen

import (
	"net"
	"net/netip"
	"testing"
)

// listenLoopback opens a UDP socket on 127.0.0.1 with an ephemeral port and
// closes it when the test ends.
func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// listenRTP opens an RTP socket on 127.0.0.1 and closes it when the test
// ends.
func listenRTP(t testing.TB) *RTPSocket {
	t.Helper()
	s, err := ListenRTP(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatalf("ListenRTP: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
