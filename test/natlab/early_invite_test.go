package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestRedirectAfterRinging: the redirect server rings first (180 with a To
// tag and Record-Route), then answers 302. natsbc follows it with a new
// INVITE (no To tag, no Route: RFC 3261 §8.1.3.4), which reaches the
// moved target, not the redirect server by the early dialog's route set;
// the phone hears the 180 and then the moved target's 200.
func TestRedirectAfterRinging(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig("")+redirectRoutes)
	redirector := l.StartSipp(t, "redirector", Sipp{Scenario: "redirector_ringing.xml", NS: NSPBX, IP: PBXIP, Port: 5060,
		Keys: map[string]string{"moved": movedURI}})
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee_redirected.xml", NS: NSPBX, IP: PBXIP, Port: 5062})
	s := phoneCall("phone_call_ruri.xml")
	s.Keys = map[string]string{"ruri": "sip:callee@" + PBXIP + ":5060"}
	s.Hold = time.Second
	phone := l.StartSipp(t, "phone", s)

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	MustSucceed(t, redirector, 15*time.Second)
	followed := n.Log.Await(t, 0, "redirect followed", nil)
	if !strings.Contains(followed.Str("target"), "moved@"+PBXIP+":5062") || !strings.Contains(followed.Str("b_next_hop"), PBXIP+":5062") {
		t.Errorf("redirect followed to %q via %q, want %s straight: %s", followed.Str("target"), followed.Str("b_next_hop"), movedURI, followed.Raw)
	}
	awaitEnded(t, n, "bye-from-a")
	assertOneCallEnded(t, n)
	n.AssertNoCrash(t)
}

// TestReinviteInEarlyDialogRefused: while the callee rings, the NATed phone
// re-INVITEs in its early dialog. The initial INVITE holds the call's
// INVITE slot, so the phone gets 500 with Retry-After (RFC 3261 §14.2,
// phone_early_reinvite.xml checks it) and the callee never sees a second
// INVITE (callee_cancel.xml would fail on it); the phone's CANCEL of the
// initial INVITE then still reaches the callee and the call ends cancel.
func TestReinviteInEarlyDialogRefused(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig(""))
	callee := l.StartSipp(t, "callee", calleeAt("callee_cancel.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_early_reinvite.xml"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	awaitEnded(t, n, "cancel")
	assertOneCallEnded(t, n)
	n.AssertNoCrash(t)
}
