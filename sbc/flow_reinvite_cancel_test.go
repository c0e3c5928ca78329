package sbc

import (
	"strconv"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// phoneReinvite sends the phone's re-INVITE with an offer and returns its
// text and the re-INVITE the PBX got.
func (b *flowBed) phoneReinvite(t *testing.T, tr *setUpTrace) (string, sip.Message) {
	t.Helper()
	raw := b.phoneInDialog(tr.phone, sip.INVITE, 0,
		[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, sdpBody(privateIP, 4002))
	b.phone.Send(t, raw)
	reinv := b.pbx.Expect(t, wait, "re-INVITE on the B-leg", isRequestIn(sip.INVITE, tr.pbx.callID))
	return raw, reinv
}

// The phone CANCELs its re-INVITE. It gets 200 and 487 for it, the PBX
// gets the CANCEL of the B-leg re-INVITE, its 487 is ACKed, and the call
// stays up: no "no ACK" ending, and a BYE later still crosses.
func TestFlowReinviteCancelled(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	raw, reinv := b.phoneReinvite(t, tr)
	answer(t, b.pbx, reinv, 100, "Trying", "", nil, "")

	b.phone.Send(t, cancelOf(t, raw))
	b.phone.Expect(t, wait, "200 OK for the CANCEL", isResponse(200, sip.CANCEL))
	terminated := b.phone.Expect(t, wait, "487 for the re-INVITE", isResponse(487, sip.INVITE))
	b.phone.Send(t, ackOfFailure(t, raw, terminated))

	cancel := b.pbx.Expect(t, wait, "CANCEL of the B-leg re-INVITE", isRequestIn(sip.CANCEL, tr.pbx.callID))
	if branchOf(cancel) != branchOf(reinv) || cancel.CSeq().SeqNo != reinv.CSeq().SeqNo {
		t.Errorf("CANCEL branch %q CSeq %d, want the re-INVITE's %q %d", branchOf(cancel), cancel.CSeq().SeqNo, branchOf(reinv), reinv.CSeq().SeqNo)
	}
	answer(t, b.pbx, cancel, 200, "OK", "", nil, "")
	answer(t, b.pbx, reinv, 487, "Request Terminated", "", nil, "")
	b.pbx.Expect(t, wait, "ACK for the 487", isRequestIn(sip.ACK, tr.pbx.callID))

	if ended := b.log.lines("call ended"); len(ended) > 0 {
		t.Fatalf("the call ended on a cancelled re-INVITE: %v", ended[0])
	}
	if n := b.srv.ActiveCalls(); n != 1 {
		t.Fatalf("ActiveCalls = %d after a cancelled re-INVITE, want 1", n)
	}
	// The call works: the phone hangs up and the PBX hears it.
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "bye-from-a" {
		t.Errorf("call ended = %v (%v), want bye-from-a", rec, err)
	}
}

// RFC 3261 §15.1.2: the PBX hangs up while the phone's re-INVITE is
// pending; the phone gets natsbc's BYE and a 487 for its re-INVITE, and
// natsbc CANCELs its own copy of the re-INVITE at the PBX (§9.1: it had
// the PBX's 100).
func TestFlowByeRacesReinvite(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	_, reinv := b.phoneReinvite(t, tr)
	answer(t, b.pbx, reinv, 100, "Trying", "", nil, "")

	b.pbx.Send(t, b.pbxInDialog(tr.pbx, sip.BYE, nil, ""))
	b.pbx.Expect(t, wait, "200 OK for the BYE", isResponse(200, sip.BYE))
	bye := b.phone.Expect(t, wait, "BYE on the A-leg", isRequestIn(sip.BYE, tr.phone.callID))
	answer(t, b.phone, bye, 200, "OK", "", nil, "")
	pending := b.phone.Expect(t, wait, "487 for the pending re-INVITE", isResponse(487, sip.INVITE))
	if pending.CSeq().SeqNo != uint32(tr.phone.cseq) {
		t.Errorf("487 answers CSeq %d, want the re-INVITE's %d", pending.CSeq().SeqNo, tr.phone.cseq)
	}
	cancel := b.pbx.Expect(t, wait, "CANCEL of the B-leg re-INVITE", isRequestIn(sip.CANCEL, tr.pbx.callID))
	if branchOf(cancel) != branchOf(reinv) || cancel.CSeq().SeqNo != reinv.CSeq().SeqNo {
		t.Errorf("CANCEL branch %q CSeq %d, want the re-INVITE's %q %d", branchOf(cancel), cancel.CSeq().SeqNo, branchOf(reinv), reinv.CSeq().SeqNo)
	}
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "bye-from-b" {
		t.Errorf("call ended = %v (%v), want bye-from-b", rec, err)
	}
}

// RFC 3261 §12.2.2: an in-dialog request with a CSeq lower than the last
// one of that side is refused 500 and never reaches the other side.
func TestFlowInDialogCSeqOutOfOrder(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.INFO, 10, nil, ""))
	info := b.pbx.Expect(t, wait, "INFO on the B-leg", isRequestIn(sip.INFO, tr.pbx.callID))
	answer(t, b.pbx, info, 200, "OK", "", nil, "")
	b.phone.Expect(t, wait, "200 for INFO", isResponse(200, sip.INFO))

	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.INFO, 5, nil, ""))
	refused := b.phone.Expect(t, wait, "500 for an out-of-order INFO", isResponse(500, sip.INFO))
	if refused.CSeq().SeqNo != 5 {
		t.Errorf("500 answers CSeq %d, want 5", refused.CSeq().SeqNo)
	}
	// The same number again (a new request, not a retransmission) and a
	// higher one pass.
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.INFO, 11, nil, ""))
	info = b.pbx.Expect(t, wait, "the next INFO on the B-leg", isRequestIn(sip.INFO, tr.pbx.callID))
	answer(t, b.pbx, info, 200, "OK", "", nil, "")
	b.phone.Expect(t, wait, "200 for the next INFO", isResponse(200, sip.INFO))
	if stray := b.pbx.TakeAll(isRequestIn(sip.INFO, tr.pbx.callID)); len(stray) > 0 {
		t.Errorf("the out-of-order INFO reached the PBX:\n%s", stray[0])
	}
}

// RFC 3311 §5.2: while the phone's re-INVITE offer is outstanding, an
// UPDATE offer from the PBX (which natsbc sent that offer to) gets 491 and
// one from the phone (whose offer natsbc has not answered) gets 500 with a
// Retry-After of 0..10 s, as does a second re-INVITE of the phone (RFC 3261
// §14.2). Once the answer is in, the UPDATE passes.
func TestFlowOffersSerialised(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	_, reinv := b.phoneReinvite(t, tr)
	reinvCSeq := tr.phone.cseq

	b.pbx.Send(t, b.pbxInDialog(tr.pbx, sip.UPDATE, []string{"Content-Type: application/sdp"}, sdpBody(pbxIP, 6010)))
	b.pbx.Expect(t, wait, "491 for the PBX's UPDATE", isResponse(491, sip.UPDATE))

	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.UPDATE, 0, []string{"Content-Type: application/sdp"}, sdpBody(privateIP, 4010)))
	busy := b.phone.Expect(t, wait, "500 for the phone's UPDATE", isResponse(500, sip.UPDATE))
	ra, ok := hasHeader(busy, "Retry-After")
	if n, err := strconv.Atoi(ra); !ok || err != nil || n < 0 || n > 10 {
		t.Errorf("500 Retry-After = %q (present %v), want 0..10", ra, ok)
	}
	// RFC 3261 §14.2: the phone's second re-INVITE while its first is
	// pending gets 500 with Retry-After too.
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.INVITE, 0, []string{"Contact: <sip:2000@" + phoneViaHop + ">",
		"Content-Type: application/sdp"}, sdpBody(privateIP, 4014)))
	second := b.phone.Expect(t, wait, "500 for a second re-INVITE", isResponse(500, sip.INVITE))
	if ra, ok := hasHeader(second, "Retry-After"); !ok || ra == "" {
		t.Errorf("500 for the second re-INVITE has no Retry-After")
	}
	if early := b.phone.TakeAll(isRequestIn(sip.UPDATE, tr.phone.callID)); len(early) > 0 {
		t.Errorf("the PBX's refused UPDATE reached the phone:\n%s", early[0])
	}

	answer(t, b.pbx, reinv, 200, "OK", "", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">",
		"Content-Type: application/sdp"}, sdpBody(pbxIP, 6004))
	b.phone.Expect(t, wait, "200 for the re-INVITE", isResponse(200, sip.INVITE))
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, reinvCSeq, nil, ""))
	b.pbx.Expect(t, wait, "ACK for the re-INVITE's 200", isRequestIn(sip.ACK, tr.pbx.callID))
	if _, err := b.log.waitFor("offer exchange over", wait); err != nil {
		t.Fatalf("the re-INVITE's offer exchange never ended: %v", err)
	}

	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.UPDATE, 0, []string{"Content-Type: application/sdp"}, sdpBody(privateIP, 4012)))
	upd := b.pbx.Expect(t, wait, "UPDATE on the B-leg once the offer is answered", isRequestIn(sip.UPDATE, tr.pbx.callID))
	answer(t, b.pbx, upd, 200, "OK", "", []string{"Content-Type: application/sdp"}, sdpBody(pbxIP, 6006))
	b.phone.Expect(t, wait, "200 for the UPDATE", isResponse(200, sip.UPDATE))
}

// RFC 3261 §9.1: the call ends (here its media times out) before the PBX
// has answered the B-leg INVITE at all. The phone gets 503 at once; the
// CANCEL natsbc must hold back until a provisional goes out when the PBX's
// 180 comes, and the PBX's 487 is ACKed.
func TestFlowCallEndedBeforeAnyProvisionalCancelsTheCallee(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	b.phone.Send(t, b.invite(newPhoneCall()))
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	calls, _ := b.srv.calls.snapshot()
	if len(calls) != 1 {
		t.Fatalf("%d calls in the table, want 1", len(calls))
	}
	calls[0].mediaTimedOut("test: no media")
	b.phone.Expect(t, wait, "503 for the ended call", isResponse(503, sip.INVITE))
	if early := b.pbx.TakeAll(isRequest(sip.CANCEL)); len(early) > 0 {
		t.Fatalf("CANCEL before any provisional (RFC 3261 §9.1):\n%s", early[0])
	}

	answer(t, b.pbx, inv, 180, "Ringing", "late1", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">"}, "")
	cancel := b.pbx.Expect(t, wait, "CANCEL once the PBX rang", isRequestIn(sip.CANCEL, inv.CallID().Value()))
	if branchOf(cancel) != branchOf(inv) || cancel.CSeq().SeqNo != inv.CSeq().SeqNo {
		t.Errorf("CANCEL branch %q CSeq %d, want the INVITE's %q %d", branchOf(cancel), cancel.CSeq().SeqNo, branchOf(inv), inv.CSeq().SeqNo)
	}
	answer(t, b.pbx, cancel, 200, "OK", "", nil, "")
	answer(t, b.pbx, inv, 487, "Request Terminated", "late1", nil, "")
	b.pbx.Expect(t, wait, "ACK for the 487", isRequestIn(sip.ACK, inv.CallID().Value()))
	if rings := b.phone.TakeAll(isResponse(180, sip.INVITE)); len(rings) > 0 {
		t.Errorf("the phone got the 180 of an ended call:\n%s", rings[0])
	}
}
