//go:build linux

package natlab

import (
	"testing"
	"time"
)

// injectWindow is natsbc's latch window in scenario c: short, so the test
// can inject both inside it and after it within one call.
const injectWindow = 5 * time.Second

// TestMediaInjection (media scenario c): during a live call a third host
// on the outside (StrangerIP) sends tagged RTP to every relay port of the
// call (RTP and RTCP, both legs; all bound on natsbc's outside address),
// once while the latch window (5 s here) is open (where RTP bleed bites,
// CVE-2017-14114) and once after it closed. None of its packets reach
// either endpoint (no tagged payload, no source but natsbc), the call's
// media goes on unharmed, and natsbc's "call ended" line counts every one
// as dropped, on the leg whose port it hit.
func TestMediaInjection(t *testing.T) {
	t.Parallel()
	const perPort = 50
	l := newMediaLab(t)
	l.AddStranger(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{LatchWindow: injectWindow}.config())
	callee := l.StartSipp(t, "callee", mediaCallee(t, l, "callee", "media_callee.xml", calleeRTPPort))
	phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_call.xml", 5060, phoneRTPPort, 12*time.Second))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	ps, cs := phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	m := startMediaPair(t, l, ps, cs)
	answered := l.AwaitTraced(t, "phone", phone, time.Second, "the 200", First(Received("SIP/2.0 200", "1 INVITE")))

	inject := func(when string) {
		t.Helper()
		for _, p := range []uint16{ps.got.Media.Port(), cs.got.Media.Port()} {
			l.Inject(t, p, perPort)   // RTP
			l.Inject(t, p+1, perPort) // RTCP (RFC 3550 §11: the odd port above)
		}
		m.awaitBothReceiveAfter(t, time.Now(), "injected "+when)
	}
	// A second to spare for the first burst to land inside the window.
	if d := time.Since(answered.At); d >= injectWindow-time.Second {
		t.Fatalf("the call's media took %v to start: too close to the end of the %v latch window", d, injectWindow)
	}
	inject("inside the latch window")
	// A scenario step: the window is a duration in natsbc, no event tells it closed.
	time.Sleep(time.Until(answered.At.Add(injectWindow + 500*time.Millisecond)))
	inject("after the latch window")

	_, _, aToB, bToA := finishTwoWayCall(t, n, m, ps, cs, phone, callee)
	// Two bursts to two ports of each leg.
	if want := uint64(2 * 2 * perPort); aToB.Dropped != want || bToA.Dropped != want {
		t.Errorf("natsbc counted %d (leg a's ports) and %d (leg b's) dropped, want %d each", aToB.Dropped, bToA.Dropped, want)
	}
	n.AssertNoCrash(t)
}
