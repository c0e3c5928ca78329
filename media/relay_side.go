package media

import (
	"math"
	"sync/atomic"
)

// side is one leg's half of a relayed stream: the port pair natsbc offers
// that leg's peer, where the peer's RTP and RTCP go, and the counters of
// what the peer sent (the leg→other direction).
type side struct {
	leg       Leg
	port      int // RTP; RTCP is port+1
	rtp, rtcp udpConn
	// engine, when set, may serve the stream (both sides must name it).
	engine *packetEngine

	rtpLatch, rtcpLatch latch
	policy              atomic.Pointer[sidePolicy]

	packets, bytes, rtcpPackets, dropped, unsent, lost atomic.Uint64
	jitterMs                                           atomic.Uint64 // float64 bits
	// lastMedia is the anchor-clock time of the peer's last media packet
	// (RTP, UDPTL, ZRTP; 0: none yet); the session's timeout watch reads it.
	lastMedia atomic.Int64

	rx rxStats // owned by whoever reads rtp: its goroutine or its engine worker
}

var noClockRates [128]uint32

func newSide(leg Leg, port int, rtp, rtcp udpConn) *side {
	return &side{leg: leg, port: port, rtp: rtp, rtcp: rtcp}
}

// observeRTP follows an RTP packet the peer sent: liveness, loss, jitter.
func (s *side) observeRTP(pkt []byte, now int64) {
	s.lastMedia.Store(now)
	rates := &noClockRates
	if p := s.policy.Load(); p != nil {
		rates = &p.clockRates
	}
	lost, jitter := s.rx.observe(pkt, now, rates)
	s.lost.Store(lost)
	s.jitterMs.Store(math.Float64bits(jitter))
}

// relayedMedia counts a media packet of the peer's (RTP, UDPTL, ZRTP) that
// went to the other leg.
func (s *side) relayedMedia(n int) {
	s.packets.Add(1)
	s.bytes.Add(uint64(n))
}

// flow reads the counters of what the peer sent.
func (s *side) flow() FlowStats {
	return FlowStats{
		Packets:     s.packets.Load(),
		Bytes:       s.bytes.Load(),
		RTCPPackets: s.rtcpPackets.Load(),
		Dropped:     s.dropped.Load(),
		Unsent:      s.unsent.Load(),
		Lost:        s.lost.Load(),
		JitterMs:    math.Float64frombits(s.jitterMs.Load()),
	}
}

// rtcpOut is the socket and destination natsbc sends this peer's RTCP by.
func (s *side) rtcpOut() (udpConn, *latch) {
	if p := s.policy.Load(); p != nil && p.rtcpMux {
		return s.rtp, &s.rtpLatch
	}
	return s.rtcp, &s.rtcpLatch
}
