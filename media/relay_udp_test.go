package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// udpCall sets up a call on real loopback sockets: phone (NATed) on leg a,
// pbx (public) on leg b, and returns where each must send.
type udpCall struct {
	anchor         *RelayAnchor
	s              Session
	phone, pbx     *net.UDPConn
	relayA, relayB netip.AddrPort
}

func listenLoopback(tb testing.TB, ip string) *net.UDPConn {
	tb.Helper()
	addr := netip.MustParseAddr(ip)
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	switch {
	case err != nil && addr.Is6():
		tb.Skipf("no %s (host without IPv6): %v", ip, err)
	case err != nil:
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func sdpFor(addr netip.AddrPort) string {
	ipv := "IP4"
	if addr.Addr().Is6() {
		ipv = "IP6"
	}
	return fmt.Sprintf("v=0\r\no=- 1 1 IN %[1]s %[2]s\r\ns=-\r\nc=IN %[1]s %[2]s\r\nt=0 0\r\n"+
		"m=audio %[3]d RTP/AVP 0\r\na=sendrecv\r\n", ipv, addr.Addr(), addr.Port())
}

func newUDPCall(tb testing.TB, listenIP netip.Addr, peerIP string) *udpCall {
	tb.Helper()
	a, err := NewRelayAnchor(Config{PortMin: 43000, PortMax: 43999, ListenIP: listenIP, Logger: discardLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	c := &udpCall{anchor: a, phone: listenLoopback(tb, peerIP), pbx: listenLoopback(tb, peerIP)}
	phoneAddr := c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
	pbxAddr := c.pbx.LocalAddr().(*net.UDPAddr).AddrPort()
	if c.s, err = a.NewSession("udp", nil); err != nil {
		tb.Fatal(err)
	}
	c.s.SetPeer(LegA, PeerInfo{SignalSource: phoneAddr, NATed: true})
	c.s.SetPeer(LegB, PeerInfo{SignalSource: pbxAddr})
	facing := phoneAddr.Addr()
	for _, step := range []struct {
		from Leg
		body string
		to   *netip.AddrPort
	}{{LegA, sdpFor(phoneAddr), &c.relayB}, {LegB, sdpFor(pbxAddr), &c.relayA}} {
		out, err := c.s.Rewrite(step.from, "application/sdp", []byte(step.body), facing)
		if err != nil {
			tb.Fatal(err)
		}
		st, err := ParseStreams(out)
		if err != nil {
			tb.Fatal(err)
		}
		*step.to = netip.AddrPortFrom(facing, uint16(st[0].Port))
	}
	return c
}

// exchange sends pkt from → relay and reads it where it must come out.
func exchange(tb testing.TB, from *net.UDPConn, relay netip.AddrPort, to *net.UDPConn, pkt, buf []byte) netip.AddrPort {
	if _, err := from.WriteToUDPAddrPort(pkt, relay); err != nil {
		tb.Fatal(err)
	}
	_ = to.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, src, err := to.ReadFromUDPAddrPort(buf)
	if err != nil || n != len(pkt) {
		tb.Fatalf("relayed packet: n=%d err=%v", n, err)
	}
	return src
}

func TestRelayRealUDP(t *testing.T) {
	for _, c := range []struct {
		name     string
		listenIP netip.Addr
		peerIP   string
	}{
		// The default: one dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d.
		{"dual-stack ipv4", netip.IPv4Unspecified(), "127.0.0.1"},
		{"dual-stack ipv6", netip.IPv4Unspecified(), "::1"},
		{"bound ipv4", netip.MustParseAddr("127.0.0.1"), "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			call := newUDPCall(t, c.listenIP, c.peerIP)
			buf := make([]byte, 1500)
			for seq := range uint16(3) {
				pkt := rtpPacket(0, seq, uint32(seq)*160, 0xa)
				if src := exchange(t, call.phone, call.relayA, call.pbx, pkt, buf); src.Port() != call.relayB.Port() {
					t.Fatalf("PBX got media from %v, want relay port %d", src, call.relayB.Port())
				}
				if src := exchange(t, call.pbx, call.relayB, call.phone, pkt, buf); src.Port() != call.relayA.Port() {
					t.Fatalf("phone got media from %v, want relay port %d", src, call.relayA.Port())
				}
			}
			if st := call.s.Stats(); st.AtoB.Packets != 3 || st.BtoA.Packets != 3 || st.AtoB.Dropped != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// BenchmarkRelayForward is one RTP packet phone → relay → PBX over
// loopback in steady state (latched): the relay must not allocate.
func BenchmarkRelayForward(b *testing.B) {
	call := newUDPCall(b, netip.IPv4Unspecified(), "127.0.0.1")
	pkt := rtpPacket(0, 0, 0, 0xa)
	buf := make([]byte, 1500)
	exchange(b, call.phone, call.relayA, call.pbx, pkt, buf) // latch
	var seq uint16
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
		exchange(b, call.phone, call.relayA, call.pbx, pkt, buf)
	}
}

// The hot path's promise, checked in every test run: relaying a latched
// RTP packet allocates nothing (the count covers all goroutines).
func TestRelayForwardDoesNotAllocate(t *testing.T) {
	call := newUDPCall(t, netip.IPv4Unspecified(), "127.0.0.1")
	pkt := rtpPacket(0, 0, 0, 0xa)
	buf := make([]byte, 1500)
	exchange(t, call.phone, call.relayA, call.pbx, pkt, buf)
	var seq uint16
	allocs := testing.AllocsPerRun(500, func() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		exchange(t, call.phone, call.relayA, call.pbx, pkt, buf)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per relayed packet, want 0", allocs)
	}
}
