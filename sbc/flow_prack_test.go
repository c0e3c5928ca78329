package sbc

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Both sides use 100rel: the PBX's reliable 183 with SDP reaches the phone
// reliably with natsbc's RSeq, retransmitted until the phone's PRACK, which
// is relayed to the PBX with the PBX's RSeq in RAck; the PBX's 200 for the
// PRACK reaches the phone. A retransmitted 183 is not relayed again.
func TestFlowPrackRelayed(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil, "Supported: 100rel")
	if !hasHeaderToken(b.inv, "Supported", "100rel") || hasHeaderToken(b.inv, "Require", "100rel") {
		t.Errorf("B-leg INVITE: want Supported: 100rel and no Require: 100rel:\n%s", b.inv)
	}
	rel := []string{b.pbxContact(), "Require: 100rel", "RSeq: 7"}
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, rel, sdpBody(pbxIP, 6000))
	first := b.phoneGets(t, 183)
	if !hasHeaderToken(first, "Require", "100rel") {
		t.Fatalf("183 to the phone is not reliable:\n%s", first)
	}
	rseq := mustHeader(t, first, "RSeq")
	if !strings.Contains(string(first.Body()), "m=audio 6000") {
		t.Errorf("reliable 183 lost its SDP:\n%s", first.Body())
	}
	// RFC 3262 §3: natsbc retransmits it (T1 = 10 ms here) until PRACKed.
	again := b.flowBed.phone.Expect(t, wait, "retransmitted reliable 183", isResponse(183, sip.INVITE))
	if got := mustHeader(t, again, "RSeq"); got != rseq {
		t.Errorf("retransmission has RSeq %s, want %s", got, rseq)
	}

	b.flowBed.phone.Send(t, b.phonePrack(t, first, nil, ""))
	prack := b.flowBed.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID)).(*sip.Request)
	if got, want := mustHeader(t, prack, "RAck"), "7 "+strconv.Itoa(int(b.inv.CSeq().SeqNo))+" INVITE"; got != want {
		t.Errorf("PRACK RAck %q, want the PBX's %q", got, want)
	}
	if toTagOf(prack) != b.pbx.tag || fromTagOf(prack) != b.pbx.bTag || prack.CSeq().SeqNo <= b.inv.CSeq().SeqNo {
		t.Errorf("PRACK not in the PBX's early dialog (To tag %q, From tag %q, CSeq %d):\n%s",
			toTagOf(prack), fromTagOf(prack), prack.CSeq().SeqNo, prack)
	}
	// The PBX retransmits its 183 before seeing the PRACK: not relayed.
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, rel, sdpBody(pbxIP, 6000))
	answer(t, b.flowBed.pbx, prack, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for PRACK", isResponse(200, sip.PRACK))
	for _, r := range b.flowBed.phone.TakeAll(isResponse(183, sip.INVITE)) {
		if got := mustHeader(t, r, "RSeq"); got != rseq {
			t.Errorf("the phone got a 183 with RSeq %s after %s: the retransmitted 183 was relayed as new", got, rseq)
		}
	}
	// A second PRACK for the same RSeq matches nothing (RFC 3262 §3).
	b.flowBed.phone.Send(t, b.phonePrack(t, first, nil, ""))
	b.flowBed.phone.Expect(t, wait, "481 for a repeated PRACK", isResponse(481, sip.PRACK))
	b.answerAndHangUp(t, b.pbx.tag)
}

// The phone does not use 100rel, the PBX requires it: natsbc PRACKs the
// PBX's reliable 180 itself and the phone gets an ordinary 180.
func TestFlowPrackCallerWithout100rel(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil)
	if !hasHeaderToken(b.inv, "Supported", "100rel") {
		t.Fatalf("B-leg INVITE does not offer 100rel (the phone's INVITE had SDP):\n%s", b.inv)
	}
	b.pbxSays(t, 180, "Ringing", b.pbx.tag, []string{b.pbxContact(), "Require: 100rel", "RSeq: 1"}, sdpBody(pbxIP, 6000))
	prack := b.flowBed.pbx.Expect(t, wait, "natsbc's PRACK", isRequestIn(sip.PRACK, b.pbx.callID))
	if got, want := mustHeader(t, prack, "RAck"), "1 "+strconv.Itoa(int(b.inv.CSeq().SeqNo))+" INVITE"; got != want {
		t.Errorf("PRACK RAck %q, want %q", got, want)
	}
	if toTagOf(prack) != b.pbx.tag {
		t.Errorf("PRACK To tag %q, want %q", toTagOf(prack), b.pbx.tag)
	}
	ring := b.phoneGets(t, 180)
	if hasHeaderToken(ring, "Require", "100rel") || len(ring.GetHeaders("RSeq")) != 0 {
		t.Errorf("180 to a phone without 100rel is reliable:\n%s", ring)
	}
	answer(t, b.flowBed.pbx, prack, 200, "OK", "", nil, "")
	b.answerAndHangUp(t, b.pbx.tag)
}

// The phone requires 100rel, the PBX does not use it: natsbc sends the
// PBX's 183 and 180 reliably, the 180 only once the 183 is PRACKed (RFC
// 3262 §3), and answers the PRACKs itself; the PBX never sees one.
func TestFlowPrackCalleeWithout100rel(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil, "Require: 100rel", "Supported: 100rel")
	if hasHeaderToken(b.inv, "Require", "100rel") {
		t.Errorf("B-leg INVITE requires 100rel: a callee without it would refuse the call:\n%s", b.inv)
	}
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	first := b.phoneGets(t, 183)
	if !hasHeaderToken(first, "Require", "100rel") {
		t.Fatalf("183 to a phone that requires 100rel is not reliable:\n%s", first)
	}
	if !strings.Contains(string(first.Body()), "m=audio 6000") {
		t.Errorf("reliable 183 lost its SDP:\n%s", first.Body())
	}
	// The 180 comes while the 183 is unacknowledged: two retransmissions
	// of the 183 later (T1 = 10 ms, then 20 ms) it is still held back.
	b.pbxSays(t, 180, "Ringing", b.pbx.tag, []string{b.pbxContact()}, "")
	for range 2 {
		b.flowBed.phone.Expect(t, wait, "retransmitted reliable 183", isResponse(183, sip.INVITE))
	}
	if early := b.flowBed.phone.TakeAll(isResponse(180, sip.INVITE)); len(early) != 0 {
		t.Errorf("the 180 was sent before the 183 was PRACKed:\n%s", early[0])
	}
	b.flowBed.phone.Send(t, b.phonePrack(t, first, nil, ""))
	b.flowBed.phone.Expect(t, wait, "natsbc's 200 for PRACK", isResponse(200, sip.PRACK))
	ring := b.phoneGets(t, 180)
	r1, _ := strconv.Atoi(mustHeader(t, first, "RSeq"))
	if got := mustHeader(t, ring, "RSeq"); got != strconv.Itoa(r1+1) {
		t.Errorf("180 RSeq %s, want %d (one more than the 183's)", got, r1+1)
	}
	b.flowBed.phone.Send(t, b.phonePrack(t, ring, nil, ""))
	b.flowBed.phone.Expect(t, wait, "natsbc's 200 for the second PRACK", isResponse(200, sip.PRACK))
	b.answerAndHangUp(t, b.pbx.tag)
	if p := b.flowBed.pbx.TakeAll(isRequest(sip.PRACK)); len(p) != 0 {
		t.Errorf("the PBX, which does not use 100rel, got a PRACK:\n%s", p[0])
	}
}

// A reliable provisional nobody PRACKs: at 64*T1 natsbc answers the INVITE
// 504 (RFC 3262 §3) and cancels the B-leg; the call ends for that reason
// (not as if the caller had cancelled), the phone gets nothing after its
// 504, and the call and its goroutines are gone.
//
// Not parallel: it counts goroutines.
func TestFlowNoPrackRejects(t *testing.T) {
	fb := newFlowBed(t, nil)
	before := runtime.NumGoroutine()
	b := startEarly(t, fb, "Require: 100rel")
	b.pbxSays(t, 180, "Ringing", b.pbx.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 180)
	if _, err := b.log.waitFor("no PRACK for a reliable provisional, rejecting the INVITE", 64*flowT1+wait); err != nil {
		t.Errorf("no warning: %v", err)
	}
	cancel := b.flowBed.pbx.Expect(t, wait, "CANCEL on the B-leg", isRequestIn(sip.CANCEL, b.pbx.callID))
	answer(t, b.flowBed.pbx, cancel, 200, "OK", "", nil, "")
	b.pbxSays(t, 487, "Request Terminated", b.pbx.tag, nil, "")
	rec, err := b.log.waitFor("call ended", wait)
	if err != nil || rec["reason"] != "no-prack" {
		t.Fatalf("call ended = %v (%v), want reason no-prack", rec, err)
	}
	if got := b.log.lines("INVITE cancelled"); len(got) != 0 {
		t.Errorf("the missing PRACK was logged as a CANCEL: %v", got)
	}
	phoneGetsOnlyItsFinal(t, b.flowBed.phone, 504)
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after the call ended", n)
	}
	waitGoroutines(t, before, 2*time.Second)
}

// The caller CANCELs while natsbc retransmits a relayed reliable 183 that
// nobody PRACKed: the B-leg is cancelled, and the call and its goroutines
// (the retransmission loop among them) are gone.
//
// Not parallel: it counts goroutines.
func TestFlowCancelDuringReliable183(t *testing.T) {
	fb := newFlowBed(t, nil)
	before := runtime.NumGoroutine()
	b := startEarly(t, fb, "Supported: 100rel")
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact(), "Require: 100rel", "RSeq: 5"}, sdpBody(pbxIP, 6000))
	b.phoneGets(t, 183)
	b.flowBed.phone.Expect(t, wait, "retransmitted reliable 183", isResponse(183, sip.INVITE))

	fb.phone.Send(t, sipMsg("CANCEL sip:1000@"+fb.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + b.phone.branch,
		"Max-Forwards: 70",
		"From: \"Phone\" <sip:2000@" + privateIP + ">;tag=" + b.phone.tag,
		"To: <sip:1000@" + fb.outside.String() + ">",
		"Call-ID: " + b.phone.callID,
		"CSeq: 1 CANCEL",
	}, ""))
	fb.phone.Expect(t, wait, "200 for CANCEL", isResponse(200, sip.CANCEL))
	terminated := fb.phone.Expect(t, wait, "487 for the INVITE", isResponse(487, sip.INVITE))
	cancel := fb.pbx.Expect(t, wait, "CANCEL on the B-leg", isRequestIn(sip.CANCEL, b.pbx.callID))
	answer(t, fb.pbx, cancel, 200, "OK", "", nil, "")
	b.pbxSays(t, 487, "Request Terminated", b.pbx.tag, nil, "")
	fb.phone.Send(t, sipMsg("ACK sip:1000@"+fb.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + b.phone.branch,
		"Max-Forwards: 70",
		"From: \"Phone\" <sip:2000@" + privateIP + ">;tag=" + b.phone.tag,
		"To: " + terminated.To().Value(),
		"Call-ID: " + b.phone.callID,
		"CSeq: 1 ACK",
	}, ""))
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "cancel" {
		t.Fatalf("call ended = %v (%v), want reason cancel", rec, err)
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after the call ended", n)
	}
	waitGoroutines(t, before, 2*time.Second)
}

// The phone requires 100rel, the PBX does not use it and answers right
// after its 183 with SDP: natsbc keeps retransmitting its reliable 183 and
// holds the phone's 2xx until the PRACK (RFC 3262 §3: no 2xx before the
// PRACK of a reliable provisional with SDP), while the PBX is ACKed at once.
func TestFlow2xxWaitsForPrackOfReliable183(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil, "Require: 100rel")
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	rel := b.phoneGets(t, 183)
	b.pbxSays(t, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	b.flowBed.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, b.pbx.callID))
	// Two more copies of the 183 after the ACK: the 2xx was held meanwhile.
	b.flowBed.phone.TakeAll(isResponse(183, sip.INVITE))
	for range 2 {
		b.flowBed.phone.Expect(t, wait, "reliable 183 retransmitted after the PBX's 2xx", isResponse(183, sip.INVITE))
	}
	if early := b.flowBed.phone.TakeAll(isResponse(200, sip.INVITE)); len(early) != 0 {
		t.Fatalf("the 2xx reached the phone before its PRACK of the reliable 183 with SDP:\n%s", early[0])
	}
	b.flowBed.phone.Send(t, b.phonePrack(t, rel, nil, ""))
	b.flowBed.phone.Expect(t, wait, "natsbc's 200 for PRACK", isResponse(200, sip.PRACK))
	b.phoneGets(t, 200)
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.ACK, 1, nil, ""))
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.BYE, 0, nil, ""))
	b.flowBed.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.flowBed.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, b.pbx.callID))
	answer(t, b.flowBed.pbx, bye, 200, "OK", "", nil, "")
}

// A PRACK without a usable RAck gets 400 and changes nothing: the real
// PRACK that follows still acknowledges the reliable 180.
func TestFlowPrackBadRAck(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil, "Require: 100rel")
	b.pbxSays(t, 180, "Ringing", b.pbx.tag, []string{b.pbxContact()}, "")
	ring := b.phoneGets(t, 180)
	for _, rack := range []string{"", "RAck: x 1 INVITE", "RAck: 1 INVITE", "RAck: 0 1 INVITE"} {
		var extra []string
		if rack != "" {
			extra = []string{rack}
		}
		b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.PRACK, 0, extra, ""))
		b.flowBed.phone.Expect(t, wait, "400 for PRACK with "+strconv.Quote(rack), isResponse(400, sip.PRACK))
	}
	b.flowBed.phone.Send(t, b.phonePrack(t, ring, nil, ""))
	b.flowBed.phone.Expect(t, wait, "200 for the real PRACK", isResponse(200, sip.PRACK))
	b.answerAndHangUp(t, b.pbx.tag)
}

// The caller gets the answer to its PRACK before the 2xx, even when the
// callee's 2xx reaches natsbc first: a phone that expects the order of its
// own transactions (sipp does) must not see the 2xx overtake it.
func TestFlowPrackAnswerBefore2xx(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil, "Supported: 100rel")
	rel := []string{b.pbxContact(), "Require: 100rel", "RSeq: 1"}
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, rel, sdpBody(pbxIP, 6000))
	first := b.phoneGets(t, 183)
	b.flowBed.phone.Send(t, b.phonePrack(t, first, nil, ""))
	prack := b.flowBed.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID))
	b.pbxSays(t, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, "")
	time.Sleep(50 * time.Millisecond) // the PBX answers its PRACK late: the order is natsbc's to keep
	answer(t, b.flowBed.pbx, prack, 200, "OK", "", nil, "")
	got := b.flowBed.phone.Expect(t, wait, "a 200", func(m sip.Message) bool {
		return isResponse(200, sip.PRACK)(m) || isResponse(200, sip.INVITE)(m)
	})
	if !isResponse(200, sip.PRACK)(got) {
		t.Fatalf("the 2xx overtook the PRACK's answer:\n%s", got)
	}
	b.phoneGets(t, 200)
}
