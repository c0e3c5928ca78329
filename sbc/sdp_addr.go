package sbc

import (
	"github.com/pion/sdp/v3"
)

// sdpConnectionAddr returns the SDP c= address (session level, else the
// first media's) for NAT detection, or "" when the body is not SDP.
func sdpConnectionAddr(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return ""
	}
	if sd.ConnectionInformation != nil && sd.ConnectionInformation.Address != nil {
		return sd.ConnectionInformation.Address.Address
	}
	for _, m := range sd.MediaDescriptions {
		if m.ConnectionInformation != nil && m.ConnectionInformation.Address != nil {
			return m.ConnectionInformation.Address.Address
		}
	}
	return ""
}
