package sbc

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// While the call rings, a NATed caller gets its last provisional again at
// the keepalive interval (100 Trying before any came), so its NAT keeps the
// mapping the 200 will need, and nothing once the INVITE has its answer.
func TestFlowRingingHoldsCallerPinhole(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) {
		c.Keepalive = KeepaliveConfig{Method: KeepaliveOptions, Interval: 150 * time.Millisecond, MaxMissed: 3}
	})
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	b.phone.Expect(t, wait, "100 Trying", isResponse(100, sip.INVITE))
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	// Before any provisional of the callee: 100 Trying again.
	b.phone.Expect(t, wait, "100 Trying resent while the B-leg is silent", isResponse(100, sip.INVITE))

	tag := "pbx" + randomHex(4)
	b.pbx.SendTo(t, parseAddrPort(inv.Source()), replyTo(inv, 180, "Ringing", tag,
		[]string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">"}, ""))
	first := b.phone.Expect(t, wait, "180 Ringing", isResponse(180, sip.INVITE))
	start := time.Now()
	again := b.phone.Expect(t, wait, "180 Ringing resent", isResponse(180, sip.INVITE))
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("180 resent %v after the first, want about the keepalive interval (150 ms)", d)
	}
	if toTagOf(again) != toTagOf(first) {
		t.Errorf("resent 180 has To tag %q, the first %q", toTagOf(again), toTagOf(first))
	}
	if got := len(b.pbx.TakeAll(isRequest(sip.OPTIONS))); got != 0 {
		t.Errorf("the PBX got %d keepalives while ringing", got)
	}

	b.pbx.SendTo(t, parseAddrPort(inv.Source()), replyTo(inv, 486, "Busy Here", tag, nil, ""))
	b.phone.Expect(t, wait, "486 for the INVITE", isResponse(486, sip.INVITE))
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatal(err)
	}
	// The ticker ends with the INVITE: nothing more reaches the phone.
	b.phone.TakeAll(isResponse(180, sip.INVITE))
	time.Sleep(400 * time.Millisecond) // longer than two intervals: proves an absence
	if got := b.phone.TakeAll(isResponse(180, sip.INVITE)); len(got) != 0 {
		t.Errorf("%d provisionals after the final response", len(got))
	}
}

// A reliable provisional replaces the last unreliable one as what the
// pinhole refresh would repeat: after an unreliable 180 and a reliable 183
// with SDP, the refresh sends 100 Trying, never the older 180 (which would
// tell the phone the early media it just PRACKed is gone).
func TestFlowRingingPinholeAfterReliableProvisional(t *testing.T) {
	t.Parallel()
	fb := newFlowBed(t, func(c *Config) {
		c.Keepalive = KeepaliveConfig{Method: KeepaliveOptions, Interval: 150 * time.Millisecond, MaxMissed: 3}
	})
	b := startEarly(t, fb, "Supported: 100rel")
	b.pbxSays(t, 180, "Ringing", b.pbx.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 180)
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact(), "Require: 100rel", "RSeq: 1"}, sdpBody(pbxIP, 6000))
	rel := b.phoneGets(t, 183)
	if !hasHeaderToken(rel, "Require", "100rel") {
		t.Fatalf("the 183 is not reliable:\n%s", rel)
	}
	fb.phone.Send(t, b.phonePrack(t, rel, nil, ""))
	prack := fb.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID))
	answer(t, fb.pbx, prack, 200, "OK", "", nil, "")
	fb.phone.Expect(t, wait, "200 for PRACK", isResponse(200, sip.PRACK))
	// The first refresh after the 183 is a 100 Trying. A 180 a refresh
	// sent before natsbc had the 183 arrived before that 100 (one socket,
	// in order): it is in the backlog by then. Between that 100 and the
	// next refresh's, no 180 may come.
	fb.phone.Expect(t, wait, "100 Trying as the pinhole refresh", isResponse(100, sip.INVITE))
	for {
		if _, stale := fb.phone.takeFromBacklog(isResponse(180, sip.INVITE)); !stale {
			break
		}
	}
	fb.phone.Expect(t, wait, "the next refresh, 100 Trying again", isResponse(100, sip.INVITE))
	if again, ok := fb.phone.takeFromBacklog(isResponse(180, sip.INVITE)); ok {
		t.Errorf("the pinhole refresh resent the 180 after the reliable 183:\n%s", again)
	}
	b.answerAndHangUp(t, b.pbx.tag)
}
