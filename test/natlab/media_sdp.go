//go:build linux

package natlab

import (
	"fmt"
	"net/netip"
	"regexp"

	"github.com/natsbc/natsbc/media"
)

// TracedSDP is what the media scenarios read of an SDP body in a sipp
// message trace: its first m= line and every address it names.
type TracedSDP struct {
	Origin  string // o= unicast address
	Version string // o= session version
	Session string // o= username and session id
	// Media is the first m= line's c= address (media level, else session
	// level) and port: where the side that received this SDP sends RTP.
	Media     netip.AddrPort
	Proto     string // the first m= line's protocol: RTP/AVP, udptl, ...
	Direction string // a=sendrecv|sendonly|recvonly|inactive (RFC 3264 §5.1), media level first
	// Streams is every m= line as natsbc's reader sees it.
	Streams []media.Stream
	// Addrs are all IPv4 literals anywhere in the body (o=, c=, a=rtcp,
	// candidates...): what the body tells its receiver about the far side.
	Addrs []string
	Body  string
}

var ipv4Literal = regexp.MustCompile(`\b[0-9]{1,3}(\.[0-9]{1,3}){3}\b`)

// ParseTracedSDP reads the SDP body of a traced message with natsbc's own
// SDP reader (one reader in the program, RFC 8866 grammar), finding it in
// a multipart body as natsbc does.
func ParseTracedSDP(m TracedMessage) (TracedSDP, error) {
	body := m.Body()
	sdp, ok := media.SDPOf(m.Header("Content-Type"), []byte(body))
	if !ok {
		return TracedSDP{}, fmt.Errorf("%q carries no SDP (Content-Type %q)\n%s", m.StartLine(), m.Header("Content-Type"), body)
	}
	streams, err := media.ParseStreams(sdp)
	if err != nil {
		return TracedSDP{}, fmt.Errorf("SDP of %q: %w\n%s", m.StartLine(), err, body)
	}
	if len(streams) == 0 {
		return TracedSDP{}, fmt.Errorf("SDP of %q has no m= line\n%s", m.StartLine(), body)
	}
	o, err := media.ParseOrigin(sdp)
	if err != nil {
		return TracedSDP{}, fmt.Errorf("SDP of %q: %w\n%s", m.StartLine(), err, body)
	}
	first := streams[0]
	return TracedSDP{
		Origin:    o.Address,
		Version:   o.Version,
		Session:   o.Username + " " + o.SessionID,
		Media:     first.RTPAddrPort(),
		Proto:     first.Proto,
		Direction: string(first.Direction),
		Streams:   streams,
		Addrs:     ipv4Literal.FindAllString(string(sdp), -1),
		Body:      body,
	}, nil
}

// OnlyAddress returns an error naming every address in the body other
// than want: an SDP natsbc sent a side may name natsbc's address facing
// that side and nothing else (no private or far-side address leaks).
func (s TracedSDP) OnlyAddress(want string) error {
	for _, a := range s.Addrs {
		if a != want {
			return fmt.Errorf("SDP names %s, want only %s:\n%s", a, want, s.Body)
		}
	}
	if len(s.Addrs) == 0 {
		return fmt.Errorf("SDP names no address at all:\n%s", s.Body)
	}
	return nil
}

// String is the SDP's first media address and direction, for messages.
func (s TracedSDP) String() string {
	return s.Media.String() + " " + s.Direction + " (o= " + s.Origin + ")"
}
