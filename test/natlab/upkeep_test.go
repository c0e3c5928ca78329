//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestCalleeHangsUpAfterNATTimeout (issue 10): a NATed phone that never
// registered calls the PBX; the callee keeps 40 s of SIP silence, twice the
// NAT's 20 s UDP timeout, then hangs up. natsbc keeps the phone's flow open
// for the call with in-dialog OPTIONS every keepalive.interval (15 s), so
// its BYE still crosses the NAT and the phone leaves the call. Without the
// keepalive the NAT drops the BYE and the phone sits in a ghost call: its
// sipp run then fails on its timeout.
func TestCalleeHangsUpAfterNATTimeout(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_bye_after_silence.xml", PBXIP))
	ps := phoneCall("phone_wait_bye.xml")
	ps.Timeout = Hold + 30*time.Second
	phone := l.StartSipp(t, "phone", ps)

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	assertNATed(t, l, "udp")
	if err := phone.Wait(Hold + 40*time.Second); err != nil {
		t.Errorf("the callee's BYE did not reach the NATed phone after %v of SIP silence (the NAT's UDP timeout is 20 s): "+
			"natsbc did not keep the phone's pinhole open; sipp: %v", Hold, err)
	}
	MustSucceed(t, callee, 15*time.Second)
	awaitEnded(t, n, "bye-from-b")
	assertOneCallEnded(t, n)

	msgs, err := l.ReadSippTrace("phone")
	if err != nil {
		t.Fatalf("phone trace: %v", err)
	}
	var keepalives int
	for _, m := range msgs {
		if m.Received && strings.HasPrefix(m.StartLine(), "OPTIONS ") {
			keepalives++
			if m.Header("To") == "" || !strings.Contains(m.Header("To"), "tag=") {
				t.Errorf("keepalive OPTIONS outside the call's dialog (no To tag):\n%s", m.Text)
			}
		}
	}
	// 40 s of hold at a 15 s interval: at least two (one in flight may be
	// cut by the BYE).
	if keepalives < 2 {
		t.Errorf("the phone got %d in-dialog OPTIONS during the %v hold, want at least 2 (keepalive.interval 15 s)", keepalives, Hold)
	}
	if got := n.Log.Find("leg dead: keepalives unanswered, ending call", nil); len(got) != 0 {
		t.Errorf("natsbc declared a leg dead though the phone answered its keepalives: %s", got[0].Raw)
	}
	n.AssertNoCrash(t)
}

// TestSessionTimerExpiryOnSilentLeg (issue 10): the phone asks for a 20 s
// session timer that it refreshes itself (refresher=uac) and never does;
// the callee has no session timer but allows UPDATE. natsbc (session
// interval 20 s, a test-only min_se of 10 s) refreshes the callee's leg
// with an UPDATE at 10 s and, at the phone's expiry (20 s - 20/3 s, RFC
// 4028 §10), ends the call with BYE on both legs and a log line naming the
// leg, with media.anchor: false (no media timeout could do it). The
// scenarios check the headers natsbc sends on each leg.
func TestSessionTimerExpiryOnSilentLeg(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	// No media relay: the session timer alone must end the call.
	config := strings.Replace(BaseConfig, "sip:\n", "sip:\n  session_expires: 20s\n  min_se: 10s\n", 1) +
		"media:\n  anchor: false\n"
	n := l.StartNatsbc(t, config+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_timer.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_timer_silent.xml"))

	answered := n.Log.Await(t, 10*time.Second, "call answered", nil)
	expired, ok := n.Log.Wait(30*time.Second, "session timer expired, ending call", nil)
	if !ok {
		t.Fatalf("no \"session timer expired\" within 30 s of the answer: the phone's silence over its 20 s session went unnoticed")
	}
	if leg := expired.Str("leg"); leg != "a" {
		t.Errorf("session timer expired on leg %q, want a (the phone that promised refreshes): %s", leg, expired.Raw)
	}
	if d := expired.At.Sub(answered.At); d < 12*time.Second || d > 16*time.Second {
		t.Errorf("session ended %v after the answer, want about 13.3 s (20 s minus a third)", d)
	}
	if err := phone.Wait(30 * time.Second); err != nil {
		t.Errorf("phone: natsbc's BYE at the session's expiry did not come, or the 200 lacked Session-Expires: 20;refresher=uac / Require: timer: %v", err)
	}
	if err := callee.Wait(15 * time.Second); err != nil {
		t.Errorf("callee: natsbc's INVITE lacked Session-Expires: 20 / Supported: timer, its UPDATE refresh at 10 s or its BYE never came: %v", err)
	}
	awaitEnded(t, n, "session-expired")
	assertOneCallEnded(t, n)
	n.AssertNoCrash(t)
}

// TestLabNATForgetsIdleCall is the control of TestCalleeHangsUpAfterNATTimeout,
// without natsbc: the same scenario pair straight through the NAT works
// after 1 s of silence, and after 40 s the callee's BYE is lost at the NAT
// (its UDP mapping is gone), so the phone never leaves the call. If this
// ever passes, the lab's NAT no longer forgets, and the natsbc test proves
// nothing.
func TestLabNATForgetsIdleCall(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		hold   time.Duration
		reachs bool
	}{{"short silence", time.Second, true}, {"silence past the NAT timeout", Hold, false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee_bye_after_silence.xml", NS: NSEdge, IP: EdgeOutIP, Port: 5060,
				Hold: c.hold, Timeout: c.hold + 15*time.Second})
			phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_wait_bye.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
				Remote: EdgeOutIP + ":5060", Service: "callee", Timeout: c.hold + 15*time.Second})
			err := phone.Wait(c.hold + 30*time.Second)
			switch {
			case c.reachs && err != nil:
				t.Errorf("the callee's BYE after %v did not reach the phone straight through the NAT: the scenario pair is broken: %v", c.hold, err)
			case !c.reachs && err == nil:
				t.Errorf("the callee's BYE after %v of silence reached the phone straight through the NAT: "+
					"the NAT did not forget the idle mapping (20 s UDP timeout), so TestCalleeHangsUpAfterNATTimeout proves nothing", c.hold)
			}
			if err := callee.Wait(30 * time.Second); c.reachs && err != nil {
				t.Errorf("callee: %v", err)
			}
		})
	}
}

// TestLongRingThroughNAT (issue 10 item 8, while ringing): the callee rings
// 40 s, twice the NAT's UDP timeout, before it answers. natsbc resends the
// 180 to the NATed caller at the keepalive interval (RFC 3261 §13.3.1.1),
// so the 200 still finds the phone's mapping: the phone gets it, ACKs and
// hangs up. Without the resends the NAT forgets the mapping
// (TestLabNATForgetsIdleCall) and the phone never hears the answer.
func TestLongRingThroughNAT(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_long_ring.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_long_ring.xml"))

	MustSucceed(t, phone, 90*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	awaitEnded(t, n, "bye-from-a")
	if got := len(n.Log.Find("ringing: provisional resent to hold the caller's NAT pinhole", nil)); got < 2 {
		t.Errorf("natsbc resent %d provisionals in 40 s of ringing, want at least 2 (keepalive interval 15 s)", got)
	}
	n.AssertNoCrash(t)
}
