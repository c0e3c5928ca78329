package sbc

import (
	"net"
)

// answerSTUN answers STUN Binding requests that arrive on a UDP SIP socket
// (RFC 5626 §4.4.2 and §8: phones use STUN on their SIP flow both to keep
// it open and to learn their public mapping; RFC 5389 §7.3 the answer is
// the request's source). The guard has told STUN from SIP by the magic
// cookie and calls this on the socket's read loop, so it must not block.
func (s *Server) answerSTUN(conn net.PacketConn) func(pkt []byte, from net.Addr) {
	return func(pkt []byte, from net.Addr) {
		src := parseAddrPort(from.String())
		resp, ok := s.stunSeen.Answer(pkt, src)
		if !ok {
			return
		}
		if _, err := conn.WriteTo(resp, from); err != nil {
			s.log.Debug("stun answer not sent", "source", src.String(), "error", err)
			return
		}
		s.log.Debug("stun binding answered", "source", src.String(), "mapped", src.String())
	}
}
