package loadgen

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/natsbc/natsbc/media"
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
// session-level one (RFC 8866 §5.7), as natsbc's own SDP reader finds them.
func sdpAudioAddr(body []byte) (netip.AddrPort, error) {
	streams, err := media.ParseStreams(body)
	if err != nil {
		return netip.AddrPort{}, err
	}
	for _, s := range streams {
		if s.Media != "audio" {
			continue
		}
		if s.Port == 0 {
			return netip.AddrPort{}, errNoAudio
		}
		return s.RTPAddrPort(), nil
	}
	return netip.AddrPort{}, errNoAudio
}
