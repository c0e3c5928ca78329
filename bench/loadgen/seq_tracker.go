package loadgen

// seqTracker follows the sequence numbers of one RTP stream whose sender
// starts at 0: it extends them past 65535 (RFC 3550 Appendix A.1), counts
// each packet once (a 64-packet window catches duplicates) and notes packets
// that arrive after a later one.
type seqTracker struct {
	started    bool
	maxExt     uint64 // highest extended sequence number seen
	window     uint64 // bit i set: maxExt-i has arrived
	received   uint64 // distinct packets
	duplicates uint64
	reordered  uint64
}

// seqWindow is how far back a duplicate is still recognised; older late
// packets are counted as received (a relay that delays a packet by 64 × 20 ms
// has bigger problems than double counting).
const seqWindow = 64

func (s *seqTracker) add(seq uint16) {
	ext := s.extend(seq)
	switch {
	case !s.started:
		s.started = true
		s.maxExt, s.window = ext, 1
		s.received++
	case ext > s.maxExt:
		shift := ext - s.maxExt
		if shift >= seqWindow {
			s.window = 1
		} else {
			s.window = s.window<<shift | 1
		}
		s.maxExt = ext
		s.received++
	case s.maxExt-ext < seqWindow:
		bit := uint64(1) << (s.maxExt - ext)
		if s.window&bit != 0 {
			s.duplicates++
			return
		}
		s.window |= bit
		s.received++
		s.reordered++
	default:
		s.received++
		s.reordered++
	}
}

// extend picks, among the 16-bit cycles around the highest number seen, the
// one that puts seq closest to it (RFC 3550 A.1's cycle count).
func (s *seqTracker) extend(seq uint16) uint64 {
	if !s.started {
		return uint64(seq)
	}
	ext := s.maxExt&^0xFFFF | uint64(seq)
	switch {
	case ext+0x8000 < s.maxExt:
		ext += 0x10000
	case ext > s.maxExt+0x8000 && ext >= 0x10000:
		ext -= 0x10000
	}
	return ext
}

// lostBySeq is RFC 3550 A.3's cumulative loss for a stream that starts at
// sequence 0: numbers up to the highest seen that never arrived. Packets
// lost after the last one that arrived need the sender's count.
func (s *seqTracker) lostBySeq() uint64 {
	if !s.started || s.received > s.maxExt {
		return 0
	}
	return s.maxExt + 1 - s.received
}
