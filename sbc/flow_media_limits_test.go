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
