package media

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/natsbc/natsbc/nat"
)

const (
	// maxDatagram holds any RTP packet of a 1500-byte MTU path and
	// reassembled fragments of a few kilobytes.
	maxDatagram = 4096
	// maxReadFailures in a row end a reader instead of spinning on a broken socket.
	maxReadFailures = 100
	// scratchCap holds what a reader writes besides relaying a packet as
	// it came: a STUN answer (at most ~100 bytes for nat's, a little more
	// for an ICE one) or a packet encrypted for an SRTP leg (its datagram
	// plus the SRTP overhead).
	scratchCap = maxDatagram + srtpOverheadCap
)

// relayStream relays one m= line between the two legs: four sockets,
// served by one packet engine worker, or by a reader goroutine each when
// they are not real UDP sockets. Nothing on its packet path is shared with
// another stream or call; what the two legs share is read through atomics.
type relayStream struct {
	index  int
	sides  [2]*side
	clock  func() int64
	log    *slog.Logger
	engine engineStream   // the worker serving the sockets, if any
	wg     sync.WaitGroup // the reader goroutines, if no worker
	// rtcp, when set, sees each RTCP packet relayed (Config.OnRTCP).
	rtcp func(from, to netip.AddrPort, pkt []byte)
}

// startStream starts relaying between a (leg a's pair) and b (leg b's).
func startStream(index int, a, b *side, clock func() int64, log *slog.Logger, rtcp func(from, to netip.AddrPort, pkt []byte)) *relayStream {
	st := &relayStream{index: index, sides: [2]*side{a, b}, clock: clock, log: log, rtcp: rtcp}
	if eng := a.engine; eng != nil && eng == b.engine && eng.start(st) {
		return st
	}
	for _, s := range st.sides {
		st.wg.Add(2)
		go st.serve(s, s.rtp, true)
		go st.serve(s, s.rtcp, false)
	}
	return st
}

// close stops the readers and waits for them; the ports are the caller's to free.
func (st *relayStream) close() {
	if st.engine.active() {
		st.engine.stop(st)
		return
	}
	for _, s := range st.sides {
		_ = s.rtp.Close()
		_ = s.rtcp.Close()
	}
	st.wg.Wait()
}

// serve reads one socket until it is closed.
func (st *relayStream) serve(s *side, conn udpConn, rtpPort bool) {
	defer st.wg.Done()
	buf := make([]byte, maxDatagram)
	scratch := make([]byte, 0, scratchCap)
	failures := 0
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if failures++; failures == maxReadFailures {
				st.log.Warn("media socket keeps failing, relaying on it stopped",
					"stream", st.index, "leg", s.leg.String(), "port", s.port, "err", err)
				return
			}
			continue
		}
		failures = 0
		st.handle(s, conn, rtpPort, buf[:n], unmapped(src), scratch)
	}
}

// handle relays one packet that s's peer sent to conn (s's RTP port when
// rtpPort, else its RTCP port).
func (st *relayStream) handle(s *side, conn udpConn, rtpPort bool, pkt []byte, src netip.AddrPort, scratch []byte) {
	pol := s.policy.Load()
	c := carryRTP
	if pol != nil {
		c = pol.carriage
	}
	kind := classify(pkt, c)
	if kind == kindOther {
		return
	}
	if pol != nil && pol.secure != nil {
		// natsbc ends this leg's security: what goes on is plain RTP.
		var ok bool
		if pkt, ok = st.unsecure(s, conn, rtpPort, kind, pkt, src, scratch, pol); !ok {
			return
		}
	}
	if kind == kindSTUN {
		// STUN on a media port (RFC 7983 §7) is a NAT keepalive or a
		// reflexive-address query: answered, never relayed.
		if pol.mayLatchFrom(src.Addr()) {
			if resp, ok := nat.AppendBindingAnswer(scratch[:0], pkt, src); ok {
				_, _ = conn.WriteToUDPAddrPort(resp, src)
			}
		}
		return
	}
	in, rx := &s.rtcpLatch, (*rxStats)(nil)
	if rtpPort {
		in, rx = &s.rtpLatch, &s.rx // this reader owns rx
	}
	now := st.clock()
	ok, latched := in.admit(src, now, pol, pkt, kind == kindRTCP, rx)
	if !ok {
		s.dropped.Add(1)
		return
	}
	if latched {
		st.log.Info("media latched", "stream", st.index, "leg", s.leg.String(),
			"rtcp_port", !rtpPort, "source", src.String())
	}

	o := st.sides[s.leg.other()]
	var out udpConn
	var dst *latch
	// opaque: media that is not RTP (UDPTL, ZRTP), relayed as it is.
	opaque := kind == kindDatagram || kind == kindZRTP
	switch {
	case kind == kindRTP && rtpPort:
		s.observeRTP(pkt, now)
		out, dst = o.rtp, &o.rtpLatch
	case opaque && rtpPort:
		// UDPTL, ZRTP (RFC 6189 §5: on the RTP port): alive, no RTP statistics.
		s.lastMedia.Store(now)
		out, dst = o.rtp, &o.rtpLatch
	case kind == kindDTLS && rtpPort:
		out, dst = o.rtp, &o.rtpLatch
	case kind == kindDTLS, opaque:
		// The second port of the pair: a data stream has no RTCP, so what
		// comes there goes to the other side's second port as it is.
		out, dst = o.rtcp, &o.rtcpLatch
	default: // RTCP on its own port, or muxed on the RTP port
		out, dst = o.rtcpOut()
	}
	to, known := dst.target()
	if !known {
		s.unsent.Add(1) // the other peer is NATed and has not sent yet
		return
	}
	onWire := pkt // as it goes out; pkt stays the plain packet counted and tapped
	if opol := o.policy.Load(); opol != nil && opol.secure != nil {
		if onWire = secure(opol.secure, kind, pkt, scratch); onWire == nil {
			s.unsent.Add(1) // no keys agreed with that peer yet
			return
		}
	}
	// Counted before the write so whoever receives it sees it counted.
	switch {
	case (kind == kindRTP && rtpPort) || opaque:
		s.relayedMedia(len(pkt))
	case kind != kindDTLS:
		s.rtcpPackets.Add(1)
		if st.rtcp != nil {
			st.rtcp(src, to, pkt)
		}
	}
	_, _ = out.WriteToUDPAddrPort(onWire, to) // UDP: a lost write is a lost packet
}
