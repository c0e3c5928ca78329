package media

import "encoding/binary"

// Packet classes on a relay port.
type packetKind uint8

const (
	kindOther packetKind = iota
	kindSTUN
	kindZRTP
	kindDTLS
	kindRTP
	kindRTCP
	// kindDatagram is a packet of a stream that is not RTP (T.38 UDPTL...):
	// relayed as it is.
	kindDatagram
)

// classify tells what arrived on a stream carried as c. The protocol of
// the m= line decides first: a UDPTL packet starts with its sequence number,
// so any first byte is one. On an RTP stream the first byte tells the
// protocols sharing the port apart (RFC 7983 §7): 0-3 STUN, 16-19 ZRTP
// (RFC 6189 §5), 20-63 DTLS, 128-191 RTP/RTCP; anything else is dropped.
// RTCP sharing the RTP port is told apart by its packet type: RFC 5761 §4
// reserves second bytes 192-223 for RTCP.
func classify(pkt []byte, c carriage) packetKind {
	if len(pkt) == 0 {
		return kindOther
	}
	if c == carryDatagram {
		return kindDatagram
	}
	switch b := pkt[0]; {
	case b <= 3:
		return kindSTUN
	case b >= 16 && b <= 19:
		return kindZRTP
	case b >= 20 && b <= 63:
		return kindDTLS
	case b >= 128 && b <= 191:
		if len(pkt) >= 2 && pkt[1] >= 192 && pkt[1] <= 223 {
			return kindRTCP
		}
		return kindRTP
	}
	return kindOther
}

const (
	rtpHeaderLen = 12
	// RFC 3550 §A.1: a jump of more than maxDropout sequence numbers, or
	// one more than maxMisorder behind, starts the count afresh.
	maxDropout  = 3000
	maxMisorder = 100
)

// rxStats follows one direction's RTP for loss and jitter. It is owned by
// whoever reads that side's RTP socket (its goroutine or engine worker);
// results leave through the side's atomics.
type rxStats struct {
	started  bool
	ssrc     uint32
	maxSeq   uint16
	base     int64 // extended sequence number that began this run
	ext      int64 // highest extended sequence number seen in this run
	received int64
	lostDone int64 // lost in earlier runs (before an SSRC change or restart)

	// Jitter, RFC 3550 §A.8: jitter is kept ×16 in timestamp units as in
	// the RFC's integer form; transit is compared only between packets of
	// the same payload type, whose clock it is measured in.
	jitter      int64
	transit     uint32
	transitRate uint32
	lastPT      uint8
	haveTransit bool
}

// observe takes one RTP packet that arrived at arrivalNs (monotonic) and
// returns the direction's lost count and jitter in milliseconds.
// clockRates maps payload type to clock rate (0: unknown, no jitter).
func (r *rxStats) observe(pkt []byte, arrivalNs int64, clockRates *[128]uint32) (lost uint64, jitterMs float64) {
	if len(pkt) < rtpHeaderLen || pkt[0]>>6 != 2 {
		return r.lost(), r.jitterMs()
	}
	pt := pkt[1] & 0x7f
	seq := binary.BigEndian.Uint16(pkt[2:4])
	ts := binary.BigEndian.Uint32(pkt[4:8])
	ssrc := binary.BigEndian.Uint32(pkt[8:12])

	if !r.started || ssrc != r.ssrc {
		r.restart(seq, ssrc)
	} else {
		switch d := seq - r.maxSeq; {
		case d == 0: // duplicate: counted, as RFC 3550 §A.3 does
			r.received++
		case d < maxDropout:
			r.ext += int64(d)
			r.maxSeq = seq
			r.received++
		case d > 0xffff-maxMisorder: // late, out of order
			r.received++
		default: // the sender jumped: a new run
			r.restart(seq, ssrc)
		}
	}

	rate := clockRates[pt]
	if rate == 0 {
		r.haveTransit = false
		return r.lost(), r.jitterMs()
	}
	transit := uint32(toClock(arrivalNs, rate)) - ts
	if r.haveTransit && pt == r.lastPT {
		d := int64(int32(transit - r.transit))
		if d < 0 {
			d = -d
		}
		r.jitter += d - (r.jitter+8)>>4
	}
	r.transit, r.transitRate, r.lastPT, r.haveTransit = transit, rate, pt, true
	return r.lost(), r.jitterMs()
}

// rollovers is how many times the sequence numbers of pkt's stream have
// wrapped as the relay saw them (RFC 3711 §3.3.1's ROC when the relay saw
// the stream from its first packet), counting pkt's own sequence number
// as the next after the highest seen; known is false for a stream (SSRC)
// the relay has not seen.
func (r *rxStats) rollovers(pkt []byte) (roc uint32, known bool) {
	if !r.started || len(pkt) < rtpHeaderLen || binary.BigEndian.Uint32(pkt[8:12]) != r.ssrc {
		return 0, false
	}
	seq := binary.BigEndian.Uint16(pkt[2:4])
	ext := r.ext - int64(r.maxSeq) + int64(seq) // pkt's, in the highest seen's cycle
	switch d := int16(seq - r.maxSeq); {
	case d > 0 && seq < r.maxSeq:
		ext += 0x10000 // past a wrap the relay has not seen yet
	case d < 0 && seq > r.maxSeq && ext >= 0x10000:
		ext -= 0x10000 // late, from before the last wrap
	}
	return uint32(ext >> 16), true
}

func (r *rxStats) restart(seq uint16, ssrc uint32) {
	r.lostDone += r.runLost()
	r.started, r.ssrc, r.maxSeq = true, ssrc, seq
	r.base, r.ext, r.received = int64(seq), int64(seq), 1
	r.haveTransit = false
}

// runLost is expected minus received (RFC 3550 §A.3); duplicates can make
// it negative, which counts as none lost.
func (r *rxStats) runLost() int64 {
	if !r.started {
		return 0
	}
	return max(0, r.ext-r.base+1-r.received)
}

func (r *rxStats) lost() uint64 { return uint64(r.lostDone + r.runLost()) }

func (r *rxStats) jitterMs() float64 {
	if r.transitRate == 0 {
		return 0
	}
	return float64(r.jitter) / 16 / float64(r.transitRate) * 1000
}

// toClock converts nanoseconds to ticks of a rate-Hz clock without
// overflowing for long uptimes.
func toClock(ns int64, rate uint32) int64 {
	const second = int64(1e9)
	return ns/second*int64(rate) + ns%second*int64(rate)/second
}
