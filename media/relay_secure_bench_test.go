package media

import (
	"net"
	"net/netip"
	"testing"
)

// sinkConn takes the relay's writes without a system call, so the
// benchmarks below weigh the relay's own work per packet.
type sinkConn struct{ udpConn }

func (sinkConn) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) { return len(b), nil }

// BenchmarkRelayHandle is the relay's work for one packet, sockets aside:
// plain RTP between two plain legs, SRTP from an SDES leg decrypted to the
// plain leg (in), plain RTP encrypted for the SDES leg (out). The note of
// each change to the media path reports these side by side.
func BenchmarkRelayHandle(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		c := newUDPCall(b, netip.IPv4Unspecified(), "127.0.0.1")
		phone := c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
		benchHandle(b, c.s.(*relaySession), LegA, phone, func(seq uint16, pkt []byte) []byte { return pkt })
	})
	b.Run("srtp-in", func(b *testing.B) {
		c := newSecureCall(b, SecuritySDES, sdesPhoneSDP)
		peer := newSDESPeer(b, c.toPhone[0])
		phone := c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
		benchHandle(b, c.s.(*relaySession), LegA, phone, func(seq uint16, pkt []byte) []byte {
			out, err := peer.enc.EncryptRTP(nil, pkt, nil)
			if err != nil {
				b.Fatal(err)
			}
			return out
		})
	})
	b.Run("srtp-out", func(b *testing.B) {
		c := newSecureCall(b, SecuritySDES, sdesPhoneSDP)
		phone := c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
		rs := c.s.(*relaySession)
		rs.streams[0].sides[LegA].rtpLatch.point(phone) // as if the phone had sent
		pbx := c.pbx.LocalAddr().(*net.UDPAddr).AddrPort()
		benchHandle(b, rs, LegB, pbx, func(seq uint16, pkt []byte) []byte { return pkt })
	})
}

// benchHandle hands stream 0's side from packets from src, made in
// batches outside the timer (SRTP refuses a packet twice).
func benchHandle(b *testing.B, rs *relaySession, from Leg, src netip.AddrPort, prepare func(uint16, []byte) []byte) {
	st := rs.streams[0]
	s, o := st.sides[from], st.sides[from.other()]
	saved := o.rtp
	o.rtp = sinkConn{saved}
	b.Cleanup(func() { o.rtp = saved })
	scratch := make([]byte, 0, scratchCap)
	const batch = 4096
	pkts := make([][]byte, batch)
	buf := make([]byte, maxDatagram)
	seq := uint16(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			for j := range pkts {
				seq++
				plain := rtpPacket(0, seq, uint32(seq)*160, 0xabc)
				pkts[j] = prepare(seq, plain)
			}
			b.StartTimer()
		}
		pkt := pkts[i%batch]
		n := copy(buf, pkt) // handle decrypts in place: keep the batch intact
		st.handle(s, s.rtp, true, buf[:n], src, scratch)
	}
	b.StopTimer()
	if f := s.flow(); f.Packets == 0 || f.Dropped != 0 {
		b.Fatalf("nothing relayed, or dropped: %+v", f)
	}
}
