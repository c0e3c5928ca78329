//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// logTime is when natsbc logged an entry.
func logTime(t *testing.T, e LogEntry) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, e.Str("time"))
	if err != nil {
		t.Fatalf("log entry without a time: %s", e.Raw)
	}
	return at
}

// TestCalleeVanishesCallerCancels (issue 10 item 3): the callee rings
// (180) and vanishes; the NATed phone CANCELs and gets 200 and 487 within
// 2 s each (the scenario's timeouts); the callee gets the CANCEL but never
// answers it, so natsbc gives the B-leg up 64*T1 (6.4 s) later. The call,
// its media session, its relay sockets and its goroutines are all gone
// afterwards (admin metrics, ss, pprof).
func TestCalleeVanishesCallerCancels(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig(""))
	before := callGoroutines(t, l)
	callee := l.StartSipp(t, "callee", calleeAt("callee_vanish.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_cancel.xml"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	cancelled := n.Log.Await(t, 5*time.Second, "INVITE cancelled", nil)
	given := n.Log.Await(t, 15*time.Second, "CANCEL not followed by a final response: INVITE given up", nil)
	if d := logTime(t, given).Sub(logTime(t, cancelled)); d < 6400*time.Millisecond {
		t.Errorf("B-leg given up %v after the CANCEL, before 64*T1 = 6.4s", d)
	}
	awaitEnded(t, n, "cancel")
	assertOneCallEnded(t, n)
	assertCallFreed(t, l, before)
	n.AssertNoCrash(t)
}

// TestTimerC (issue 10 item 3): sip.timer_c 3s; the callee rings and
// never answers, the phone never CANCELs. When Timer C fires the phone gets
// 408 (and ACKs it) and the callee a CANCEL, which it answers (200, 487,
// ACK received); the call ends with reason timer-c, no sooner than 3 s after
// it started, and everything is freed.
func TestTimerC(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig("  timer_c: 3s\n"))
	before := callGoroutines(t, l)
	callee := l.StartSipp(t, "callee", calleeAt("callee_cancel.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_timer_c.xml"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	started := n.Log.Await(t, 0, "call started", nil)
	fired := n.Log.Await(t, 0, "Timer C fired: INVITE cancelled", nil)
	if d := logTime(t, fired).Sub(logTime(t, started)); d < 3*time.Second {
		t.Errorf("Timer C fired %v after the call started, want >= 3s", d)
	}
	awaitEnded(t, n, "timer-c")
	assertOneCallEnded(t, n)
	assertCallFreed(t, l, before)
	n.AssertNoCrash(t)
}

// TestReinviteCancelled (issue 10 item 4): after the call is up the phone
// re-INVITEs and CANCELs it; the phone gets 200 and 487, the callee the
// CANCEL of its re-INVITE (answered 200 and 487, ACK received), and the call
// stays up: no "no ACK" ending (the phone waits longer than 64*T1), and
// the phone's BYE 8 s later reaches the callee.
func TestReinviteCancelled(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig(""))
	callee := l.StartSipp(t, "callee", calleeAt("callee_reinvite_cancel.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_reinvite_cancel.xml"))

	MustSucceed(t, phone, 60*time.Second)
	MustSucceed(t, callee, 30*time.Second)
	n.Log.Await(t, 0, "INVITE cancelled", map[string]string{"initial": "false"})
	awaitEnded(t, n, "bye-from-a")
	assertOneCallEnded(t, n)
	if got := n.Log.Find("no ACK for 2xx, ending call", nil); len(got) > 0 {
		t.Errorf("a cancelled re-INVITE was taken for a missing ACK: %s", got[0].Raw)
	}
	n.AssertNoCrash(t)
}

// redirectRoutes let the phone's INVITE go where its Request-URI says, so
// natsbc's routes allow the 3xx target on the PBX host's other port.
const redirectRoutes = `routes:
  - from: "*"
    to: request-uri
`

const movedURI = "sip:moved@" + PBXIP + ":5062"

// TestRedirectFollowed (issue 10 item 6): the phone calls a redirect
// server (sipp at 10.0.0.10:5060, peer pbx with the default redirect:
// follow) that answers 302 with Contact sip:moved@10.0.0.10:5062 and gets
// its ACK; natsbc sends the INVITE there, where a second callee answers,
// holds 3 s and gets the phone's BYE. The phone never sees the 302.
func TestRedirectFollowed(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig("")+redirectRoutes)
	redirector := l.StartSipp(t, "redirector", Sipp{Scenario: "redirector.xml", NS: NSPBX, IP: PBXIP, Port: 5060,
		Keys: map[string]string{"moved": movedURI}})
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSPBX, IP: PBXIP, Port: 5062})
	s := phoneCall("phone_call_ruri.xml")
	s.Keys = map[string]string{"ruri": "sip:callee@" + PBXIP + ":5060"}
	s.Hold = 3 * time.Second
	phone := l.StartSipp(t, "phone", s)

	// While the call holds, the admin view shows it: this is what
	// assertCallFreed reads as zero in the other scenarios.
	n.Log.Await(t, 10*time.Second, "call answered", nil)
	if calls, sessions := metric(t, l, "natsbc_active_calls"), metric(t, l, "natsbc_media_sessions"); calls != 1 || sessions != 1 {
		t.Errorf("during the call natsbc_active_calls = %v, natsbc_media_sessions = %v, want 1 and 1", calls, sessions)
	}
	if held := relaySockets(t, l); len(held) == 0 {
		t.Error("no relay socket open during an anchored call: the freed-ports check would prove nothing")
	}
	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	MustSucceed(t, redirector, 15*time.Second)
	followed := n.Log.Await(t, 0, "redirect followed", nil)
	if !strings.Contains(followed.Str("target"), "moved@"+PBXIP+":5062") {
		t.Errorf("redirect followed to %q, want %s: %s", followed.Str("target"), movedURI, followed.Raw)
	}
	awaitEnded(t, n, "bye-from-a")
	assertOneCallEnded(t, n)
	n.AssertNoCrash(t)
}

// TestRedirectRelayed (issue 10 item 6): the same redirect server as peer
// pbx with redirect: relay; the phone gets the 302 with the Contact the
// server wrote (the scenario checks it) and ACKs it; natsbc follows
// nothing and the call ends rejected.
func TestRedirectRelayed(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig("")+"    redirect: relay\n"+redirectRoutes)
	redirector := l.StartSipp(t, "redirector", Sipp{Scenario: "redirector.xml", NS: NSPBX, IP: PBXIP, Port: 5060,
		Keys: map[string]string{"moved": movedURI}})
	s := phoneCall("phone_redirect_relayed.xml")
	s.Keys = map[string]string{"ruri": "sip:callee@" + PBXIP + ":5060"}
	phone := l.StartSipp(t, "phone", s)

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, redirector, 15*time.Second)
	awaitEnded(t, n, "rejected")
	if got := n.Log.Find("redirect followed", nil); len(got) > 0 {
		t.Errorf("natsbc followed a 302 of a redirect: relay peer: %s", got[0].Raw)
	}
	n.AssertNoCrash(t)
}
