package loadgen

import "encoding/binary"

// Direction is which way a packet goes: from the caller (UAC, side A) to the
// callee (UAS, side B) or back.
type Direction uint8

const (
	AToB Direction = 0
	BToA Direction = 1
)

func (d Direction) String() string {
	if d == AToB {
		return "a_to_b"
	}
	return "b_to_a"
}

// RFC 3550 §5.1: the fixed RTP header is 12 bytes; V=2, no padding, no
// extension, no CSRC, marker clear.
const (
	rtpHeaderLen = 12
	rtpVersion2  = 0x80
	payloadPCMU  = 0 // RFC 3551 §6: PT 0 is PCMU/8000
)

// The first bytes of every payload identify the packet to the receiver in
// the same process: the run (so a relay's leftovers from an earlier run are
// not counted), the send time on the run's monotonic clock, the call and the
// direction. The rest of the payload is PCMU silence.
const (
	stampRunOff  = 0
	stampTimeOff = 4
	stampCallOff = 12
	stampDirOff  = 16
	stampLen     = 17
	pcmuSilence  = 0xFF
)

// MinPayload is the smallest payload that holds the stamp.
const MinPayload = stampLen

// buildPacket writes a whole RTP packet for one direction of one call into
// b (len = 12 + payload). Only sequence number, timestamp and send time
// change afterwards (stampPacket).
func buildPacket(b []byte, run, call uint32, dir Direction) {
	b[0] = rtpVersion2
	b[1] = payloadPCMU
	binary.BigEndian.PutUint32(b[8:12], ssrcOf(run, call, dir))
	p := b[rtpHeaderLen:]
	for i := range p {
		p[i] = pcmuSilence
	}
	binary.BigEndian.PutUint32(p[stampRunOff:], run)
	binary.BigEndian.PutUint32(p[stampCallOff:], call)
	p[stampDirOff] = byte(dir)
}

// ssrcOf gives each stream of a run its own SSRC (RFC 3550 §8: one SSRC per
// source), so the streams of all calls sharing one socket stay distinct.
func ssrcOf(run, call uint32, dir Direction) uint32 {
	return run ^ (call<<1 | uint32(dir))
}

// stampPacket sets what changes from one packet of a stream to the next.
func stampPacket(b []byte, seq uint16, ts uint32, sentNs int64) {
	binary.BigEndian.PutUint16(b[2:4], seq)
	binary.BigEndian.PutUint32(b[4:8], ts)
	binary.BigEndian.PutUint64(b[rtpHeaderLen+stampTimeOff:], uint64(sentNs))
}

// packetInfo is what a receiver reads back from a packet.
type packetInfo struct {
	call   uint32
	dir    Direction
	seq    uint16
	sentNs int64
}

// parsePacket reads a packet of run; ok is false for anything else (not RTP
// version 2, too short, another run), which the receiver counts as stray.
func parsePacket(b []byte, run uint32) (info packetInfo, ok bool) {
	if len(b) < rtpHeaderLen+stampLen || b[0]&0xC0 != rtpVersion2 {
		return info, false
	}
	// RFC 3550 §5.1: CC (low 4 bits of byte 0) CSRCs and, with X set, an
	// extension may sit between the fixed header and the payload; a relay
	// normally passes the header through, but skipping them costs nothing.
	off := rtpHeaderLen + 4*int(b[0]&0x0F)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return info, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	if len(b) < off+stampLen {
		return info, false
	}
	p := b[off:]
	if binary.BigEndian.Uint32(p[stampRunOff:]) != run {
		return info, false
	}
	info.call = binary.BigEndian.Uint32(p[stampCallOff:])
	info.dir = Direction(p[stampDirOff])
	info.seq = binary.BigEndian.Uint16(b[2:4])
	info.sentNs = int64(binary.BigEndian.Uint64(p[stampTimeOff:]))
	return info, true
}
