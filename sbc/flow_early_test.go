package sbc

import (
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// earlyBed is a call set up to the B-leg INVITE: the phone's INVITE carried
// extra headers (Supported/Require: 100rel), the PBX has not answered yet.
type earlyBed struct {
	*flowBed
	phone *phoneCall
	pbx   *pbxCall
	inv   *sip.Request // the B-leg INVITE
}

func newEarlyBed(t *testing.T, mod func(*Config), phoneHeaders ...string) *earlyBed {
	t.Helper()
	return startEarly(t, newFlowBed(t, mod), phoneHeaders...)
}

// startEarly has the phone of fb call with phoneHeaders in its INVITE.
func startEarly(t *testing.T, fb *flowBed, phoneHeaders ...string) *earlyBed {
	t.Helper()
	b := &earlyBed{flowBed: fb, phone: newPhoneCall()}
	inv := b.inviteWith(b.phone, phoneHeaders)
	if delayedOffer(phoneHeaders) {
		inv = withoutBody(inv)
	}
	b.flowBed.phone.Send(t, inv)
	b.flowBed.phone.Expect(t, wait, "100 Trying", isResponse(100, sip.INVITE))
	b.inv = b.flowBed.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	b.pbx = &pbxCall{invite: b.inv, callID: b.inv.CallID().Value(), bTag: fromTagOf(b.inv),
		tag: "pbx" + randomHex(4), bContact: contactOf(t, b.inv), cseq: 100}
	return b
}

func (b *earlyBed) inviteWith(pc *phoneCall, extra []string) string {
	inv := b.invite(pc)
	if len(extra) == 0 {
		return inv
	}
	i := strings.Index(inv, "Content-Type:")
	return inv[:i] + strings.Join(extra, "\r\n") + "\r\n" + inv[i:]
}

// pbxSays sends a response of the PBX to the B-leg INVITE, with the given
// To tag.
func (b *earlyBed) pbxSays(t *testing.T, code int, reason, tag string, extra []string, body string) {
	t.Helper()
	if body != "" {
		extra = append(extra, "Content-Type: application/sdp")
	}
	b.flowBed.pbx.SendTo(t, parseAddrPort(b.inv.Source()), replyTo(b.inv, code, reason, tag, extra, body))
}

// phoneGets waits for a response of the A-leg INVITE and learns natsbc's
// A-leg tag and Contact from it.
func (b *earlyBed) phoneGets(t *testing.T, code int) *sip.Response {
	t.Helper()
	res := b.flowBed.phone.Expect(t, wait, strconv.Itoa(code)+" on the A-leg", isResponse(code, sip.INVITE)).(*sip.Response)
	b.phone.aTag = toTagOf(res)
	b.phone.aContact = contactOf(t, res)
	return res
}

// phonePrack is the phone's PRACK for the reliable provisional res.
func (b *earlyBed) phonePrack(t *testing.T, res *sip.Response, extra []string, body string) string {
	t.Helper()
	rseq := headerValue(t, res, "RSeq")
	return b.phoneInDialog(b.phone, sip.PRACK, 0, append([]string{"RAck: " + rseq + " 1 INVITE"}, extra...), body)
}

func (b *earlyBed) pbxContact() string {
	return "Contact: <sip:1000@" + b.flowBed.pbx.addr().String() + ">"
}

// answerAndHangUp ends the set-up: the PBX answers, the phone ACKs and
// hangs up, both legs see the end.
func (b *earlyBed) answerAndHangUp(t *testing.T, tag string) {
	t.Helper()
	b.pbx.tag = tag
	b.pbxSays(t, 200, "OK", tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	b.phoneGets(t, 200)
	ack := b.flowBed.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, b.pbx.callID))
	if toTagOf(ack) != tag {
		t.Errorf("ACK To tag %q, want the answering fork's %q", toTagOf(ack), tag)
	}
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.ACK, 1, nil, ""))
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.BYE, 0, nil, ""))
	b.flowBed.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.flowBed.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, b.pbx.callID))
	answer(t, b.flowBed.pbx, bye, 200, "OK", "", nil, "")
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatalf("no `call ended`: %v", err)
	}
}

func headerValue(t *testing.T, m sip.Message, name string) string {
	t.Helper()
	hs := m.GetHeaders(name)
	if len(hs) == 0 {
		t.Fatalf("no %s header in\n%s", name, m)
	}
	return strings.TrimSpace(hs[0].Value())
}

func hasHeaderToken(m sip.Message, name, token string) bool { return hasToken(m, name, token) }

// UPDATE and INFO of the phone during ringing reach the PBX in the PBX's
// early dialog (its To tag, the 183's Contact and Record-Route), and the
// PBX's UPDATE reaches the phone in the phone's; the 2xx then recomputes
// the route set (RFC 3261 §13.2.2.4). Before, the B-leg request had no To
// tag and the callee answered 481.
func TestFlowUpdateInEarlyDialog(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil)
	pbx := b.flowBed.pbx.addr().String()
	// The 183's Contact is the PBX's "phone" port; the Record-Route sends
	// everything through the PBX's own socket.
	early := "Contact: <sip:1000@" + pbxIP + ":7>"
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{early, "Record-Route: <sip:" + pbx + ";lr>"}, sdpBody(pbxIP, 6000))
	ring := b.phoneGets(t, 183)
	if b.phone.aTag == "" {
		t.Fatalf("183 to the phone has no To tag:\n%s", ring)
	}

	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.UPDATE, 0,
		[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	upd := b.flowBed.pbx.Expect(t, wait, "UPDATE on the B-leg", isRequestIn(sip.UPDATE, b.pbx.callID)).(*sip.Request)
	if toTagOf(upd) != b.pbx.tag || fromTagOf(upd) != b.pbx.bTag {
		t.Errorf("UPDATE to the PBX has To tag %q / From tag %q, want %q / %q (its early dialog)",
			toTagOf(upd), fromTagOf(upd), b.pbx.tag, b.pbx.bTag)
	}
	if got := upd.Recipient.String(); got != "sip:1000@"+pbxIP+":7" {
		t.Errorf("UPDATE Request-URI %s, want the 183's Contact (remote target)", got)
	}
	if r := upd.GetHeaders("Route"); len(r) != 1 || !strings.Contains(r[0].Value(), pbx) {
		t.Errorf("UPDATE Route %v, want the 183's Record-Route %s", r, pbx)
	}
	if !strings.Contains(string(upd.Body()), "m=audio 4002") {
		t.Errorf("UPDATE lost the phone's offer:\n%s", upd.Body())
	}
	answer(t, b.flowBed.pbx, upd, 200, "OK", "", []string{early, "Content-Type: application/sdp"}, sdpBody(pbxIP, 6002))
	ok := b.flowBed.phone.Expect(t, wait, "200 for UPDATE", isResponse(200, sip.UPDATE))
	if !strings.Contains(string(ok.Body()), "m=audio 6002") {
		t.Errorf("200 for UPDATE lost the PBX's answer:\n%s", ok.Body())
	}

	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.INFO, 0, nil, ""))
	info := b.flowBed.pbx.Expect(t, wait, "INFO on the B-leg", isRequestIn(sip.INFO, b.pbx.callID))
	if toTagOf(info) != b.pbx.tag {
		t.Errorf("INFO to the PBX has To tag %q, want %q", toTagOf(info), b.pbx.tag)
	}
	answer(t, b.flowBed.pbx, info, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for INFO", isResponse(200, sip.INFO))

	// The PBX's UPDATE in its early dialog reaches the phone in the phone's.
	b.flowBed.pbx.Send(t, b.pbxInDialog(b.pbx, sip.UPDATE, []string{early}, ""))
	pupd := b.flowBed.phone.Expect(t, wait, "UPDATE on the A-leg", isRequestIn(sip.UPDATE, b.phone.callID))
	if toTagOf(pupd) != b.phone.tag || fromTagOf(pupd) != b.phone.aTag {
		t.Errorf("UPDATE to the phone has To tag %q / From tag %q, want %q / %q",
			toTagOf(pupd), fromTagOf(pupd), b.phone.tag, b.phone.aTag)
	}
	answer(t, b.flowBed.phone, pupd, 200, "OK", "", nil, "")
	b.flowBed.pbx.Expect(t, wait, "200 for the PBX's UPDATE", isResponse(200, sip.UPDATE))

	// The 2xx has no Record-Route: the confirmed dialog has no route set.
	b.pbxSays(t, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	b.phoneGets(t, 200)
	ack := b.flowBed.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, b.pbx.callID)).(*sip.Request)
	if r := ack.GetHeaders("Route"); len(r) != 0 || uriAddr(t, ack.Recipient) != b.flowBed.pbx.addr() {
		t.Errorf("ACK R-URI %s Route %v: want the 2xx's Contact and no Route (RFC 3261 §13.2.2.4)", ack.Recipient.String(), r)
	}
}

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
	rseq := headerValue(t, first, "RSeq")
	if !strings.Contains(string(first.Body()), "m=audio 6000") {
		t.Errorf("reliable 183 lost its SDP:\n%s", first.Body())
	}
	// RFC 3262 §3: natsbc retransmits it (T1 = 10 ms here) until PRACKed.
	again := b.flowBed.phone.Expect(t, wait, "retransmitted reliable 183", isResponse(183, sip.INVITE))
	if got := headerValue(t, again, "RSeq"); got != rseq {
		t.Errorf("retransmission has RSeq %s, want %s", got, rseq)
	}

	b.flowBed.phone.Send(t, b.phonePrack(t, first, nil, ""))
	prack := b.flowBed.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID)).(*sip.Request)
	if got, want := headerValue(t, prack, "RAck"), "7 "+strconv.Itoa(int(b.inv.CSeq().SeqNo))+" INVITE"; got != want {
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
		if got := headerValue(t, r, "RSeq"); got != rseq {
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
	if got, want := headerValue(t, prack, "RAck"), "1 "+strconv.Itoa(int(b.inv.CSeq().SeqNo))+" INVITE"; got != want {
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
	r1, _ := strconv.Atoi(headerValue(t, first, "RSeq"))
	if got := headerValue(t, ring, "RSeq"); got != strconv.Itoa(r1+1) {
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
// 504 (RFC 3262 §3) and cancels the B-leg; the call and its goroutines
// are gone.
//
// Not parallel: it counts goroutines.
func TestFlowNoPrackRejects(t *testing.T) {
	fb := newFlowBed(t, nil)
	before := runtime.NumGoroutine()
	b := startEarly(t, fb, "Require: 100rel")
	b.pbxSays(t, 180, "Ringing", b.pbx.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 180)
	b.flowBed.phone.Expect(t, 64*flowT1+wait, "504 for the INVITE", isResponse(504, sip.INVITE))
	cancel := b.flowBed.pbx.Expect(t, wait, "CANCEL on the B-leg", isRequestIn(sip.CANCEL, b.pbx.callID))
	answer(t, b.flowBed.pbx, cancel, 200, "OK", "", nil, "")
	b.pbxSays(t, 487, "Request Terminated", b.pbx.tag, nil, "")
	if _, err := b.log.waitFor("no PRACK for a reliable provisional, rejecting the INVITE", wait); err != nil {
		t.Errorf("no warning: %v", err)
	}
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatalf("no `call ended`: %v", err)
	}
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

// Two forks answer with reliable provisionals of their own tags: both reach
// the phone on its one early dialog (natsbc's tag, natsbc's RSeq in
// order), each PRACK goes to the fork it acknowledges, an UPDATE goes to
// the fork that spoke last, and the 2xx of the other fork wins the call.
func TestFlowForkedEarlyDialogs(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil, "Supported: 100rel")
	b.pbxSays(t, 180, "Ringing", "forkX", []string{b.pbxContact(), "Require: 100rel", "RSeq: 11"}, "")
	x := b.phoneGets(t, 180)
	b.pbxSays(t, 183, "Session Progress", "forkY", []string{b.pbxContact(), "Require: 100rel", "RSeq: 21"}, sdpBody(pbxIP, 6000))

	b.flowBed.phone.Send(t, b.phonePrack(t, x, nil, ""))
	px := b.flowBed.pbx.Expect(t, wait, "PRACK to fork X", isRequestIn(sip.PRACK, b.pbx.callID))
	if toTagOf(px) != "forkX" || !strings.HasPrefix(headerValue(t, px, "RAck"), "11 ") {
		t.Errorf("PRACK for the 180 went to tag %q with RAck %q, want forkX / 11", toTagOf(px), headerValue(t, px, "RAck"))
	}
	answer(t, b.flowBed.pbx, px, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for PRACK X", isResponse(200, sip.PRACK))

	y := b.phoneGets(t, 183)
	if toTagOf(y) != toTagOf(x) {
		t.Errorf("the forks reached the phone on two dialogs (%q, %q); natsbc collapses them", toTagOf(x), toTagOf(y))
	}
	b.flowBed.phone.Send(t, b.phonePrack(t, y, nil, ""))
	py := b.flowBed.pbx.Expect(t, wait, "PRACK to fork Y", isRequestIn(sip.PRACK, b.pbx.callID))
	if toTagOf(py) != "forkY" || !strings.HasPrefix(headerValue(t, py, "RAck"), "21 ") {
		t.Errorf("PRACK for the 183 went to tag %q with RAck %q, want forkY / 21", toTagOf(py), headerValue(t, py, "RAck"))
	}
	answer(t, b.flowBed.pbx, py, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for PRACK Y", isResponse(200, sip.PRACK))

	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.UPDATE, 0, []string{"Contact: <sip:2000@" + phoneViaHop + ">"}, ""))
	upd := b.flowBed.pbx.Expect(t, wait, "UPDATE on the B-leg", isRequestIn(sip.UPDATE, b.pbx.callID))
	if toTagOf(upd) != "forkY" {
		t.Errorf("UPDATE went to tag %q, want the fork that spoke last (forkY)", toTagOf(upd))
	}
	answer(t, b.flowBed.pbx, upd, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for UPDATE", isResponse(200, sip.UPDATE))
	b.answerAndHangUp(t, "forkX")
}

// With sip.100rel off, Require: 100rel gets 420 as before.
func TestFlow100relDisabled(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.Disable100rel = true })
	pc := newPhoneCall()
	eb := &earlyBed{flowBed: b}
	b.phone.Send(t, eb.inviteWith(pc, []string{"Require: 100rel"}))
	res := b.phone.Expect(t, wait, "420", isResponse(420, sip.INVITE))
	if !hasHeaderToken(res, "Unsupported", "100rel") {
		t.Errorf("420 without Unsupported: 100rel:\n%s", res)
	}

	// Early dialogs do not depend on 100rel: an UPDATE during ringing
	// still reaches the callee in its early dialog.
	eb = newEarlyBed(t, func(c *Config) { c.Disable100rel = true }, "Supported: 100rel")
	if hasHeaderToken(eb.inv, "Supported", "100rel") {
		t.Errorf("B-leg INVITE offers 100rel with 100rel off:\n%s", eb.inv)
	}
	eb.pbxSays(t, 180, "Ringing", eb.pbx.tag, []string{eb.pbxContact()}, "")
	eb.phoneGets(t, 180)
	eb.flowBed.phone.Send(t, eb.phoneInDialog(eb.phone, sip.UPDATE, 0, nil, ""))
	upd := eb.flowBed.pbx.Expect(t, wait, "UPDATE on the B-leg", isRequestIn(sip.UPDATE, eb.pbx.callID))
	if toTagOf(upd) != eb.pbx.tag {
		t.Errorf("UPDATE To tag %q, want the PBX's %q", toTagOf(upd), eb.pbx.tag)
	}
	answer(t, eb.flowBed.pbx, upd, 200, "OK", "", nil, "")
	eb.flowBed.phone.Expect(t, wait, "200 for UPDATE", isResponse(200, sip.UPDATE))
	eb.answerAndHangUp(t, eb.pbx.tag)
}

// newAnchoredBed is a flow bed whose natsbc anchors media.
func newAnchoredBed(t *testing.T) *flowBed {
	t.Helper()
	anchor, err := media.NewRelayAnchor(media.Config{PortMin: 43000, PortMax: 43999, Drain: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = anchor.Close() })
	fb := &flowBed{log: newLogSink()}
	fb.phone = newTestPeer(t, "phone", phoneIP)
	fb.pbx = newTestPeer(t, "pbx", pbxIP)
	fb.srv, fb.outside, fb.inside = startFlowServerWith(t, fb.log, fb.pbx.addr(), nil,
		func(o *Options) { o.Media = anchor })
	fb.phone.target, fb.pbx.target = fb.outside, fb.inside
	fb.waitServing(t)
	return fb
}

// Early media is anchored: with a relay anchor, the reliable 183's answer
// reaches the phone naming natsbc's outside address and a relay port, and
// a new offer in the phone's PRACK and its answer in the 200 (RFC 3262 §5)
// are rewritten for the other leg too.
func TestFlowReliable183Anchored(t *testing.T) {
	t.Parallel()
	fb := newAnchoredBed(t)
	b := startEarly(t, fb, "Supported: 100rel")
	assertAnchored(t, "B-leg INVITE", b.inv.Body(), insideIP, "4000")

	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact(), "Require: 100rel", "RSeq: 1"}, sdpBody(pbxIP, 6000))
	rel := b.phoneGets(t, 183)
	assertAnchored(t, "reliable 183", rel.Body(), outsideIP, "6000")

	b.flowBed.phone.Send(t, b.phonePrack(t, rel, []string{"Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	prack := fb.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID))
	assertAnchored(t, "PRACK offer", prack.Body(), insideIP, "4002")
	answer(t, fb.pbx, prack, 200, "OK", "", []string{"Content-Type: application/sdp"}, sdpBody(pbxIP, 6002))
	ok := fb.phone.Expect(t, wait, "200 for PRACK", isResponse(200, sip.PRACK))
	assertAnchored(t, "200 for PRACK", ok.Body(), outsideIP, "6002")
	b.answerAndHangUp(t, b.pbx.tag)
}

// assertAnchored checks that an SDP names natsbc's address ip and not the
// far side's port.
func assertAnchored(t *testing.T, what string, body []byte, ip, farPort string) {
	t.Helper()
	sdp := string(body)
	if !strings.Contains(sdp, "c=IN IP4 "+ip+"\r\n") || strings.Contains(sdp, "m=audio "+farPort+" ") ||
		strings.Contains(sdp, privateIP) {
		t.Errorf("%s SDP is not anchored on %s (far port %s):\n%s", what, ip, farPort, sdp)
	}
}

// noOffer in startEarly's headers makes the phone's INVITE carry no SDP.
const noOffer = "X-Test: no-offer"

func delayedOffer(hs []string) bool {
	for _, h := range hs {
		if h == noOffer {
			return true
		}
	}
	return false
}

// withoutBody drops an INVITE's SDP (and its Content-Type).
func withoutBody(msg string) string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	var keep []string
	for _, l := range strings.Split(head, "\r\n") {
		if !strings.HasPrefix(l, "Content-Type:") && !strings.HasPrefix(l, "Content-Length:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
}

// Delayed offer with 100rel on both sides: the PBX's offer comes in its
// reliable 183, the phone's answer in its PRACK (RFC 3262 §5); both are
// anchored, and the 200 without SDP completes the call.
func TestFlowOfferInReliable183AnswerInPrack(t *testing.T) {
	t.Parallel()
	b := startEarly(t, newAnchoredBed(t), "Supported: 100rel", noOffer)
	if len(b.inv.Body()) != 0 || !hasHeaderToken(b.inv, "Supported", "100rel") {
		t.Fatalf("B-leg INVITE: want no SDP and Supported: 100rel:\n%s", b.inv)
	}
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact(), "Require: 100rel", "RSeq: 1"}, sdpBody(pbxIP, 6000))
	offer := b.phoneGets(t, 183)
	assertAnchored(t, "offer in the reliable 183", offer.Body(), outsideIP, "6000")
	b.flowBed.phone.Send(t, b.phonePrack(t, offer, []string{"Content-Type: application/sdp"}, sdpBody(privateIP, 4000)))
	prack := b.flowBed.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID))
	assertAnchored(t, "answer in the PRACK", prack.Body(), insideIP, "4000")
	answer(t, b.flowBed.pbx, prack, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for PRACK", isResponse(200, sip.PRACK))

	b.pbxSays(t, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 200)
	b.flowBed.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, b.pbx.callID))
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.ACK, 1, nil, ""))
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.BYE, 0, nil, ""))
	b.flowBed.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.flowBed.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, b.pbx.callID))
	answer(t, b.flowBed.pbx, bye, 200, "OK", "", nil, "")
}

// A phone without 100rel and without an offer: natsbc does not offer
// 100rel on the B-leg (a reliable provisional could carry an offer only
// the phone could answer, in a PRACK it never sends).
func TestFlowNo100relForDelayedOfferWithout100rel(t *testing.T) {
	t.Parallel()
	b := startEarly(t, newFlowBed(t, nil), noOffer)
	if hasHeaderToken(b.inv, "Supported", "100rel") {
		t.Errorf("B-leg INVITE offers 100rel for a phone that cannot PRACK and made no offer:\n%s", b.inv)
	}
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
