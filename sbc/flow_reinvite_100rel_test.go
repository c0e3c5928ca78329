package sbc

import (
	"strconv"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// reinvite100rel sends the phone's re-INVITE with an offer and extra
// headers; it returns the re-INVITE's CSeq on the A-leg and what the PBX
// got.
func (b *flowBed) reinvite100rel(t *testing.T, tr *setUpTrace, extra ...string) (int, sip.Message) {
	t.Helper()
	hs := append([]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, extra...)
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.INVITE, 0, hs, sdpBody(privateIP, 4002)))
	seq := tr.phone.cseq
	return seq, b.pbx.Expect(t, wait, "re-INVITE on the B-leg", isRequestIn(sip.INVITE, tr.pbx.callID))
}

// finishReinvite: the PBX answers the re-INVITE 200, the phone gets it and
// ACKs, natsbc ACKs the PBX; the call is still up.
func (b *flowBed) finishReinvite(t *testing.T, tr *setUpTrace, seq int, reinv sip.Message) {
	t.Helper()
	answer(t, b.pbx, reinv, 200, "OK", "", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">",
		"Content-Type: application/sdp"}, sdpBody(pbxIP, 6002))
	ok := b.phone.Expect(t, wait, "200 for the re-INVITE", isResponse(200, sip.INVITE))
	if int(ok.CSeq().SeqNo) != seq {
		t.Errorf("200 answers CSeq %d, want the re-INVITE's %d", ok.CSeq().SeqNo, seq)
	}
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, seq, nil, ""))
	b.pbx.Expect(t, wait, "natsbc's ACK for the re-INVITE's 200", isRequestIn(sip.ACK, tr.pbx.callID))
	if n := b.srv.ActiveCalls(); n != 1 {
		t.Fatalf("ActiveCalls = %d after the re-INVITE, want 1", n)
	}
}

// Both sides use 100rel on a re-INVITE (RFC 3262 applies to any INVITE):
// the PBX's reliable 183 reaches the phone reliably with natsbc's RSeq,
// and the phone's PRACK reaches the PBX in the confirmed dialog with the
// PBX's RSeq and the B-leg re-INVITE's CSeq in RAck.
func TestFlowReinvitePrackRelayed(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	seq, reinv := b.reinvite100rel(t, tr, "Supported: 100rel")
	if !hasHeaderToken(reinv, "Supported", "100rel") || hasHeaderToken(reinv, "Require", "100rel") {
		t.Errorf("B-leg re-INVITE: want Supported: 100rel and no Require: 100rel:\n%s", reinv)
	}
	answer(t, b.pbx, reinv, 183, "Session Progress", "", []string{"Require: 100rel", "RSeq: 5"}, "")
	prov := b.phone.Expect(t, wait, "reliable 183 on the A-leg", isResponse(183, sip.INVITE))
	if !hasHeaderToken(prov, "Require", "100rel") {
		t.Fatalf("183 to the phone is not reliable:\n%s", prov)
	}
	rseq := mustHeader(t, prov, "RSeq")
	again := b.phone.Expect(t, wait, "retransmitted reliable 183", isResponse(183, sip.INVITE))
	if got := mustHeader(t, again, "RSeq"); got != rseq {
		t.Errorf("retransmission has RSeq %s, want %s", got, rseq)
	}

	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.PRACK, 0, []string{"RAck: " + rseq + " " + strconv.Itoa(seq) + " INVITE"}, ""))
	prack := b.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, tr.pbx.callID))
	if got, want := mustHeader(t, prack, "RAck"), "5 "+strconv.Itoa(int(reinv.CSeq().SeqNo))+" INVITE"; got != want {
		t.Errorf("PRACK RAck %q, want the PBX's %q", got, want)
	}
	if toTagOf(prack) != toTagOf(reinv) || fromTagOf(prack) != fromTagOf(reinv) {
		t.Errorf("PRACK not in the B-leg dialog (From %q To %q, want %q %q)", fromTagOf(prack), toTagOf(prack), fromTagOf(reinv), toTagOf(reinv))
	}
	answer(t, b.pbx, prack, 200, "OK", "", nil, "")
	b.phone.Expect(t, wait, "200 for PRACK", isResponse(200, sip.PRACK))
	b.finishReinvite(t, tr, seq, reinv)
}

// The phone's re-INVITE does not offer 100rel, the PBX answers with a
// reliable 180: natsbc PRACKs it itself in the B-leg dialog and the phone
// gets an ordinary 180.
func TestFlowReinvitePrackedByNatsbc(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	seq, reinv := b.reinvite100rel(t, tr)
	if !hasHeaderToken(reinv, "Supported", "100rel") {
		t.Fatalf("B-leg re-INVITE does not offer 100rel (the phone's re-INVITE had SDP):\n%s", reinv)
	}
	answer(t, b.pbx, reinv, 180, "Ringing", "", []string{"Require: 100rel", "RSeq: 1"}, "")
	prack := b.pbx.Expect(t, wait, "natsbc's PRACK", isRequestIn(sip.PRACK, tr.pbx.callID))
	if got, want := mustHeader(t, prack, "RAck"), "1 "+strconv.Itoa(int(reinv.CSeq().SeqNo))+" INVITE"; got != want {
		t.Errorf("PRACK RAck %q, want %q", got, want)
	}
	answer(t, b.pbx, prack, 200, "OK", "", nil, "")
	ring := b.phone.Expect(t, wait, "180 on the A-leg", isResponse(180, sip.INVITE))
	if hasHeaderToken(ring, "Require", "100rel") || len(ring.GetHeaders("RSeq")) != 0 {
		t.Errorf("180 to a phone without 100rel is reliable:\n%s", ring)
	}
	b.finishReinvite(t, tr, seq, reinv)
}

// The phone's re-INVITE requires 100rel, the PBX does not use it: natsbc
// makes the PBX's 180 reliable towards the phone, answers the phone's
// PRACK itself (the PBX never sees one), and the re-INVITE completes.
func TestFlowReinviteReliableByNatsbc(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	seq, reinv := b.reinvite100rel(t, tr, "Require: 100rel")
	if hasHeaderToken(reinv, "Require", "100rel") {
		t.Errorf("B-leg re-INVITE requires 100rel; natsbc terminates it:\n%s", reinv)
	}
	answer(t, b.pbx, reinv, 180, "Ringing", "", nil, "")
	ring := b.phone.Expect(t, wait, "reliable 180 on the A-leg", isResponse(180, sip.INVITE))
	if !hasHeaderToken(ring, "Require", "100rel") {
		t.Fatalf("180 to a phone that requires 100rel is not reliable:\n%s", ring)
	}
	rseq := mustHeader(t, ring, "RSeq")
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.PRACK, 0, []string{"RAck: " + rseq + " " + strconv.Itoa(seq) + " INVITE"}, ""))
	b.phone.Expect(t, wait, "natsbc's 200 for PRACK", isResponse(200, sip.PRACK))
	b.finishReinvite(t, tr, seq, reinv)
	if got := b.pbx.TakeAll(isRequestIn(sip.PRACK, tr.pbx.callID)); len(got) != 0 {
		t.Errorf("the PBX got %d PRACKs for provisionals it sent unreliably", len(got))
	}
}

// With 100rel turned off (sip.100rel: false), a re-INVITE that requires it
// gets 420 with Unsupported: 100rel (RFC 3261 §8.2.2.3). The call stays up.
func TestFlowReinviteRequiring100relRefusedWhenOff(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.Disable100rel = true })
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
