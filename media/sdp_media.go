package media

import "strings"

// media starts a new m= section.
//
// RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ...
func (p *sdpParser) media(l sdpLine) error {
	p.endSection()
	if len(p.streams) == MaxStreamsBound {
		return unparsable(l.num, "more than %d m= lines", MaxStreamsBound)
	}
	kind, rest := nextField(l.value)
	portField, rest := nextField(rest)
	proto, formats := nextField(rest)
	if kind == "" || portField == "" || proto == "" || formats == "" {
		return unparsable(l.num, "m= needs <media> <port> <proto> <fmt>...")
	}
	portText, countText, hasCount := strings.Cut(portField, "/")
	port, ok := parseDecimal(portText, 65535)
	if !ok {
		return unparsable(l.num, "m= port %q is not a port number", clip(portText))
	}
	if hasCount {
		count, ok := parseDecimal(countText, 65535)
		if !ok || count == 0 {
			return unparsable(l.num, "m= port count %q is not a number of ports", clip(countText))
		}
		// The relay gives each stream one port pair; an offer asking for
		// more is not acceptable here (488), it is not misread.
		if count != 1 && port != 0 {
			return unparsable(l.num, "m= asks for %d port pairs, natsbc relays one per stream", count)
		}
	}
	p.cur = mediaSection{stream: Stream{
		Index: len(p.streams),
		Media: kind,
		Proto: proto,
		Port:  port,
	}}
	p.inMedia = true
	if strings.Contains(proto, "RTP") {
		p.cur.listFormats(formats)
	}
	return nil
}

// endSection fills in what the section left to the session level and its
// defaults, then keeps the stream.
func (p *sdpParser) endSection() {
	if !p.inMedia {
		return
	}
	p.inMedia = false
	sec := &p.cur
	s := sec.stream
	if !sec.hasConn && p.sessionHasConn {
		s.Addr = p.sessionAddr
	}
	s.Direction = sec.dir
	if s.Direction == "" {
		s.Direction = p.sessionDir
	}
	// RFC 3605 §2.1: without a=rtcp, RTCP goes to the RTP port + 1 at the
	// same address.
	if !sec.hasRTCP && s.Port != 0 && s.Port < 65535 {
		s.RTCPPort = s.Port + 1
	}
	if s.Port == 0 {
		s.RTCPPort = 0
	}
	if !s.RTCPAddr.IsValid() {
		s.RTCPAddr = s.Addr
	}
	p.sessionSec.inherit(&s.Security)
	p.streams = append(p.streams, s)
}

// listFormats notes the RTP payload types of the m= line and gives the
// static ones their clock rate; a=rtpmap lines may still override them.
func (sec *mediaSection) listFormats(formats string) {
	for formats != "" {
		var f string
		f, formats = nextField(formats)
		pt, ok := parseDecimal(f, 127)
		if !ok {
			continue
		}
		sec.listed[pt/64] |= 1 << (pt % 64)
		if rate := staticClockRate(uint8(pt)); rate != 0 {
			sec.setClockRate(uint8(pt), rate)
		}
	}
}

func (sec *mediaSection) setClockRate(pt uint8, rate uint32) {
	if sec.stream.ClockRates == nil {
		sec.stream.ClockRates = make(map[uint8]uint32, 4)
	}
	sec.stream.ClockRates[pt] = rate
}

// rtpmap reads a=rtpmap:<payload type> <encoding name>/<clock rate>[/<params>]
// (RFC 8866 §6.6). A malformed one is skipped: it only costs the jitter
// figure of that payload type, not the call.
func (sec *mediaSection) rtpmap(value string) {
	ptText, encoding := nextField(value)
	pt, ok := parseDecimal(ptText, 127)
	if !ok || sec.listed[pt/64]&(1<<(pt%64)) == 0 {
		return
	}
	_, rateText, ok := strings.Cut(encoding, "/")
	if !ok {
		return
	}
	rateText, _, _ = strings.Cut(rateText, "/")
	rate, ok := parseDecimal(rateText, 1<<32-1)
	if !ok || rate == 0 {
		return
	}
	sec.setClockRate(uint8(pt), uint32(rate))
}

// parseDecimal reads 1 to 10 ASCII digits whose value is at most limit
// (strconv.Atoi would also take signs).
func parseDecimal(s string, limit int) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= limit
}
