package sbc

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// The PBX re-INVITEs: the phone gets it on its own dialog at its real
// address, a crossing re-INVITE of the phone gets 491 (RFC 3261 §14.2),
// and the phone's 2xx reaches the PBX on the B-leg.
func TestFlowReinviteFromPBXAndGlare(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	pbxContact := "Contact: <sip:1000@" + b.pbx.addr().String() + ">"

	b.pbx.Send(t, b.pbxInDialog(tr.pbx, sip.INVITE,
		[]string{pbxContact, "Content-Type: application/sdp"}, sdpBody(pbxIP, 6002)))
	reinv := b.phone.Expect(t, wait, "re-INVITE on the A-leg", isRequestIn(sip.INVITE, tr.phone.callID))
	if toTagOf(reinv) != tr.phone.tag || fromTagOf(reinv) != tr.phone.aTag {
		t.Errorf("re-INVITE to the phone has From tag %q / To tag %q, want %q / %q",
			fromTagOf(reinv), toTagOf(reinv), tr.phone.aTag, tr.phone.tag)
	}
	if got := uriAddr(t, reinv.(*sip.Request).Recipient); got != b.phone.addr() {
		t.Errorf("re-INVITE Request-URI %s, want the phone's real address %s (its Contact is private)",
			reinv.(*sip.Request).Recipient.String(), b.phone.addr())
	}
	if !strings.Contains(string(reinv.Body()), "m=audio 6002") {
		t.Errorf("re-INVITE lost the PBX's offer:\n%s", reinv.Body())
	}

	// Glare: the phone's own re-INVITE crosses natsbc's.
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.INVITE, 0,
		[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	pending := b.phone.Expect(t, wait, "491 for the crossing re-INVITE", isResponse(491, sip.INVITE))
	if pending.CSeq().SeqNo != uint32(tr.phone.cseq) {
		t.Errorf("491 answers CSeq %d, want the phone's re-INVITE %d", pending.CSeq().SeqNo, tr.phone.cseq)
	}
	b.phone.Send(t, sipMsg("ACK "+tr.phone.aContact.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + branchOf(pending),
		"Max-Forwards: 70",
		"From: " + pending.From().Value(),
		"To: " + pending.To().Value(),
		"Call-ID: " + tr.phone.callID,
		"CSeq: " + strconv.Itoa(int(pending.CSeq().SeqNo)) + " ACK",
	}, ""))

	answer(t, b.phone, reinv, 200, "OK", "", []string{"Contact: <sip:2000@" + phoneViaHop + ">",
		"Content-Type: application/sdp"}, sdpBody(privateIP, 4004))
	ok := b.pbx.Expect(t, wait, "200 for the re-INVITE", isResponse(200, sip.INVITE))
	if ok.CSeq().SeqNo != uint32(tr.pbx.cseq) || ok.CallID().Value() != tr.pbx.callID {
		t.Errorf("200 to the PBX is for CSeq %d Call-ID %s, want %d %s", ok.CSeq().SeqNo, ok.CallID().Value(), tr.pbx.cseq, tr.pbx.callID)
	}
	if got := uriAddr(t, contactOf(t, ok)); got != b.inside {
		t.Errorf("200 Contact %s, want natsbc's inside socket %s", uriString(contactOf(t, ok)), b.inside)
	}
	if !strings.Contains(string(ok.Body()), "m=audio 4004") {
		t.Errorf("200 to the PBX lost the phone's answer:\n%s", ok.Body())
	}
	// natsbc ACKs the phone's 2xx itself (early offer) and waits for the
	// PBX's ACK.
	b.phone.Expect(t, wait, "natsbc's ACK for the phone's 2xx", isRequestIn(sip.ACK, tr.phone.callID))
	b.pbx.Send(t, b.pbxInDialogAck(tr.pbx))

	// The dialog still works both ways, and the phone's target survived
	// the refresh with its private Contact.
	b.pbx.Send(t, b.pbxInDialog(tr.pbx, sip.BYE, nil, ""))
	bye := b.phone.Expect(t, wait, "BYE on the A-leg", isRequestIn(sip.BYE, tr.phone.callID))
	if got := uriAddr(t, bye.(*sip.Request).Recipient); got != b.phone.addr() {
		t.Errorf("BYE Request-URI %s, want the phone's real address %s", bye.(*sip.Request).Recipient.String(), b.phone.addr())
	}
	answer(t, b.phone, bye, 200, "OK", "", nil, "")
	b.pbx.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
}

// pbxInDialogAck ACKs the PBX's last INVITE (same CSeq number, RFC 3261
// §13.2.2.4).
func (b *flowBed) pbxInDialogAck(pc *pbxCall) string {
	pc.cseq--
	return b.pbxInDialog(pc, sip.ACK, nil, "")
}

// RFC 3261 §14.2: a re-INVITE of the phone in its early dialog, while its
// initial INVITE is pending, gets 500 with Retry-After and never reaches
// the PBX; the phone's CANCEL of the initial INVITE still cancels the
// B-leg (the refused re-INVITE did not take the CANCEL signal). Once the
// initial INVITE is over the slot is free: see TestFlowReinviteCancelled.
func TestFlowReinviteInEarlyDialogRefused(t *testing.T) {
	t.Parallel()
	fb := newFlowBed(t, nil)
	b := startEarly(t, fb)
	raw := b.inviteWith(b.phone, nil)
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	b.phoneGets(t, 183)

	fb.phone.Send(t, fb.phoneInDialog(b.phone, sip.INVITE, 0, []string{"Contact: <sip:2000@" + phoneViaHop + ">",
		"Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	busy := fb.phone.Expect(t, wait, "500 for the early re-INVITE", isResponse(500, sip.INVITE))
	if ra, ok := hasHeader(busy, "Retry-After"); !ok || ra == "" || busy.CSeq().SeqNo != uint32(b.phone.cseq) {
		t.Errorf("refusal CSeq %d Retry-After %q, want the re-INVITE's %d with a Retry-After", busy.CSeq().SeqNo, ra, b.phone.cseq)
	}

	fb.phone.Send(t, cancelOf(t, raw))
	fb.phone.Expect(t, wait, "487 for the initial INVITE", isResponse(487, sip.INVITE))
	fb.pbx.Expect(t, wait, "CANCEL of the B-leg INVITE", func(m sip.Message) bool {
		return isRequestIn(sip.CANCEL, b.pbx.callID)(m) && m.CSeq().SeqNo == b.inv.CSeq().SeqNo
	})
	if second := fb.pbx.TakeAll(func(m sip.Message) bool {
		return isRequestIn(sip.INVITE, b.pbx.callID)(m) && m.CSeq().SeqNo != b.inv.CSeq().SeqNo
	}); len(second) > 0 {
		t.Errorf("the early re-INVITE crossed the pending initial INVITE to the PBX:\n%s", second[0])
	}
}

// RFC 3261 §12.2.2 per early dialog: two forks of the B-leg INVITE (To tags
// f1 and f2) number their requests each in its own CSeq space. The second
// fork's first INFO, lower than the first fork's, is not out of order;
// a lower one of the same fork still is.
func TestFlowForksKeepTheirOwnCSeq(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil)
	fork1, fork2 := *b.pbx, *b.pbx
	fork1.tag, fork2.tag, fork2.cseq = "f1", "f2", 4
	b.pbxSays(t, 180, "Ringing", fork1.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 180)
	b.pbxSays(t, 180, "Ringing", fork2.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 180)

	relayed := map[uint32]bool{} // A-leg CSeqs of the INFOs relayed
	info := func(fork *pbxCall, want int) {
		t.Helper()
		b.flowBed.pbx.Send(t, b.pbxInDialog(fork, sip.INFO, nil, ""))
		if want == 500 {
			b.flowBed.pbx.Expect(t, wait, "500 for an out-of-order INFO of "+fork.tag, isResponse(500, sip.INFO))
			return
		}
		got := b.flowBed.phone.Expect(t, wait, "INFO of "+fork.tag+" on the A-leg", isRequestIn(sip.INFO, b.phone.callID))
		relayed[got.CSeq().SeqNo] = true
		answer(t, b.flowBed.phone, got, 200, "OK", "", nil, "")
		res := b.flowBed.pbx.Expect(t, wait, "200 for the INFO of "+fork.tag, isResponse(200, sip.INFO))
		if res.CSeq().SeqNo != uint32(fork.cseq) {
			t.Errorf("200 answers CSeq %d, want %d", res.CSeq().SeqNo, fork.cseq)
		}
	}
	info(&fork1, 200) // CSeq 101
	info(&fork2, 200) // CSeq 5: fork f2's own space
	fork2.cseq = 3
	info(&fork2, 500) // CSeq 4 after 5 in f2's
	// Retransmissions of the relayed ones may still come (UDP).
	if stray := b.flowBed.phone.TakeAll(func(m sip.Message) bool {
		return isRequestIn(sip.INFO, b.phone.callID)(m) && !relayed[m.CSeq().SeqNo]
	}); len(stray) > 0 {
		t.Errorf("the out-of-order INFO reached the phone:\n%s", stray[0])
	}
}
