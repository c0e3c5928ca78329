package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// RewriteSDP returns body as natsbc sends it on the leg whose local address
// is facing, with relay[i] the relay ports of the i-th m= line there.
//
// Every address of the author's side is replaced by facing: o=, session and
// media c= (an old-style hold c=0.0.0.0 stays: its meaning is hold), each
// enabled m= port and a=rtcp. Disabled streams (port 0) stay disabled; TCP
// streams, which the relay cannot carry, are declined (port 0). ICE
// attributes are removed unless keepICE. All other lines pass in their order;
// lines end with CRLF. A body ParseStreams rejects is rejected the same way.
func RewriteSDP(body []byte, facing netip.Addr, relay []RelayPorts, keepICE bool) ([]byte, error) {
	streams, err := ParseStreams(body)
	if err != nil {
		return nil, err
	}
	return rewriteParsed(body, streams, facing, relay, keepICE, nil, nil)
}

// rewriteParsed is RewriteSDP of a body ParseStreams has read into streams,
// so a session that needs the streams itself reads the body only once.
// With origin, the o= line is natsbc's own for the leg (see legOrigin);
// with sec, natsbc writes its own end of the streams whose security it
// terminates.
func rewriteParsed(body []byte, streams []Stream, facing netip.Addr, relay []RelayPorts, keepICE bool, origin *legOrigin, sec *secureBody) ([]byte, error) {
	if !facing.IsValid() || facing.IsUnspecified() {
		return nil, errors.New("media: RewriteSDP needs the facing address")
	}
	if err := checkRelayPorts(streams, relay); err != nil {
		return nil, err
	}
	w := sdpRewriter{
		out:      make([]byte, 0, len(body)+64),
		facing:   facing.Unmap().WithZone(""),
		addrType: "IP4",
		keepICE:  keepICE,
		streams:  streams,
		relay:    relay,
		index:    -1,
		origin:   origin,
	}
	if sec != nil {
		w.sec, w.secSession = sec.streams, sec.session
	}
	// The relay port replaces the placeholder port 9, so the placeholder
	// address must go too, or the stream would read as hold on the other
	// leg, candidates kept or not.
	for _, st := range streams {
		w.iceDefault = w.iceDefault || (st.Relayed() && st.ICEDefault())
	}
	if w.facing.Is6() {
		w.addrType = "IP6"
	}
	// ParseStreams has read every line already: walking them again cannot
	// fail.
	lines := sdpLines{rest: string(body)}
	for {
		line, ok, _ := lines.next()
		if !ok {
			break
		}
		w.line(line)
	}
	w.endSection()
	if origin != nil {
		return origin.stamp(w.out, w.versionAt), nil
	}
	return w.out, nil
}

func checkRelayPorts(streams []Stream, relay []RelayPorts) error {
	if len(relay) < len(streams) {
		return fmt.Errorf("media: %d relay port pairs for %d m= lines", len(relay), len(streams))
	}
	for i, s := range streams {
		r := relay[i]
		if s.Relayed() && (!validPort(r.RTP) || !validPort(r.RTCP)) {
			return fmt.Errorf("media: relay ports %d/%d of m= line %d are not ports", r.RTP, r.RTCP, i)
		}
	}
	return nil
}

func validPort(p int) bool { return p > 0 && p <= 65535 }

// isICEAttribute names the attributes of ICE (RFC 8839 §5) that natsbc
// removes unless told to keep them: behind the relay the candidates point
// past it.
func isICEAttribute(name string) bool {
	switch name {
	case "candidate", "remote-candidates", "end-of-candidates":
		return true
	}
	return strings.HasPrefix(name, "ice-")
}
