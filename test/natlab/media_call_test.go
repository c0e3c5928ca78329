//go:build linux

package natlab

import (
	"testing"
	"time"
)

// mediaExchange is how long the two sides of scenario a talk.
const mediaExchange = 10 * time.Second

// TestMediaTwoWay (media scenario a): the phone behind the port-randomising
// NAT and the PBX exchange RTP through natsbc for 10 s. At least 95 % of
// the packets arrive each way, each side only ever hears natsbc's relay
// port facing it, and the SDP each side got names only natsbc's address
// facing it: no 192.168.x reaches the PBX, no 10.0.0.x the phone. natsbc's
// own count ("call ended") matches what the endpoints saw, nothing dropped.
func TestMediaTwoWay(t *testing.T) {
	t.Parallel()
	l := newMediaLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{}.config())
	callee := l.StartSipp(t, "callee", mediaCallee(t, l, "callee", "media_callee.xml", calleeRTPPort))
	phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_call.xml", 5060, phoneRTPPort, mediaExchange+6*time.Second))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	ps, cs := phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	assertAnchoredSDP(t, ps, cs)
	assertAnchoredSDP(t, cs, ps)
	m := startMediaPair(t, l, ps, cs)

	// The scenario's ten seconds of talk: a duration, not a wait for an event.
	time.Sleep(mediaExchange)
	if !phone.ExitedAt().IsZero() {
		t.Fatalf("the call ended during the exchange: %v", phone.Wait(0))
	}
	phoneRep, pbxRep, aToB, bToA := finishTwoWayCall(t, n, m, ps, cs, phone, callee)
	if aToB.Packets < pbxRep.Received || aToB.Packets > phoneRep.Sent {
		t.Errorf("natsbc relayed %d packets a->b; the phone sent %d, the PBX received %d", aToB.Packets, phoneRep.Sent, pbxRep.Received)
	}
	if bToA.Packets < phoneRep.Received || bToA.Packets > pbxRep.Sent {
		t.Errorf("natsbc relayed %d packets b->a; the PBX sent %d, the phone received %d", bToA.Packets, pbxRep.Sent, phoneRep.Received)
	}
	if aToB.Dropped+bToA.Dropped != 0 {
		t.Errorf("natsbc dropped packets of a call nobody attacked: a->b %d, b->a %d", aToB.Dropped, bToA.Dropped)
	}
	n.AssertNoCrash(t)
}
