package sbc

import (
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

// phoneGetsOnlyItsFinal checks, once the call has ended, what the phone
// got for its INVITE: a final response with code, and after it only
// copies of that final (retransmissions until its ACK).
func phoneGetsOnlyItsFinal(t *testing.T, phone *testPeer, code int) {
	t.Helper()
	all := phone.TakeAll(func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.CSeq() != nil && r.CSeq().MethodName == sip.INVITE
	})
	final := -1
	for i, m := range all {
		if r := m.(*sip.Response); !r.IsProvisional() {
			final = i
			break
		}
	}
	if final < 0 {
		t.Fatalf("the phone got no final response to its INVITE")
	}
	if got := all[final].(*sip.Response).StatusCode; got != code {
		t.Errorf("the phone's final response is %d, want %d", got, code)
	}
	for _, m := range all[final+1:] {
		if r := m.(*sip.Response); r.StatusCode != code {
			t.Errorf("after its %d the phone got: %s", code, strings.SplitN(r.String(), "\r\n", 2)[0])
		}
	}
}
