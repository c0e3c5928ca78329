package sbc

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// An offer with more m= lines than media.max_streams (default 8) gets 488
// from natsbc itself: the PBX never sees the INVITE, no call is left
// behind, and no relay port was taken (media's
// TestSessionTooManyStreamsTakesNoPorts). More than the SDP reader's
// bound (32) is refused the same way, as unreadable.
func TestFlowTooManyStreamsRefused(t *testing.T) {
	t.Parallel()
	fb := newAnchoredBed(t)
	sdp := sdpBody(privateIP, 4000) + strings.Repeat("m=audio 4002 RTP/AVP 0\r\n", 15)
	fb.phone.Send(t, fb.inviteWith(newPhoneCall(), sdp))
	fb.phone.Expect(t, wait, "488 for 16 m= lines", isResponse(488, sip.INVITE))
	if got := fb.pbx.TakeAll(isRequest(sip.INVITE)); len(got) != 0 {
		t.Fatalf("the PBX got %d INVITEs of a refused offer", len(got))
	}
	if n := fb.srv.calls.count(); n != 0 {
		t.Fatalf("%d calls left after the refused offer", n)
	}
	rec, err := fb.log.waitFor("SDP not anchored", wait)
	if err != nil {
		t.Fatal(err)
	}
	if reason, _ := rec["error"].(string); !strings.Contains(reason, "16 m= lines, at most 8 (media.max_streams)") {
		t.Errorf("SDP not anchored with error %q, want it to name the count and the knob", reason)
	}
}

// limits.max_calls is exact and its slot comes back when a call ends: with
// one call ringing a second INVITE gets 503 without reaching the PBX, and
// once the first is refused by the PBX the next one goes through.
func TestFlowMaxCallsSlotComesBack(t *testing.T) {
	t.Parallel()
	fb := newFlowBed(t, func(c *Config) { c.MaxCalls = 1 })
	fb.phone.Send(t, fb.invite(newPhoneCall()))
	first := fb.pbx.Expect(t, wait, "the first INVITE at the PBX", isRequest(sip.INVITE))

	fb.phone.Send(t, fb.invite(newPhoneCall()))
	fb.phone.Expect(t, wait, "503 for the second call", isResponse(503, sip.INVITE))
	rec, err := fb.log.waitFor("call limit reached", wait)
	if err != nil {
		t.Fatal(err)
	}
	if rec["limit"] != "limits.max_calls" {
		t.Errorf("call limit reached names %v, want limits.max_calls", rec["limit"])
	}

	answer(t, fb.pbx, first, 486, "Busy Here", "busy1", nil, "")
	fb.phone.Expect(t, wait, "486 for the first call", isResponse(486, sip.INVITE))
	if _, err := fb.log.waitFor("call ended", wait); err != nil {
		t.Fatal(err)
	}
	if n := fb.srv.admit.held(); n != 0 {
		t.Fatalf("%d call slots held after the only call ended", n)
	}
	fb.phone.Send(t, fb.invite(newPhoneCall()))
	third := fb.pbx.Expect(t, wait, "the third INVITE at the PBX", isRequest(sip.INVITE))
	if third.CallID().Value() == first.CallID().Value() {
		t.Fatal("the PBX saw the first INVITE again, not the third call")
	}
}

// limits.max_relay_pairs_per_source: a phone whose first call relays two
// streams (four pairs, both legs) may not take more than its four: its
// second call gets 503 before any port is taken and never reaches the PBX.
func TestFlowRelayPairsPerSourceCapped(t *testing.T) {
	t.Parallel()
	fb := newAnchoredBedWith(t, func(c *Config) { c.MaxRelayPairsPerSource = 4 })
	twoStreams := sdpBody(privateIP, 4000) + "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
	fb.phone.Send(t, fb.inviteWith(newPhoneCall(), twoStreams))
	fb.pbx.Expect(t, wait, "the two-stream INVITE at the PBX", isRequest(sip.INVITE))
	fb.phone.Send(t, fb.invite(newPhoneCall()))
	fb.phone.Expect(t, wait, "503 for a call over the source's relay pairs", isResponse(503, sip.INVITE))
	rec, err := fb.log.waitFor("call limit reached", wait)
	if err != nil {
		t.Fatal(err)
	}
	if rec["limit"] != "limits.max_relay_pairs_per_source" {
		t.Errorf("call limit reached names %v", rec["limit"])
	}
	if got := fb.pbx.TakeAll(isRequest(sip.INVITE)); len(got) != 0 {
		t.Fatalf("the PBX got %d INVITEs over the cap", len(got))
	}
}
