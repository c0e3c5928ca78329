//go:build linux

package natlab

import (
	"fmt"
	"net/netip"
	"regexp"

	"github.com/pion/sdp/v3"
)

// TracedSDP is what the media scenarios read of an SDP body in a sipp
// message trace: its first m= line and every address it names.
type TracedSDP struct {
	Origin string // o= unicast address
	// Media is the first m= line's c= address (media level, else session
	// level) and port: where the side that received this SDP sends RTP.
	Media     netip.AddrPort
	Direction string // a=sendrecv|sendonly|recvonly|inactive (RFC 3264 §5.1), media level first
	// Addrs are all IPv4 literals anywhere in the body (o=, c=, a=rtcp,
	// candidates...): what the body tells its receiver about the far side.
	Addrs []string
	Body  string
}

var ipv4Literal = regexp.MustCompile(`\b[0-9]{1,3}(\.[0-9]{1,3}){3}\b`)

// ParseTracedSDP reads the SDP body of a traced message.
func ParseTracedSDP(m TracedMessage) (TracedSDP, error) {
	body := m.Body()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(body); err != nil {
		return TracedSDP{}, fmt.Errorf("SDP of %q: %w\n%s", m.StartLine(), err, body)
	}
	if len(sd.MediaDescriptions) == 0 {
		return TracedSDP{}, fmt.Errorf("SDP of %q has no m= line\n%s", m.StartLine(), body)
	}
	md := sd.MediaDescriptions[0]
	conn := sd.ConnectionInformation
	if md.ConnectionInformation != nil {
		conn = md.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return TracedSDP{}, fmt.Errorf("SDP of %q has no c= for its first m= line\n%s", m.StartLine(), body)
	}
	ip, err := netip.ParseAddr(conn.Address.Address)
	if err != nil {
		return TracedSDP{}, fmt.Errorf("SDP of %q: c= %q: %w", m.StartLine(), conn.Address.Address, err)
	}
	out := TracedSDP{
		Origin:    sd.Origin.UnicastAddress,
		Media:     netip.AddrPortFrom(ip, uint16(md.MediaName.Port.Value)),
		Direction: direction(md.Attributes, sd.Attributes),
		Addrs:     ipv4Literal.FindAllString(body, -1),
		Body:      body,
	}
	return out, nil
}

// direction is the first direction attribute of the media, else of the
// session, else sendrecv (RFC 3264 §5.1 default).
func direction(levels ...[]sdp.Attribute) string {
	for _, attrs := range levels {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				return a.Key
			}
		}
	}
	return "sendrecv"
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
