//go:build linux

package media

import (
	"net"
	"testing"
)

// BenchmarkKernelFloor is the least a socket relay does per packet: one
// datagram sent over loopback (the kernel delivers it within the send)
// and read from the receiving socket, both non-blocking, with no wake-up
// in between. The relay's CPU per relayed packet cannot go below it;
// compare with the load test's figure.
func BenchmarkKernelFloor(b *testing.B) {
	src, dst := listenLoopback(b, "127.0.0.1"), listenLoopback(b, "127.0.0.1")
	from, err := dupUDPConn(src)
	if err != nil {
		b.Fatal(err)
	}
	defer from.Close()
	to, err := dupUDPConn(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer to.Close()
	// Only the duplicates stay: no netpoller registration wakes anyone.
	src.Close()
	dst.Close()
	addr := dst.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := rtpPacket(0, 1, 160, 1)
	batch := newMsgBatch(1, maxDatagram)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := from.WriteToUDPAddrPort(pkt, addr); err != nil {
			b.Fatal(err)
		}
		if n, err := batch.recv(to.fd); n != 1 || err != nil {
			b.Fatalf("recv: %d, %v", n, err)
		}
	}
}
