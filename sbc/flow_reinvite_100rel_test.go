package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// A re-INVITE that requires 100rel gets 420 with Unsupported: 100rel
// (RFC 3261 §8.2.2.3): natsbc makes provisionals reliable on the initial
// INVITE only, and relaying it stripped of the requirement would answer the
// sender with unreliable 18x it refused. The call stays up.
func TestFlowReinviteRequiring100relRefused(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.INVITE, 0,
		[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Require: 100rel", "Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	res := b.phone.Expect(t, wait, "420 for the re-INVITE", isResponse(420, sip.INVITE))
	if got := mustHeader(t, res, "Unsupported"); got != "100rel" {
		t.Errorf("Unsupported: %q, want 100rel", got)
	}
	if got := b.pbx.TakeAll(isRequestIn(sip.INVITE, tr.pbx.callID)); len(got) != 0 {
		t.Errorf("the PBX got %d re-INVITEs natsbc refused", len(got))
	}
	if n := b.srv.ActiveCalls(); n != 1 {
		t.Fatalf("ActiveCalls = %d after a refused re-INVITE, want 1", n)
	}
}
