package sbc

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// A NATed phone calls the PBX and hangs up: each side sees only natsbc's
// dialog identifiers and addresses, every response reaches the phone's real
// socket, and both ACKs and the BYE arrive where they must.
func TestFlowBasicCall(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.ringAndAnswer(t)

	// RFC 3581 §4 (forced for a NATed phone): the 100 names the real source.
	via := tr.trying.Via()
	if rport, _ := via.Params.Get("rport"); rport != strconv.Itoa(int(b.phone.addr().Port())) {
		t.Errorf("100 Trying Via rport = %q, want the phone's real port %d: %s", rport, b.phone.addr().Port(), via.Value())
	}

	// One 100 Trying (RFC 3261 §8.2.6.1): both were sent before the B-leg
	// INVITE, so a second one would be in the backlog by the 180.
	if extra, ok := b.phone.takeFromBacklog(isResponse(100, sip.INVITE)); ok {
		t.Errorf("a second 100 Trying for one INVITE:\n%s", extra)
	}

	inv := tr.bInvite.(*sip.Request)
	if tr.pbx.callID == tr.phone.callID {
		t.Errorf("B-leg reuses the A-leg Call-ID %q", tr.pbx.callID)
	}
	if tr.pbx.bTag == "" || tr.pbx.bTag == tr.phone.tag {
		t.Errorf("B-leg From tag %q: want a tag of natsbc's own, not the phone's %q", tr.pbx.bTag, tr.phone.tag)
	}
	if got := inv.Via().SentBy(); got != b.inside.String() {
		t.Errorf("B-leg Via sent-by = %s, want natsbc's inside socket %s", got, b.inside)
	}
	if n := len(inv.GetHeaders("Via")); n != 1 {
		t.Errorf("B-leg INVITE has %d Vias, want natsbc's only", n)
	}
	if got := uriAddr(t, tr.pbx.bContact); got != b.inside {
		t.Errorf("B-leg Contact %s, want natsbc's inside socket %s", tr.pbx.bContact.String(), b.inside)
	}
	if got := uriAddr(t, inv.Recipient); got != b.pbx.addr() || inv.Recipient.User != "1000" {
		t.Errorf("B-leg Request-URI %s, want sip:1000@%s", inv.Recipient.String(), b.pbx.addr())
	}
	for _, line := range headerLines(inv)[1:] {
		name := strings.ToLower(strings.TrimSpace(strings.SplitN(line, ":", 2)[0]))
		// From/To are identities a B2BUA keeps; the SDP is untouched
		// without a media anchor. Nothing else may leak the phone's
		// private address to the PBX.
		if name == "from" || name == "to" {
			continue
		}
		if strings.Contains(line, privateIP) || strings.Contains(line, phoneIP) {
			t.Errorf("B-leg INVITE leaks the phone's address: %q", line)
		}
	}

	ringTag, okTag := toTagOf(tr.ringing), toTagOf(tr.ok)
	if ringTag == "" || ringTag != okTag {
		t.Errorf("A-leg To tag changed from 180 (%q) to 200 (%q)", ringTag, okTag)
	}
	if ringTag == tr.pbx.tag {
		t.Errorf("A-leg To tag is the PBX's own tag %q", ringTag)
	}
	for _, res := range []sip.Message{tr.ringing, tr.ok} {
		c := contactOf(t, res)
		if got := uriAddr(t, c); got != b.outside {
			t.Errorf("%s Contact %s, want natsbc's outside socket %s", res.(*sip.Response).StartLine(), c.String(), b.outside)
		}
		if res.CallID().Value() != tr.phone.callID {
			t.Errorf("A-leg response Call-ID %q, want the phone's %q", res.CallID().Value(), tr.phone.callID)
		}
	}
	if !strings.Contains(string(tr.ok.Body()), "m=audio 6000") {
		t.Errorf("200 to the phone lost the PBX's SDP answer:\n%s", tr.ok.Body())
	}

	// natsbc ACKs the PBX itself (RFC 3261 §13.2.2.4), to the PBX's Contact.
	ack := tr.bAck.(*sip.Request)
	if toTagOf(ack) != tr.pbx.tag || fromTagOf(ack) != tr.pbx.bTag || ack.CSeq().SeqNo != inv.CSeq().SeqNo {
		t.Errorf("ACK to the PBX does not match its dialog:\n%s", ack)
	}
	if got := uriAddr(t, ack.Recipient); got != b.pbx.addr() {
		t.Errorf("ACK Request-URI %s, want the PBX's Contact %s", ack.Recipient.String(), b.pbx.addr())
	}
	if got := parseAddrPort(ack.Source()); got != b.inside {
		t.Errorf("ACK came from %s, want natsbc's inside socket %s", got, b.inside)
	}

	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	if toTagOf(bye) != tr.pbx.tag || fromTagOf(bye) != tr.pbx.bTag {
		t.Errorf("BYE to the PBX has the wrong tags:\n%s", bye)
	}
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")

	rec, err := b.log.waitFor("call ended", wait)
	if err != nil {
		t.Fatalf("no `call ended` line: %v", err)
	}
	if rec["reason"] != "bye-from-a" || rec["a_call_id"] != tr.phone.callID || rec["b_call_id"] != tr.pbx.callID {
		t.Errorf("call ended line = %v, want reason bye-from-a with both Call-IDs", rec)
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after the call ended", n)
	}
}

// The PBX does not see natsbc's ACK and repeats its 2xx: every copy, before
// and after the phone's ACK, earns the ACK again (RFC 3261 §13.2.2.4), and
// a peer that keeps repeating it is worth one warning.
//
// Not parallel: copies are handled on concurrent goroutines, and a race
// found there must be reported against this test only.
func TestFlowRetransmitted2xxIsAckedAgain(t *testing.T) {
	b := newFlowBed(t, nil)
	tr := b.ringAndAnswer(t)
	first := tr.bAck.(*sip.Request)
	inv := parseAddrPort(tr.pbx.invite.Source())

	// Before the phone ACKs, the B-leg INVITE transaction is still there.
	b.pbx.SendTo(t, inv, tr.pbxOK)
	again := b.pbx.Expect(t, wait, "ACK for the 1st retransmitted 2xx", isRequestIn(sip.ACK, tr.pbx.callID))
	if again.Via().Value() != first.Via().Value() {
		t.Errorf("ACK re-sent with another Via:\n got %s\nwant %s", again.Via().Value(), first.Via().Value())
	}

	// Once the phone's ACK is in, natsbc ends that transaction and a
	// repeated 2xx is a stray response (whether the ACK is processed before
	// the copy below is up to the scheduler): it must still be ACKed.
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
	b.pbx.SendTo(t, inv, tr.pbxOK)
	b.pbx.Expect(t, wait, "ACK for the 2nd retransmitted 2xx", isRequestIn(sip.ACK, tr.pbx.callID))

	// A burst of copies: each one is ACKed, and the third repetition
	// earns exactly one warning that names where the ACK went.
	for range 3 {
		b.pbx.SendTo(t, inv, tr.pbxOK)
	}
	for i := range 3 {
		b.pbx.Expect(t, wait, "ACK for burst copy "+strconv.Itoa(i+1), isRequestIn(sip.ACK, tr.pbx.callID))
	}
	const keepsRetransmitting = "peer keeps retransmitting its 2xx: natsbc's ACK does not reach it"
	if _, err := b.log.waitFor(keepsRetransmitting, wait); err != nil {
		t.Errorf("no `peer keeps retransmitting` warning after 5 copies: %v", err)
	}
	if warns := b.log.lines(keepsRetransmitting); len(warns) != 1 {
		t.Errorf("%d `peer keeps retransmitting` warnings after 5 copies, want 1", len(warns))
	} else if warns[0]["ack_to"] != b.pbx.addr().String() {
		t.Errorf("warning ack_to = %v, want the PBX's Contact %s", warns[0]["ack_to"], b.pbx.addr())
	}

	// The call is still up: a BYE from the PBX reaches the phone.
	b.pbx.Send(t, b.pbxInDialog(tr.pbx, sip.BYE, nil, ""))
	bye := b.phone.Expect(t, wait, "BYE on the A-leg", isRequestIn(sip.BYE, tr.phone.callID))
	answer(t, b.phone, bye, 200, "OK", "", nil, "")
	b.pbx.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
}

// The phone never ACKs natsbc's 2xx: natsbc retransmits it, gives up at
// 64*T1, ends the call on both legs with Reason 408 and logs one line that
// says where the 2xx went and why.
func TestFlowNoAckEndsCall(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.ringAndAnswer(t)

	// 64*T1 = 640 ms from the first 2xx; the BYE follows at once.
	const byeWithin = 64*flowT1 + wait
	phoneBye := b.phone.Expect(t, byeWithin, "BYE after the missing ACK", isRequestIn(sip.BYE, tr.phone.callID))
	answer(t, b.phone, phoneBye, 200, "OK", "", nil, "")
	pbxBye := b.pbx.Expect(t, wait, "BYE on the B-leg after the missing ACK", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, pbxBye, 200, "OK", "", nil, "")
	for leg, bye := range map[string]sip.Message{"A": phoneBye, "B": pbxBye} {
		reason := bye.GetHeaders("Reason")
		if len(reason) == 0 || !strings.Contains(reason[0].Value(), "408") {
			t.Errorf("%s-leg BYE Reason = %v, want cause 408", leg, reason)
		}
	}

	copies := 1 + len(b.phone.TakeAll(isResponse(200, sip.INVITE)))
	if copies < 3 {
		t.Errorf("the phone got the 2xx %d times, want >= 3 (retransmitted from T1 to T2)", copies)
	}

	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatalf("no `call ended` line: %v", err)
	}
	lines := b.log.lines("no ACK for 2xx, ending call")
	if len(lines) != 1 {
		t.Fatalf("%d `no ACK for 2xx` lines, want 1", len(lines))
	}
	rec := lines[0]
	for _, key := range []string{"sent_to", "contact", "via", "source", "route_rule"} {
		if s, _ := rec[key].(string); s == "" {
			t.Errorf("`no ACK for 2xx` line has no %s: %v", key, rec)
		}
	}
	if rec["leg"] != "a" {
		t.Errorf("leg = %v, want a (the phone's leg)", rec["leg"])
	}
	if rec["sent_to"] != b.phone.addr().String() {
		t.Errorf("sent_to = %v, want the phone's real address %s", rec["sent_to"], b.phone.addr())
	}
	if ended := b.log.lines("call ended"); len(ended) != 1 || ended[0]["reason"] != "no-ack" {
		t.Errorf("call ended lines = %v, want one with reason no-ack", ended)
	}
}
