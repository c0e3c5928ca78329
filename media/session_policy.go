package media

import "net/netip"

// applyPolicy publishes what leg's peer of stream i may do, from its
// PeerInfo, its last SDP and the latch window of the stream's last SDP.
func (s *relaySession) applyPolicy(leg Leg, i int) {
	p := s.peers[leg]
	pol := &sidePolicy{
		signalIP:  p.SignalSource.Addr().Unmap(),
		relaxed:   p.Latch == LatchRelaxed,
		windowEnd: s.negotiated[i] + int64(s.tune.LatchWindow),
		carriage:  s.carriage[i],
	}
	if st, ok := sdpStream(s.sdp[leg], i); ok {
		if usableAddr(st.Addr) {
			pol.sdpIP = st.Addr
		}
		if p.Latch == LatchSRTPAuth {
			pol.auth = newSRTPAuth(st.Crypto)
		}
		// rtcp-mux is in use once offer and answer both carry it
		// (RFC 5761 §5.1.1); before the answer, as offered.
		other, known := sdpStream(s.sdp[leg.other()], i)
		pol.rtcpMux = st.RTCPMux && (!known || other.RTCPMux)
		for pt, rate := range st.ClockRates {
			if pt < 128 {
				pol.clockRates[pt] = rate
			}
		}
	}
	peer, known := sdpStream(s.sdp[leg], i)
	s.securePolicy(pol, leg, i, peer, known)
	s.streams[i].sides[leg].policy.Store(pol)
}

// aim points stream i's media towards leg's peer at its SDP address
// before it has sent anything, when that peer is public and proven (a
// NATed or unproven peer is only sent to where its packets come from). An address the peer has
// re-latched away from is only replaced when its SDP names a new one.
func (s *relaySession) aim(leg Leg, i int, sdpChanged bool) {
	st, ok := sdpStream(s.sdp[leg], i)
	if !ok || s.peers[leg].NATed || s.peers[leg].Unproven {
		return
	}
	sd := s.streams[i].sides[leg]
	aimLatch(&sd.rtpLatch, st.Addr, st.Port, sdpChanged)
	aimLatch(&sd.rtcpLatch, st.RTCPAddr, st.RTCPPort, sdpChanged)
}

// aimLatch points l at addr:port (ParseStreams has unmapped addr) unless
// that is no place to send, or l already has a destination the SDP did
// not change.
func aimLatch(l *latch, addr netip.Addr, port int, sdpChanged bool) {
	if !usableAddr(addr) || port == 0 {
		return
	}
	if _, known := l.target(); sdpChanged || !known {
		l.point(netip.AddrPortFrom(addr, uint16(port)))
	}
}

// usableAddr: 0.0.0.0 is old-style hold (RFC 3264 §8.4), not a place to send.
func usableAddr(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }

// changedAddress tells whether m= line i names other media addresses now
// than in prev (true for a line prev did not have).
func changedAddress(prev, now []Stream, i int) bool {
	p, ok := sdpStream(prev, i)
	if !ok {
		return true
	}
	n := now[i]
	return p.Addr != n.Addr || p.Port != n.Port || p.RTCPAddr != n.RTCPAddr || p.RTCPPort != n.RTCPPort
}

func sdpStream(streams []Stream, i int) (Stream, bool) {
	if i < len(streams) {
		return streams[i], true
	}
	return Stream{}, false
}
