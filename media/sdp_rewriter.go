package media

import (
	"net/netip"
	"strconv"
)

// sdpRewriter writes the rewritten lines one by one.
type sdpRewriter struct {
	out      []byte
	facing   netip.Addr
	addrType string // IP4 or IP6, after facing
	keepICE  bool
	streams  []Stream
	relay    []RelayPorts
	index    int  // m= section being written, -1 at session level
	sawRTCP  bool // the section had an a=rtcp line
	// origin, when set, replaces the author's o= username, id and version.
	origin *legOrigin
	// versionAt is where the o= version was written in out.
	versionAt [2]int
	// sec, when set, holds per m= index the sections whose security natsbc
	// terminates (nil entries are written as before); secSession the
	// session-level lines that go with them.
	sec        []*secureOut
	secSession *secureSession
	// iceDefault: the author's c=0.0.0.0 is ICE's placeholder, not hold
	// (Stream.ICEDefault): natsbc's address goes there.
	iceDefault bool
}

func (w *sdpRewriter) line(l sdpLine) {
	switch l.typ {
	case 'o':
		w.writeOrigin(l)
	case 'c':
		w.connection(l)
	case 'm':
		if w.index < 0 {
			w.writeSessionSecurity()
		}
		w.endSection()
		w.index++
		w.sawRTCP = false
		w.media(l)
	case 'a':
		w.attribute(l)
	default:
		w.verbatim(l)
	}
}

// RFC 3264 §5: the o= address is the author's; natsbc is the author seen
// from the other leg. A session writes its own username, id and version
// there (legOrigin); RewriteSDP alone keeps the author's.
func (w *sdpRewriter) writeOrigin(l sdpLine) {
	o, _ := parseOrigin(l.num, l.value)
	if w.origin != nil {
		o.username = originUser
		o.sessID = strconv.FormatUint(w.origin.sessID, 10)
		o.sessVersion = strconv.FormatUint(w.origin.version, 10)
	}
	w.out = append(w.out, "o="...)
	w.out = append(w.out, o.username...)
	w.out = append(w.out, ' ')
	w.out = append(w.out, o.sessID...)
	w.out = append(w.out, ' ')
	w.versionAt[0] = len(w.out)
	w.out = append(w.out, o.sessVersion...)
	w.versionAt[1] = len(w.out)
	w.out = append(w.out, " IN "...)
	w.appendFacing()
	w.out = append(w.out, "\r\n"...)
}

// RFC 3264 §8.4: c=0.0.0.0 is the old way to put a stream on hold; it keeps
// that meaning on the other leg. Any other address is replaced.
func (w *sdpRewriter) connection(l sdpLine) {
	addr, _ := parseConnection(l.num, "c=", l.value)
	if addr.IsUnspecified() && !w.iceDefault {
		w.verbatim(l)
		return
	}
	w.out = append(w.out, "c=IN "...)
	w.appendFacing()
	w.out = append(w.out, "\r\n"...)
}

// m=<media> <port> <proto> <fmt>...: only the port changes, and only when
// the stream is enabled (RFC 3264 §6: port 0 stays 0). A stream the relay
// cannot carry (TCP) is declined with port 0 on the other leg, so the
// answer declines it too.
func (w *sdpRewriter) media(l sdpLine) {
	declined := !w.enabled() && w.streams[w.index].Port != 0
	if !w.enabled() && !declined {
		w.verbatim(l)
		return
	}
	port := 0
	if !declined {
		port = w.relay[w.index].RTP
	}
	kind, rest := nextField(l.value)
	_, rest = nextField(rest)
	if out := w.secured(); out != nil {
		_, formats := nextField(rest)
		rest = out.proto + " " + formats
	}
	w.out = append(w.out, "m="...)
	w.out = append(w.out, kind...)
	w.out = append(w.out, ' ')
	w.out = strconv.AppendInt(w.out, int64(port), 10)
	w.out = append(w.out, ' ')
	w.out = append(w.out, rest...)
	w.out = append(w.out, "\r\n"...)
}

func (w *sdpRewriter) attribute(l sdpLine) {
	name, value := attrName(l.value)
	switch {
	case w.dropSecurityLine(name):
		return
	case !w.keepICE && isICEAttribute(name):
		return
	case name == "rtcp":
		w.rtcp(l.num, value)
	default:
		w.verbatim(l)
	}
}

// RFC 3605 §2.1: a=rtcp:<port> [IN <addrtype> <address>] names the RTCP
// destination; it becomes the relay's RTCP port, and its address (if it had
// one) the facing address. a=rtcp is a media-level attribute: one at session
// level, or in a disabled stream, says nothing but an address of the other
// side, so it is dropped.
func (w *sdpRewriter) rtcp(num int, value string) {
	if !w.enabled() {
		return
	}
	w.sawRTCP = true
	_, _, hasAddr, _ := parseRTCP(num, value)
	w.appendRTCP(hasAddr)
}

// endSection adds a=rtcp to an enabled section that had none when the relay
// RTCP port is not RTP+1: RFC 3605 §2.1 says the peer would assume it.
func (w *sdpRewriter) endSection() {
	w.writeSectionSecurity()
	if !w.enabled() || w.sawRTCP {
		return
	}
	r := w.relay[w.index]
	if r.RTCP != r.RTP+1 {
		w.appendRTCP(false)
	}
}

func (w *sdpRewriter) appendRTCP(withAddr bool) {
	w.out = append(w.out, "a=rtcp:"...)
	w.out = strconv.AppendInt(w.out, int64(w.relay[w.index].RTCP), 10)
	if withAddr {
		w.out = append(w.out, " IN "...)
		w.appendFacing()
	}
	w.out = append(w.out, "\r\n"...)
}

// enabled reports whether the section being written is an enabled stream.
func (w *sdpRewriter) enabled() bool {
	return w.index >= 0 && w.streams[w.index].Relayed()
}

// appendFacing writes "<addrtype> <address>" of the facing address.
func (w *sdpRewriter) appendFacing() {
	w.out = append(w.out, w.addrType...)
	w.out = append(w.out, ' ')
	w.out = w.facing.AppendTo(w.out)
}

func (w *sdpRewriter) verbatim(l sdpLine) {
	w.out = append(w.out, l.typ, '=')
	w.out = append(w.out, l.value...)
	w.out = append(w.out, "\r\n"...)
}
