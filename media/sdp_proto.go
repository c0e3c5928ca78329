package media

import "strings"

// carriage is how the relay carries a stream, after the <proto> of its m=
// line (RFC 8866 §5.14).
type carriage uint8

const (
	// carryRTP: RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF (RFC 3551, 4585,
	// 3711, 5124) and UDP/TLS/RTP/SAVP(F) (RFC 5764). What shares the port is
	// told apart by its first byte (RFC 7983 §7): STUN, ZRTP, DTLS, RTP and
	// RTCP.
	carryRTP carriage = iota
	// carryDatagram: any other protocol over UDP, above all udptl (T.38
	// fax, ITU-T T.38 Annex D) and UDP/TLS/UDPTL (RFC 7345). Its packets
	// have no RTP header and a UDPTL sequence number may start with any
	// byte, so every datagram is relayed as it is.
	carryDatagram
	// carryNone: TCP (RFC 4145, 4571) and DCCP (RFC 5762) streams. The relay
	// has UDP sockets only: such a stream is declined (port 0) on the other
	// leg rather than pointed at a relay that cannot carry it.
	carryNone
)

func carriageOf(proto string) carriage {
	p := strings.ToUpper(proto)
	switch {
	case strings.HasPrefix(p, "TCP"), strings.HasPrefix(p, "DCCP"):
		return carryNone
	case strings.HasPrefix(p, "RTP/"), strings.HasPrefix(p, "UDP/TLS/RTP/"):
		return carryRTP
	}
	return carryDatagram
}

// Relayed reports whether natsbc relays the stream: it is enabled and its
// protocol runs over UDP.
func (s Stream) Relayed() bool { return s.Port != 0 && carriageOf(s.Proto) != carryNone }

// plainProto keeps a plain protocol as it is and turns a secure one into
// RTP/AVP for a peer that has not said what it speaks.
func plainProto(in Stream) string {
	if wireOf(in) == wirePlain && carriageOf(in.Proto) == carryRTP && !hasSAVP(in.Proto) {
		return in.Proto
	}
	return "RTP/AVP"
}

// hasSAVP reports an SRTP profile (RFC 3711 §12, RFC 5124, RFC 5764 §8).
func hasSAVP(proto string) bool { return strings.Contains(strings.ToUpper(proto), "SAVP") }
