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

func newBatchConn(t testing.TB, c *net.UDPConn, size int) *BatchConn {
	t.Helper()
	b, err := NewBatchConn(c, size)
	if err != nil {
		t.Fatalf("NewBatchConn: %v", err)
	}
	return b
}
