package main

import (
	"bytes"
	"encoding/binary"
)

// RFC 3550 §5.1: the fixed RTP header is 12 bytes, version 2.
const (
	rtpHeaderLen = 12
	rtpVersion   = 2
)

// InjectTag starts the payload of packets the lab injects from a host that
// is no party to the call; a receiver counts them apart, so a test can
// assert that none ever reached an endpoint.
var InjectTag = []byte("NATLAB-INJECT")

// rtpHeader is the part of the fixed header the endpoint writes and reads.
type rtpHeader struct {
	marker      bool
	payloadType uint8
	seq         uint16
	timestamp   uint32
	ssrc        uint32
}

// appendRTP appends a packet with header h and payload p to buf.
func appendRTP(buf []byte, h rtpHeader, payload []byte) []byte {
	b0 := byte(rtpVersion << 6) // no padding, no extension, no CSRC
	b1 := h.payloadType & 0x7f
	if h.marker {
		b1 |= 0x80
	}
	buf = append(buf, b0, b1)
	buf = binary.BigEndian.AppendUint16(buf, h.seq)
	buf = binary.BigEndian.AppendUint32(buf, h.timestamp)
	buf = binary.BigEndian.AppendUint32(buf, h.ssrc)
	return append(buf, payload...)
}

// parseRTP reads the fixed header and returns the payload (CSRCs and an
// extension skipped); ok is false for anything that is not RTP version 2.
func parseRTP(pkt []byte) (h rtpHeader, payload []byte, ok bool) {
	if len(pkt) < rtpHeaderLen || pkt[0]>>6 != rtpVersion {
		return h, nil, false
	}
	h = rtpHeader{
		marker:      pkt[1]&0x80 != 0,
		payloadType: pkt[1] & 0x7f,
		seq:         binary.BigEndian.Uint16(pkt[2:]),
		timestamp:   binary.BigEndian.Uint32(pkt[4:]),
		ssrc:        binary.BigEndian.Uint32(pkt[8:]),
	}
	off := rtpHeaderLen + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 && len(pkt) >= off+4 { // RFC 3550 §5.3.1 extension
		off += 4 + 4*int(binary.BigEndian.Uint16(pkt[off+2:]))
	}
	if off > len(pkt) {
		return h, nil, false
	}
	return h, pkt[off:], true
}

// injected tells a packet the lab injected by its payload tag.
func injected(payload []byte) bool { return bytes.HasPrefix(payload, InjectTag) }

// seqTracker follows one SSRC's sequence numbers (RFC 3550 §A.1 in
// spirit, without the probation): a jump forward is a gap, the numbers
// skipped are missing; a number at or behind the highest seen is late.
type seqTracker struct {
	started bool
	highest uint16
}

// observe returns how many sequence numbers seq skipped (0: in order or
// late) and whether it came late (a duplicate or reordered packet).
func (s *seqTracker) observe(seq uint16) (missing uint16, late bool) {
	if !s.started {
		s.started, s.highest = true, seq
		return 0, false
	}
	d := seq - s.highest // modulo 2^16
	switch {
	case d == 0 || d >= 0x8000:
		return 0, true
	default:
		s.highest = seq
		return d - 1, false
	}
}
