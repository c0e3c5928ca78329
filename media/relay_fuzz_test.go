package media

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

// FuzzRelayPacket feeds any datagram to a relay port from the phone or
// from a stranger: handling never panics, and a stranger's datagram
// reaches nobody, not even itself.
func FuzzRelayPacket(f *testing.F) {
	req, _ := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	for _, seed := range [][]byte{
		rtpPacket(0, 1, 160, 7),
		rtpPacket(0, 1, 160, 7)[:11],
		{0x81, 200, 0, 6, 0, 0, 0, 1},
		req.Raw,
		{22, 0xfe, 0xfd, 0, 0},
		[]byte("INVITE sip:x SIP/2.0\r\n"),
		{},
	} {
		f.Add(seed, false, true)
		f.Add(seed, true, false)
	}
	stranger := netip.MustParseAddrPort("192.0.2.66:5004")
	f.Fuzz(func(t *testing.T, pkt []byte, fromStranger, rtpPort bool) {
		r := newIdleStreamRig(t)
		phone := r.n.peer(t, aMapped)
		pbx := r.n.peer(t, bSDP.String())
		pbxRTCP := r.n.peer(t, bRTCP.String())
		src := netip.MustParseAddrPort(aMapped)
		if fromStranger {
			src = stranger
		}
		conn := r.a.rtcp
		if rtpPort {
			conn = r.a.rtp
		}
		r.st.handle(r.a, conn, rtpPort, pkt, src, make([]byte, 0, scratchCap))
		if fromStranger {
			pbx.empty(t)
			pbxRTCP.empty(t)
			phone.empty(t)
			if classify(pkt, carryRTP) != kindOther && classify(pkt, carryRTP) != kindSTUN && r.a.flow().Dropped != 1 {
				t.Fatalf("stranger's packet not counted as dropped")
			}
		}
	})
}
