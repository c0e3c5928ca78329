package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// The phone cancels a ringing call. Its Via names a private port it does not
// listen on, so the 200 for CANCEL and the 487 reach it only because natsbc
// answers its real source (forced rport, RFC 3581 §4 for a NATed phone). The
// PBX gets the CANCEL on the B-leg transaction and its 487 is ACKed.
func TestFlowCancel(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	pbxTag := "pbx" + randomHex(4)
	answer(t, b.pbx, inv, 180, "Ringing", pbxTag, []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">"}, "")
	ringing := b.phone.Expect(t, wait, "180 Ringing", isResponse(180, sip.INVITE))

	// RFC 3261 §9.1: same R-URI, Call-ID, From, To (no tag), top Via and
	// CSeq number as the INVITE.
	b.phone.Send(t, sipMsg("CANCEL sip:1000@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + pc.branch,
		"Max-Forwards: 70",
		"From: \"Phone\" <sip:2000@" + privateIP + ">;tag=" + pc.tag,
		"To: <sip:1000@" + b.outside.String() + ">",
		"Call-ID: " + pc.callID,
		"CSeq: 1 CANCEL",
	}, ""))
	b.phone.Expect(t, wait, "200 OK for CANCEL", isResponse(200, sip.CANCEL))
	terminated := b.phone.Expect(t, wait, "487 for the INVITE", isResponse(487, sip.INVITE))
	if toTagOf(terminated) != toTagOf(ringing) {
		t.Errorf("487 To tag %q differs from the 180's %q: the phone sees two dialogs", toTagOf(terminated), toTagOf(ringing))
	}
	b.phone.Send(t, b.ackFinal(pc, terminated))

	bCallID := inv.CallID().Value()
	cancel := b.pbx.Expect(t, wait, "CANCEL on the B-leg", isRequestIn(sip.CANCEL, bCallID))
	if got, want := branchOf(cancel), branchOf(inv); got != want {
		t.Errorf("B-leg CANCEL branch %q, want the INVITE's %q", got, want)
	}
	if cancel.CSeq().SeqNo != inv.CSeq().SeqNo {
		t.Errorf("B-leg CANCEL CSeq %d, want the INVITE's %d", cancel.CSeq().SeqNo, inv.CSeq().SeqNo)
	}
	answer(t, b.pbx, cancel, 200, "OK", pbxTag, nil, "")
	answer(t, b.pbx, inv, 487, "Request Terminated", pbxTag, nil, "")
	ack := b.pbx.Expect(t, wait, "ACK for the PBX's 487", isRequestIn(sip.ACK, bCallID))
	if branchOf(ack) != branchOf(inv) {
		t.Errorf("ACK for 487 has branch %q, want the INVITE's %q (RFC 3261 §17.1.1.3)", branchOf(ack), branchOf(inv))
	}

	rec, err := b.log.waitFor("call ended", wait)
	if err != nil {
		t.Fatalf("no `call ended` line: %v", err)
	}
	if rec["reason"] != "cancel" {
		t.Errorf("call ended reason %v, want cancel", rec["reason"])
	}
	if leaked := b.phone.TakeAll(isRequest(sip.BYE)); len(leaked) > 0 {
		t.Errorf("the phone got a BYE for a call it cancelled:\n%s", leaked[0])
	}
}

func branchOf(m sip.Message) string {
	br, _ := m.Via().Params.Get("branch")
	return br
}
