package loadgen

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// sdpBody is the offer or answer of one call's leg (RFC 8866, RFC 3264):
// one PCMU audio stream at the side's shared RTP socket. sessID keeps the
// o= line distinct per call.
func sdpBody(rtp netip.AddrPort, sessID int, ptime time.Duration) string {
	ip := rtp.Addr().Unmap()
	family := "IP4"
	if ip.Is6() {
		family = "IP6"
	}
	return fmt.Sprintf("v=0\r\n"+
		"o=loadgen %d 1 IN %s %s\r\n"+
		"s=loadgen\r\n"+
		"c=IN %s %s\r\n"+
		"t=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\n"+
		"a=rtpmap:0 PCMU/8000\r\n"+
		"a=ptime:%d\r\n"+
		"a=sendrecv\r\n",
		sessID+1, family, ip, family, ip, rtp.Port(), ptime.Milliseconds())
}

var errNoAudio = errors.New("SDP has no usable audio stream")

// sdpAudioAddr returns where the other side wants the first audio stream's
// RTP: the stream's port and its c= address, the media-level one over the
// session-level one (RFC 8866 §5.7).
func sdpAudioAddr(body []byte) (netip.AddrPort, error) {
	var session, media string
	port, inAudio, seenAudio, seenMedia := 0, false, false, false
	for line := range strings.SplitSeq(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "m="):
			seenMedia = true
			if seenAudio {
				inAudio = false
				continue
			}
			fields := strings.Fields(line[2:])
			if len(fields) >= 2 && fields[0] == "audio" {
				p, err := strconv.Atoi(fields[1])
				if err != nil || p <= 0 || p > 65535 {
					return netip.AddrPort{}, errNoAudio
				}
				port, inAudio, seenAudio = p, true, true
			}
		case strings.HasPrefix(line, "c="):
			fields := strings.Fields(line[2:])
			if len(fields) < 3 {
				continue
			}
			addr, _, _ := strings.Cut(fields[2], "/") // drop a multicast TTL
			if inAudio {
				media = addr
			} else if !seenMedia {
				session = addr
			}
		}
	}
	if !seenAudio {
		return netip.AddrPort{}, errNoAudio
	}
	host := media
	if host == "" {
		host = session
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("SDP connection address %q: %w", host, err)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}
