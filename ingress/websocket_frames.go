package ingress

// frameTracker follows the frames of a byte stream written in pieces, so
// that a control frame natsbc writes itself never lands inside a frame of
// sipgo's: gobwas' WriteFrame writes the header and the payload in two
// writes. RFC 6455 §5.4: "Control frames MAY be injected in the middle of
// a fragmented message", never in the middle of a frame.
type frameTracker struct {
	hdr    [14]byte // the header read so far (RFC 6455 §5.2: 2 to 14 bytes)
	have   int      // header bytes seen
	need   int      // header length, once its first two bytes are seen
	remain int64    // payload bytes still to come
}

// feed follows p, the next bytes of the stream.
func (f *frameTracker) feed(p []byte) {
	for len(p) > 0 {
		if f.remain > 0 {
			k := min(int64(len(p)), f.remain)
			f.remain -= k
			p = p[k:]
			continue
		}
		f.hdr[f.have] = p[0]
		f.have++
		p = p[1:]
		if f.have == 2 {
			f.need = 2
			switch f.hdr[1] & 0x7f {
			case 126:
				f.need += 2
			case 127:
				f.need += 8
			}
			if f.hdr[1]&0x80 != 0 {
				f.need += 4 // masking key
			}
		}
		if f.have >= 2 && f.have == f.need {
			f.remain = f.length()
			f.have, f.need = 0, 0
		}
	}
}

// length is the payload length of the header in hdr[:need].
func (f *frameTracker) length() int64 {
	switch n := f.hdr[1] & 0x7f; n {
	case 126:
		return int64(f.hdr[2])<<8 | int64(f.hdr[3])
	case 127:
		var l int64
		for _, b := range f.hdr[2:10] {
			l = l<<8 | int64(b)
		}
		if l < 0 { // the most significant bit must be 0 (§5.2)
			return 0
		}
		return l
	default:
		return int64(n)
	}
}

// inFrame reports whether the stream is inside a frame.
func (f *frameTracker) inFrame() bool { return f.have > 0 || f.remain > 0 }
