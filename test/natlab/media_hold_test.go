//go:build linux

package natlab

import (
	"testing"
	"time"
)

// TestMediaHoldResume (media scenario b): hold and resume by re-INVITE from
// each side (RFC 3264 §8.4). The phone holds (a=sendonly; the callee
// answers a=recvonly and its endpoint falls silent, as a held phone does)
// and resumes (a=sendrecv); then the callee holds and resumes the same way.
// Every re-offer and answer reaches the other side with its direction and
// natsbc's same relay address; while held, the holder's media still flows;
// after each resume's ACK, packets arrive again in both directions.
func TestMediaHoldResume(t *testing.T) {
	t.Parallel()
	l := newMediaLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{}.config())
	callee := l.StartSipp(t, "callee", mediaCallee(t, l, "callee", "media_callee_hold.xml", calleeRTPPort))
	phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_hold.xml", 5060, phoneRTPPort, 0))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	ps, cs := phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	m := startMediaPair(t, l, ps, cs)

	holdAndResume(t, l, m, ps, cs, phone, callee)
	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 10*time.Second)
	aToB, bToA := endedMedia(t, awaitEnded(t, n, "bye-from-a"))
	t.Logf("natsbc: a->b %+v, b->a %+v", aToB, bToA)
	assertOnlyFrom(t, "the phone", m.phone.Last(), ps.got.Media)
	assertOnlyFrom(t, "the PBX", m.pbx.Last(), cs.got.Media)
	n.AssertNoCrash(t)
}

// holdAndResume plays the four re-INVITEs of media_phone_hold.xml and
// media_callee_hold.xml with the call's RTP endpoints: the held side
// falls silent as its recvonly answer says, the holder's media must still
// arrive, and after each resume's ACK media must arrive both ways. Each
// re-offer and answer must carry the direction the other side sent and
// the call's first media address, and only addresses of the side's facing.
func holdAndResume(t *testing.T, l *Lab, m mediaPair, ps, cs mediaSide, phone, callee *Proc) {
	t.Helper()
	// The phone holds: its offer reaches the callee as sendonly, the
	// callee's recvonly answer reaches the phone; the callee stops sending.
	held := l.AwaitTraced(t, ps.sipp, phone, 15*time.Second, "the ACK of its hold", First(Sent("ACK", "2 ACK")))
	assertReoffer(t, l, cs, callee, Nth(0, InDialog("INVITE ")), "sendonly")
	assertReoffer(t, l, ps, phone, First(Received("SIP/2.0 200", "2 INVITE")), "recvonly")
	m.pbx.Pause(t)
	_, r := m.pbx.AwaitReceivedAfter(t, held.At, 5*time.Second)
	t.Logf("phone holds: the callee still hears it (%d packets)", r.Received)

	resumed := l.AwaitTraced(t, ps.sipp, phone, 15*time.Second, "the ACK of its resume", First(Sent("ACK", "3 ACK")))
	assertReoffer(t, l, cs, callee, Nth(1, InDialog("INVITE ")), "sendrecv")
	assertReoffer(t, l, ps, phone, First(Received("SIP/2.0 200", "3 INVITE")), "sendrecv")
	m.pbx.Resume(t)
	m.awaitBothReceiveAfter(t, resumed.At, "phone resumed")

	// The callee holds, in its own CSeq space.
	held = l.AwaitTraced(t, cs.sipp, callee, 15*time.Second, "the ACK of its hold", First(Sent("ACK", "101 ACK")))
	assertReoffer(t, l, ps, phone, Nth(0, InDialog("INVITE ")), "sendonly")
	assertReoffer(t, l, cs, callee, First(Received("SIP/2.0 200", "101 INVITE")), "recvonly")
	m.phone.Pause(t)
	_, r = m.phone.AwaitReceivedAfter(t, held.At, 5*time.Second)
	t.Logf("callee holds: the phone still hears it (%d packets)", r.Received)

	resumed = l.AwaitTraced(t, cs.sipp, callee, 15*time.Second, "the ACK of its resume", First(Sent("ACK", "102 ACK")))
	assertReoffer(t, l, ps, phone, Nth(1, InDialog("INVITE ")), "sendrecv")
	assertReoffer(t, l, cs, callee, First(Received("SIP/2.0 200", "102 INVITE")), "sendrecv")
	m.phone.Resume(t)
	m.awaitBothReceiveAfter(t, resumed.At, "callee resumed")
}

// assertReoffer checks an SDP natsbc sent side in a re-INVITE or its
// answer (the message find picks): the direction the other side gave it,
// natsbc's address only, and the relay address of the call's first SDP
// (the endpoints keep sending there).
func assertReoffer(t *testing.T, l *Lab, side mediaSide, p *Proc, find TraceFinder, direction string) {
	t.Helper()
	m := l.AwaitTraced(t, side.sipp, p, 10*time.Second, "the "+direction+" SDP", find)
	got := mustSDP(t, m)
	if got.Direction != direction {
		t.Errorf("%s: %q carries a=%s, want a=%s as the other side sent it:\n%s", side.sipp, m.StartLine(), got.Direction, direction, got.Body)
	}
	if got.Media != side.got.Media {
		t.Errorf("%s: %q carries relay %s, the call started on %s", side.sipp, m.StartLine(), got.Media, side.got.Media)
	}
	if err := got.OnlyAddress(side.facing.String()); err != nil {
		t.Errorf("%s: %q: %v", side.sipp, m.StartLine(), err)
	}
}
