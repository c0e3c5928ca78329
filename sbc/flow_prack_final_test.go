package sbc

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// What a caller with reliable provisionals outstanding gets once natsbc
// answered its INVITE itself: the final response and copies of it, nothing
// else (RFC 3262 §3: a final response ends the retransmission of reliable
// provisionals; RFC 3261 §17.2.1: nothing follows the final response).

// Timer C fires while a reliable 180 waits for a PRACK, and the callee
// never answers the CANCEL. The phone gets its 408 and nothing after it:
// neither the 180 again nor a 504 when the 180's PRACK time runs out; the
// call ends for Timer C.
func TestFlowTimerCStopsReliableProvisionals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, phone string
		pbx         []string
	}{
		// natsbc makes the PBX's 180 reliable for a phone that requires it.
		{name: "natsbc's reliability", phone: "Require: 100rel"},
		// natsbc relays the PBX's reliable 180 to a phone that supports it.
		{name: "relayed reliability", phone: "Supported: 100rel", pbx: []string{"Require: 100rel", "RSeq: 3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fb := newFlowBed(t, func(c *Config) { c.TimerC = 100 * time.Millisecond })
			b := startEarly(t, fb, tc.phone)
			b.pbxSays(t, 180, "Ringing", b.pbx.tag, append([]string{b.pbxContact()}, tc.pbx...), "")
			if ring := b.phoneGets(t, 180); !hasHeaderToken(ring, "Require", "100rel") {
				t.Fatalf("the 180 is not reliable:\n%s", ring)
			}
			fb.pbx.Expect(t, wait, "CANCEL on the B-leg", isRequestIn(sip.CANCEL, b.pbx.callID))
			// The callee is gone: natsbc gives the B-leg up after 64*T1.
			rec, err := b.log.waitFor("call ended", 64*flowT1+wait)
			if err != nil || rec["reason"] != "timer-c" {
				t.Fatalf("call ended = %v (%v), want reason timer-c", rec, err)
			}
			phoneGetsOnlyItsFinal(t, fb.phone, 408)
		})
	}
}

// The phone CANCELs while a reliable 180 waits for its PRACK, and the
// callee never answers the CANCEL: after sipgo's 487 the phone gets
// nothing else, and the call ends for the CANCEL.
func TestFlowCancelStopsReliableProvisionals(t *testing.T) {
	t.Parallel()
	fb := newFlowBed(t, nil)
	b := startEarly(t, fb, "Require: 100rel")
	b.pbxSays(t, 180, "Ringing", b.pbx.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 180)
	fb.phone.Expect(t, wait, "retransmitted reliable 180", isResponse(180, sip.INVITE))
	fb.phone.Send(t, cancelOf(t, b.inviteWith(b.phone, []string{"Require: 100rel"})))
	fb.pbx.Expect(t, wait, "CANCEL on the B-leg", isRequestIn(sip.CANCEL, b.pbx.callID))
	rec, err := b.log.waitFor("call ended", 64*flowT1+wait)
	if err != nil || rec["reason"] != "cancel" {
		t.Fatalf("call ended = %v (%v), want reason cancel", rec, err)
	}
	phoneGetsOnlyItsFinal(t, fb.phone, 487)
}

// The phone CANCELs while natsbc holds its 2xx for the PRACK of a reliable
// 183 with SDP (RFC 3262 §3), the PBX having answered: the 2xx crossed the
// CANCEL on natsbc's side. The phone keeps its 487 and never gets the 2xx
// or the 183 again; the PBX's dialog is ACKed (at once for an early offer,
// now for a delayed one, whose answer was to come in the phone's ACK) and
// ended with BYE; the call ends for the CANCEL.
func TestFlowCancelWhileHolding2xxForPrack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		phone []string
		pbx   []string
	}{
		// natsbc makes the PBX's 183 reliable for a phone that requires it.
		{name: "early offer", phone: []string{"Require: 100rel"}},
		// The PBX's reliable 183 carries the offer the phone answers in
		// its PRACK; the PBX's 2xx repeats it.
		{name: "delayed offer", phone: []string{"Supported: 100rel", noOffer}, pbx: []string{"Require: 100rel", "RSeq: 9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newEarlyBed(t, nil, tc.phone...)
			b.pbxSays(t, 183, "Session Progress", b.pbx.tag, append([]string{b.pbxContact()}, tc.pbx...), sdpBody(pbxIP, 6000))
			b.phoneGets(t, 183)
			b.pbxSays(t, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
			cancel := b.inviteWith(b.phone, tc.phone)
			if delayedOffer(tc.phone) {
				cancel = withoutBody(cancel)
			} else {
				b.flowBed.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, b.pbx.callID))
			}
			b.flowBed.phone.Send(t, cancelOf(t, cancel))
			b.flowBed.phone.Expect(t, wait, "200 for CANCEL", isResponse(200, sip.CANCEL))
			if delayedOffer(tc.phone) {
				b.flowBed.pbx.Expect(t, wait, "natsbc's ACK of the crossed 2xx", isRequestIn(sip.ACK, b.pbx.callID))
			}
			bye := b.flowBed.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, b.pbx.callID))
			answer(t, b.flowBed.pbx, bye, 200, "OK", "", nil, "")
			rec, err := b.log.waitFor("call ended", wait)
			if err != nil || rec["reason"] != "cancel" {
				t.Fatalf("call ended = %v (%v), want reason cancel", rec, err)
			}
			phoneGetsOnlyItsFinal(t, b.flowBed.phone, 487)
			if byes := b.flowBed.phone.TakeAll(isRequest(sip.BYE)); len(byes) != 0 {
				t.Errorf("the phone, which has no dialog, got a BYE:\n%s", byes[0])
			}
		})
	}
}

// phoneGetsOnlyItsFinal checks, once the call has ended, what the phone
// got for its INVITE: a final response with code, and after it only
// copies of that final (retransmissions until its ACK). The final may
// still be on its way (sipgo sends the 487 after natsbc's OnCancel hook).
func phoneGetsOnlyItsFinal(t *testing.T, phone *testPeer, code int) {
	t.Helper()
	isInviteResponse := func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.CSeq() != nil && r.CSeq().MethodName == sip.INVITE
	}
	isFinal := func(m sip.Message) bool { return !m.(*sip.Response).IsProvisional() }
	// In arrival order: what came so far, then one by one until a final.
	all := phone.TakeAll(isInviteResponse)
	for !slices.ContainsFunc(all, isFinal) {
		m, ok := phone.tryExpect(wait, isInviteResponse)
		if !ok {
			t.Fatalf("the phone got no final response to its INVITE")
		}
		all = append(all, m)
		all = append(all, phone.TakeAll(isInviteResponse)...)
	}
	final := slices.IndexFunc(all, isFinal)
	if got := all[final].(*sip.Response).StatusCode; got != code {
		t.Errorf("the phone's final response is %d, want %d", got, code)
	}
	for _, m := range all[final+1:] {
		if r := m.(*sip.Response); r.StatusCode != code {
			t.Errorf("after its %d the phone got: %s", code, strings.SplitN(r.String(), "\r\n", 2)[0])
		}
	}
}
