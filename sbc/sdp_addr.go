package sbc

import (
	"net/netip"
	"slices"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// sdpConnectionAddrs returns the connection addresses of the enabled
// streams of a message's SDP, for NAT detection: read by media's SDP
// reader, the one natsbc anchors with, so a T.38 or multipart body is read
// here as it is anchored. None when the message carries no readable SDP.
func sdpConnectionAddrs(msg sip.Message) []netip.Addr {
	body, ok := media.SDPOf(contentType(msg), msg.Body())
	if !ok {
		return nil
	}
	streams, err := media.ParseStreams(body)
	if err != nil {
		return nil
	}
	var addrs []netip.Addr
	for _, s := range streams {
		if s.Port != 0 && !slices.Contains(addrs, s.Addr) {
			addrs = append(addrs, s.Addr)
		}
	}
	return addrs
}
