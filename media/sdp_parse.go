package media

import "net/netip"

// MaxStreamsBound is the most m= lines the reader accepts in one body:
// each enabled one costs a relay port pair on each side, so a hostile offer
// must not drain the pool. Config.MaxStreams can only lower it.
const MaxStreamsBound = 32

// ParseStreams reads where the author of an SDP body wants each stream's
// media. A body it cannot read returns an error wrapping ErrUnparsableSDP
// that says why and on which line.
//
// It checks the whole body against the line grammar of RFC 8866 §9 (types,
// their level, their count; the fields natsbc reads or rewrites) without
// being stricter about the rest than phones are.
func ParseStreams(body []byte) ([]Stream, error) {
	lines := sdpLines{rest: string(body)}
	first, ok, err := lines.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, unparsable(0, "empty body")
	}
	if first.typ != 'v' || first.value != "0" {
		return nil, unparsable(first.num, "an SDP body starts with v=0")
	}
	p := sdpParser{sessionDir: SendRecv}
	for {
		line, ok, err := lines.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if err := p.line(line); err != nil {
			return nil, err
		}
	}
	return p.finish()
}

// CountStreams is the number of m= lines of an SDP body, read with the
// same line reader as ParseStreams but without its checks: what a limit
// counts before the body is parsed for real (a body the reader refuses
// counts what came before the bad line; the parse refuses it later).
func CountStreams(body []byte) int {
	lines := sdpLines{rest: string(body)}
	n := 0
	for {
		line, ok, err := lines.next()
		if err != nil || !ok {
			return n
		}
		if line.typ == 'm' {
			n++
		}
	}
}

// sdpParser holds what is known while the lines go by. Session-level lines
// all come before the first m= line, so a stream's effective values are
// known when its section ends.
type sdpParser struct {
	seenOrigin, seenName, seenTiming bool
	sessionAddr                      netip.Addr
	sessionHasConn                   bool
	sessionDir                       Direction
	sessionSec                       sessionSecurity

	streams []Stream
	cur     mediaSection // the section being read, if inMedia
	inMedia bool
}

// mediaSection is the state of the m= section being read.
type mediaSection struct {
	stream  Stream
	hasConn bool
	hasRTCP bool
	dir     Direction // "" until the section gives one
	listed  [2]uint64 // RTP payload types 0-127 on the m= line
}

func (p *sdpParser) line(l sdpLine) error {
	if l.typ == 'm' {
		return p.media(l)
	}
	if !p.inMedia {
		return p.sessionLine(l)
	}
	return p.mediaLine(l)
}

// RFC 8866 §9: v o s i u e p c b t r z k a at session level, each of
// v o s i u e p c z k at most once.
func (p *sdpParser) sessionLine(l sdpLine) error {
	switch l.typ {
	case 'v':
		return unparsable(l.num, "second v= line")
	case 'o':
		if p.seenOrigin {
			return unparsable(l.num, "second o= line")
		}
		p.seenOrigin = true
		return checkOrigin(l)
	case 's':
		if p.seenName {
			return unparsable(l.num, "second s= line")
		}
		p.seenName = true
	case 't':
		p.seenTiming = true
	case 'c':
		if p.sessionHasConn {
			return unparsable(l.num, "second session-level c= line")
		}
		addr, err := parseConnection(l.num, "c=", l.value)
		if err != nil {
			return err
		}
		p.sessionAddr, p.sessionHasConn = addr, true
	case 'a':
		if dir, ok := direction(l.value); ok {
			p.sessionDir = dir
			break
		}
		p.sessionSec.sessionAttribute(attrName(l.value))
	case 'i', 'u', 'e', 'p', 'b', 'r', 'z', 'k':
	default:
		return unparsable(l.num, "%c= is not a session-level line", l.typ)
	}
	return nil
}

// RFC 8866 §9: m i c b k a in a media section, c at most once here (natsbc
// relays unicast: several c= lines would leave the address in doubt).
func (p *sdpParser) mediaLine(l sdpLine) error {
	sec := &p.cur
	switch l.typ {
	case 'c':
		if sec.hasConn {
			return unparsable(l.num, "second c= line in m= section %d", sec.stream.Index)
		}
		addr, err := parseConnection(l.num, "c=", l.value)
		if err != nil {
			return err
		}
		sec.stream.Addr, sec.hasConn = addr, true
	case 'a':
		return p.mediaAttribute(l)
	case 'i', 'b', 'k':
	default:
		return unparsable(l.num, "%c= is not a media-level line", l.typ)
	}
	return nil
}

func (p *sdpParser) mediaAttribute(l sdpLine) error {
	sec := &p.cur
	if dir, ok := direction(l.value); ok {
		sec.dir = dir
		return nil
	}
	name, value := attrName(l.value)
	switch name {
	case "rtcp-mux":
		sec.stream.RTCPMux = true
	case "rtcp":
		port, addr, hasAddr, err := parseRTCP(l.num, value)
		if err != nil {
			return err
		}
		sec.hasRTCP = true
		sec.stream.RTCPPort = port
		if hasAddr {
			sec.stream.RTCPAddr = addr
		}
	case "rtpmap":
		sec.rtpmap(value)
	case "crypto":
		if c, ok := parseCrypto(value); ok {
			sec.stream.Crypto = append(sec.stream.Crypto, c)
		}
	default:
		securityAttribute(&sec.stream.Security, name, value)
	}
	return nil
}

func (p *sdpParser) finish() ([]Stream, error) {
	p.endSection()
	switch {
	case !p.seenOrigin:
		return nil, unparsable(0, "no o= line")
	case !p.seenName:
		return nil, unparsable(0, "no s= line")
	case !p.seenTiming:
		return nil, unparsable(0, "no t= line")
	}
	for _, s := range p.streams {
		if s.Port != 0 && !s.Addr.IsValid() {
			return nil, unparsable(0, "m= section %d has no c= line and there is none at session level", s.Index)
		}
	}
	return p.streams, nil
}
