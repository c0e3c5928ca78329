package capture

import (
	"errors"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/gopacket/layers"
)

// flowKey is one direction of a TCP connection.
type flowKey struct{ src, dst netip.AddrPort }

// tcpStream puts one direction's segments back in order and frames SIP
// messages out of the bytes with sipgo's stream parser (RFC 3261 §18.3:
// Content-Length delimits a message on a stream).
type tcpStream struct {
	next    uint32 // the sequence number of the next byte expected
	started bool
	// ahead holds segments that came before the bytes in front of them
	// (reordered in the capture), by sequence number; bounded.
	ahead  map[uint32][]byte
	parser *sip.ParserStream
}

// maxAhead bounds the out-of-order segments kept per direction: a capture
// that lost a segment for good gives up on the bytes behind the gap.
const maxAhead = 64

func (d *decoder) tcp(frame int, at time.Time, key flowKey, seg *layers.TCP) {
	s := d.streams[key]
	if s == nil || seg.SYN {
		s = &tcpStream{ahead: map[uint32][]byte{}, parser: sip.NewParser().NewSIPStream()}
		d.streams[key] = s
	}
	if seg.SYN {
		s.next, s.started = seg.Seq+1, true
		return
	}
	if !s.started {
		// The capture began within the connection: start here.
		s.next, s.started = seg.Seq, true
	}
	if seg.FIN || seg.RST {
		defer delete(d.streams, key)
	}
	data := seg.Payload
	if len(data) == 0 {
		return
	}
	switch off := int32(seg.Seq - s.next); {
	case off > 0:
		if len(s.ahead) < maxAhead {
			s.ahead[seg.Seq] = append([]byte(nil), data...)
		}
		return
	case -off >= int32(len(data)):
		return // a retransmission of bytes already taken
	default:
		data = data[-off:]
	}
	d.feed(frame, at, key, s, data)
	for {
		more, ok := s.ahead[s.next]
		if !ok {
			break
		}
		delete(s.ahead, s.next)
		d.feed(frame, at, key, s, more)
	}
}

// feed gives the parser the next bytes of the direction; each message it
// completes is the frame's.
func (d *decoder) feed(frame int, at time.Time, key flowKey, s *tcpStream, data []byte) {
	s.next += uint32(len(data))
	err := s.parser.ParseSIPStream(data, func(m sip.Message) {
		d.add(frame, at, key.src, key.dst, "tcp", []byte(m.String()))
	})
	if err != nil && !errors.Is(err, sip.ErrParseSipPartial) {
		// Garbage on the stream (or not SIP at all): start afresh with
		// the next bytes rather than carry a broken parse along.
		s.parser = sip.NewParser().NewSIPStream()
	}
}
