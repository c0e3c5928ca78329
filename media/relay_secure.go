package media

import (
	"net/netip"

	"github.com/natsbc/natsbc/secmedia"
)

// srtpOverheadCap bounds what SRTP adds to a packet: a 16-byte tag (GCM)
// and the 4-byte SRTCP index, with room to spare.
const srtpOverheadCap = 32

// unsecure takes a packet from a peer whose security natsbc ends (RFC
// 7983 §7 tells the protocols sharing the port apart): an ICE check is
// answered, DTLS goes to the leg's handshake, SRTP and SRTCP are decrypted
// in place and go on as plain RTP and RTCP. ok is false when nothing goes
// on. Decryption comes before latching: a packet that does not
// authenticate cannot move where the peer's media goes.
func (st *relayStream) unsecure(s *side, conn udpConn, rtpPort bool, kind packetKind, pkt []byte, src netip.AddrPort, scratch []byte, pol *sidePolicy) ([]byte, bool) {
	sec := pol.secure
	in := &s.rtcpLatch
	if rtpPort {
		in = &s.rtpLatch
	}
	switch kind {
	case kindSTUN:
		ice := sec.ice.Load()
		if ice == nil {
			return pkt, true // a NAT keepalive: answered as on any leg
		}
		st.answerICE(s, conn, ice, pkt, src, scratch)
		return nil, false
	case kindDTLS:
		// natsbc runs DTLS on the RTP component only (RFC 5764 §4.1.2:
		// its keys protect RTCP too); a handshake a peer starts on its RTCP
		// port is not answered.
		d := sec.dtls.Load()
		if d == nil || !rtpPort || !st.mayHandshake(in, pol, src) {
			s.dropped.Add(1)
			return nil, false
		}
		d.Feed(pkt)
		return nil, false
	case kindRTP, kindRTCP:
		t := sec.ready()
		if t == nil {
			s.dropped.Add(1) // keys not agreed yet
			return nil, false
		}
		var err error
		if kind == kindRTP {
			pkt, err = t.DecryptRTP(pkt[:0], pkt)
		} else {
			pkt, err = t.DecryptRTCP(pkt[:0], pkt)
		}
		if err != nil {
			s.dropped.Add(1)
			return nil, false
		}
		return pkt, true
	}
	// ZRTP or anything else has no place on a leg natsbc secures itself.
	s.dropped.Add(1)
	return nil, false
}

// answerICE answers an authenticated connectivity check (RFC 8445 §7.3 as
// a lite agent) and latches the peer's media to its source when the check
// nominates the pair (USE-CANDIDATE) or nothing is latched yet. With
// rtcp-mux, RTCP goes the same way.
func (st *relayStream) answerICE(s *side, conn udpConn, ice *secmedia.ICELite, pkt []byte, src netip.AddrPort, scratch []byte) {
	resp, nominated, ok := ice.Answer(scratch[:0], pkt, src)
	if !ok {
		s.dropped.Add(1) // not ours: no answer, so no reflection either
		return
	}
	_, _ = conn.WriteToUDPAddrPort(resp, src)
	cur, known := s.rtpLatch.target()
	if (nominated || !known) && cur != src {
		s.rtpLatch.point(src)
		s.rtcpLatch.point(src)
		st.log.Info("media latched by ICE", "stream", st.index, "leg", s.leg.String(),
			"source", src.String(), "nominated", nominated)
	}
}

// mayHandshake decides whether a DTLS packet from src reaches the
// handshake: from where the peer's media goes, always; from elsewhere only
// on a leg without ICE that has no destination yet, inside the latch
// window and by the strict address rule. A DTLS datagram proves nothing,
// so it may find a peer but never move one that was found.
func (st *relayStream) mayHandshake(in *latch, pol *sidePolicy, src netip.AddrPort) bool {
	d, known := in.target()
	if known {
		return d == src
	}
	if pol.iceOnly || st.clock() >= pol.windowEnd || !pol.addressRule(src.Addr()) {
		return false
	}
	in.point(src)
	st.log.Info("media latched by DTLS", "stream", st.index, "source", src.String())
	return true
}

// secure encrypts a plain RTP or RTCP packet for a peer whose security
// natsbc ends, into scratch; nil when it cannot go there (no keys yet, or
// a packet that is neither).
func secure(sec *secureLeg, kind packetKind, pkt, scratch []byte) []byte {
	t := sec.ready()
	if t == nil {
		return nil
	}
	var out []byte
	var err error
	switch kind {
	case kindRTP:
		out, err = t.EncryptRTP(scratch[:0], pkt)
	case kindRTCP:
		out, err = t.EncryptRTCP(scratch[:0], pkt)
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	return out
}
