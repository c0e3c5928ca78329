package media

import "net/netip"

// Direction is an SDP stream's direction attribute, seen from the side that
// wrote the SDP.
type Direction string

// RFC 3264 §5.1: the four direction attributes; sendrecv when none is given.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// direction recognises the four direction attributes (RFC 3264 §5.1).
func direction(attr string) (Direction, bool) {
	switch d := Direction(attr); d {
	case SendRecv, SendOnly, RecvOnly, Inactive:
		return d, true
	}
	return "", false
}

// Sends reports whether the side that wrote the SDP will send media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side that wrote the SDP wants to receive media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Stream is what one m= line of an SDP body says about where its author
// receives media.
type Stream struct {
	Index int    // position of the m= line, from 0
	Media string // audio, video, image, ...
	// Proto is the m= transport protocol: RTP/AVP, RTP/SAVPF, udptl, ...
	Proto string
	// Port is the m= port; 0 means the stream is disabled (RFC 3264 §6) and
	// stays so.
	Port int
	// Addr is the effective c= address (media level, else session level).
	// 0.0.0.0 is an old-style hold (RFC 3264 §8.4). It is valid whenever
	// Port != 0; a disabled stream without any c= has the zero Addr.
	Addr netip.Addr
	// RTCPPort is the a=rtcp port (RFC 3605), else Port+1 (0 when the
	// stream is disabled or Port is 65535).
	RTCPPort int
	// RTCPAddr is the a=rtcp address if one was given, else Addr.
	RTCPAddr netip.Addr
	// RTCPMux is set by a=rtcp-mux (RFC 5761): RTCP shares the RTP port.
	// An offer only proposes it; it is in use when the answer has it too
	// (RFC 5761 §5.1.1).
	RTCPMux bool
	// Direction is the media-level attribute, else the session-level one,
	// else sendrecv.
	Direction Direction
	// ClockRates maps each RTP payload type of the m= line to its clock
	// rate: a=rtpmap first, then the static types of RFC 3551. Payload
	// types with neither are left out; non-RTP streams have none.
	ClockRates map[uint8]uint32
	// Crypto are the stream's usable a=crypto lines (SDES-SRTP, RFC 4568),
	// in order: the keys the author may encrypt its media with.
	Crypto []Crypto
	// Security holds the DTLS-SRTP, ICE and BUNDLE lines of the section.
	Security Security
}

// OnHold reports whether the SDP's author has put the call on hold: it sends
// only (music on hold) or nothing, or it gave the old-style c=0.0.0.0
// (RFC 3264 §8.4).
func (s Stream) OnHold() bool {
	return s.Direction == SendOnly || s.Direction == Inactive || (s.Addr.IsUnspecified() && !s.ICEDefault())
}

// ICEDefault reports whether c=0.0.0.0 only says that ICE will find the
// address, not hold: the placeholder of RFC 8829 §5.2.1 (port 9), which a
// browser with mDNS host candidates only writes.
func (s Stream) ICEDefault() bool {
	return s.Security.ICEUfrag != "" && s.Port == 9 && s.Addr.IsUnspecified()
}

// RTPAddrPort is where the author wants its RTP.
func (s Stream) RTPAddrPort() netip.AddrPort { return netip.AddrPortFrom(s.Addr, uint16(s.Port)) }

// RTCPAddrPort is where the author wants its RTCP: the RTP port under
// rtcp-mux, else the a=rtcp or Port+1 destination.
func (s Stream) RTCPAddrPort() netip.AddrPort {
	if s.RTCPMux {
		return s.RTPAddrPort()
	}
	return netip.AddrPortFrom(s.RTCPAddr, uint16(s.RTCPPort))
}

// RelayPorts are natsbc's relay ports for one stream on the side an SDP body
// is sent to. RTCP is normally RTP+1; a stream whose port is 0 ignores them.
type RelayPorts struct{ RTP, RTCP int }
