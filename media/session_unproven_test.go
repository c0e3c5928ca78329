package media

import (
	"net/netip"
	"strings"
	"testing"
)

// A public phone that has not proven it receives at its address (issue
// 12, item 7) gets no media at the address its SDP names until its own
// media arrives: a forged INVITE cannot point the PBX's RTP at a third
// party. A proven one is sent to its SDP address at once.
func TestSessionUnprovenPeerGetsMediaOnlyWhereItSendsFrom(t *testing.T) {
	const victimAddr = "198.51.100.50:8000"
	offer := strings.ReplaceAll(phoneOffer, "192.168.1.20", "198.51.100.50")
	for _, c := range []struct {
		name     string
		unproven bool
	}{{"unproven", true}, {"proven", false}} {
		t.Run(c.name, func(t *testing.T) {
			r := newSessionRig(t, Config{})
			r.s.SetPeer(LegA, PeerInfo{SignalSource: netip.MustParseAddrPort("198.51.100.50:5060"), Unproven: c.unproven})
			_, bPort := rewrite(t, r.s, LegA, offer, facingB, 0)
			_, aPort := rewrite(t, r.s, LegB, pbxAnswer, facingA, 0)
			r.s.Answered()
			atSDP := r.n.peer(t, victimAddr)
			pbx := r.n.peer(t, bSDP.String())
			pbx.sendTo(t, rtpPacket(0, 1, 0, 0xb), relayAddr(r.n, bPort))
			stunBarrier(t, pbx, relayAddr(r.n, bPort))
			if !c.unproven {
				if d := atSDP.recv(t); d.data[11] != 0xb {
					t.Fatalf("the proven phone got SSRC %x", d.data[11])
				}
				return
			}
			atSDP.empty(t)
			// Its own media proves where it receives: from then on it gets
			// the PBX's.
			atSDP.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, aPort))
			pbx.recv(t)
			pbx.sendTo(t, rtpPacket(0, 2, 160, 0xb), relayAddr(r.n, bPort))
			if d := atSDP.recv(t); d.data[3] != 2 {
				t.Fatalf("after its own packet the phone got seq %d, want 2", d.data[3])
			}
		})
	}
}
