package sbc

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar"
)

// pbxRequest is an out-of-dialog request of the PBX to ruri (a token
// Contact from its location service).
func (b *flowBed) pbxRequest(method sip.RequestMethod, ruri string, extra []string, body string) (callID, msg string) {
	cid := "pbx" + strings.ToLower(string(method)) + "-" + randomHex(6)
	hs := append([]string{
		"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-pbx" + randomHex(6),
		"Max-Forwards: 70",
		"From: <sip:voicemail@example.com>;tag=" + randomHex(4),
		"To: <sip:alice@example.com>",
		"Call-ID: " + cid,
		"CSeq: 7 " + string(method),
	}, extra...)
	return cid, sipMsg(string(method)+" "+ruri+" SIP/2.0", hs, body)
}

const mwiBody = "Messages-Waiting: yes\r\nMessage-Account: sip:*97@example.com\r\nVoice-Message: 2/8 (0/2)\r\n"

// An unsolicited MWI NOTIFY (RFC 3842, as Asterisk sends it) to a
// registered phone's token reaches the phone over its flow with its own
// Contact as Request-URI, the Event and the body untouched, in natsbc's
// own Call-ID; the phone's 200 goes back to the PBX.
func TestFlowNotifyToTokenReachesPhone(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	got, _ := b.registerThrough(t, newPhoneReg("alice"), 3600, 3600)
	token := contactOf(t, got)

	cid, notify := b.pbxRequest(sip.NOTIFY, token.String(), []string{"Event: message-summary",
		"Subscription-State: active", "Content-Type: application/simple-message-summary"}, mwiBody)
	b.pbx.SendTo(t, b.inside, notify)
	in := b.phone.Expect(t, wait, "NOTIFY at the phone", isRequest(sip.NOTIFY)).(*sip.Request)
	if in.Recipient.User != "alice" || in.Recipient.Host != privateIP {
		t.Errorf("NOTIFY R-URI %s, want the phone's own Contact", in.Recipient.String())
	}
	if ev := in.GetHeader("Event"); ev == nil || ev.Value() != "message-summary" {
		t.Errorf("NOTIFY Event %v, want message-summary", ev)
	}
	if string(in.Body()) != mwiBody || in.ContentType().Value() != "application/simple-message-summary" {
		t.Errorf("NOTIFY body %q (%v), want the PBX's untouched", in.Body(), in.ContentType())
	}
	if in.CallID().Value() == cid || in.Via().SentBy() != b.outside.String() {
		t.Errorf("NOTIFY Call-ID %s, Via %s: want natsbc's own", in.CallID().Value(), in.Via().SentBy())
	}
	b.phone.Send(t, replyTo(in, 200, "OK", "ph1", nil, ""))
	b.pbx.Expect(t, wait, "200 for the NOTIFY at the PBX", isResponse(200, sip.NOTIFY))
}

// The PBX's qualify (OPTIONS to the token) reaches the phone, and its
// answer the PBX: a live phone is reachable. A phone that does not answer
// gets the PBX a 408, never natsbc's own 200; a binding that is gone is
// 480.
func TestFlowQualifyReachesPhone(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	r := newPhoneReg("alice")
	got, _ := b.registerThrough(t, r, 3600, 3600)
	token := contactOf(t, got)

	_, opt := b.pbxRequest(sip.OPTIONS, token.String(), nil, "")
	b.pbx.SendTo(t, b.inside, opt)
	in := b.phone.Expect(t, wait, "qualify OPTIONS at the phone", isRequest(sip.OPTIONS)).(*sip.Request)
	b.phone.Send(t, replyTo(in, 200, "OK", "ph1", []string{"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS"}, ""))
	res := b.pbx.Expect(t, wait, "the phone's 200 at the PBX", isResponse(200, sip.OPTIONS)).(*sip.Response)
	if allow := res.GetHeader("Allow"); allow == nil || !strings.Contains(allow.Value(), "INVITE") || strings.Contains(allow.Value(), "REGISTER") {
		t.Errorf("Allow at the PBX %v: want the phone's, not natsbc's", allow)
	}

	_, opt = b.pbxRequest(sip.OPTIONS, token.String(), nil, "")
	b.pbx.SendTo(t, b.inside, opt)
	b.phone.Expect(t, wait, "second qualify at the phone (left unanswered)", isRequest(sip.OPTIONS))
	b.pbx.Expect(t, wait, "408 for the unanswered qualify", isResponse(408, sip.OPTIONS))

	b.phone.Send(t, b.register(r, 0))
	unreg := b.pbx.Expect(t, wait, "un-REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID))
	b.pbx.SendTo(t, b.inside, replyTo(unreg, 200, "OK", "pbx9", nil, ""))
	b.phone.Expect(t, wait, "200 to the un-REGISTER", isResponse(200, sip.REGISTER))
	_, opt = b.pbxRequest(sip.OPTIONS, token.String(), nil, "")
	b.pbx.SendTo(t, b.inside, opt)
	b.pbx.Expect(t, wait, "480 for the qualify of a gone binding", isResponse(480, sip.OPTIONS))
}

// A MESSAGE (RFC 3428) from the phone reaches the PBX as natsbc's own
// request with the body untouched, and the PBX's 202 the phone; one from
// the PBX to the token reaches the phone.
func TestFlowMessageBothWays(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	got, _ := b.registerThrough(t, newPhoneReg("alice"), 3600, 3600)
	token := contactOf(t, got)

	pc := newPhoneCall()
	msg := sipMsg("MESSAGE sip:bob@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + pc.branch,
		"Max-Forwards: 70",
		"From: <sip:alice@example.com>;tag=" + pc.tag,
		"To: <sip:bob@example.com>",
		"Call-ID: " + pc.callID,
		"CSeq: 1 MESSAGE",
		"Content-Type: text/plain",
	}, "hello bob")
	b.phone.Send(t, msg)
	out := b.pbx.Expect(t, wait, "MESSAGE at the PBX", isRequest(sip.MESSAGE)).(*sip.Request)
	if string(out.Body()) != "hello bob" || out.CallID().Value() == pc.callID || strings.Contains(out.String(), privateIP) {
		t.Errorf("MESSAGE at the PBX: body %q, Call-ID %s; or the phone's private address leaked:\n%s", out.Body(), out.CallID().Value(), out)
	}
	b.pbx.SendTo(t, b.inside, replyTo(out, 202, "Accepted", "pbx1", nil, ""))
	b.phone.Expect(t, wait, "202 at the phone", isResponse(202, sip.MESSAGE))

	_, back := b.pbxRequest(sip.MESSAGE, token.String(), []string{"Content-Type: text/plain"}, "hello alice")
	b.pbx.SendTo(t, b.inside, back)
	in := b.phone.Expect(t, wait, "MESSAGE at the phone", isRequest(sip.MESSAGE)).(*sip.Request)
	if string(in.Body()) != "hello alice" {
		t.Errorf("MESSAGE body at the phone %q", in.Body())
	}
	b.phone.Send(t, replyTo(in, 200, "OK", "ph2", nil, ""))
	b.pbx.Expect(t, wait, "200 for the MESSAGE at the PBX", isResponse(200, sip.MESSAGE))
}

// With registrations.answer_qualify natsbc answers the qualify of a NATed
// phone it pings itself, and the phone sees no OPTIONS.
func TestFlowAnswerQualify(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.Registrations.AnswerQualify = true })
	got, _ := b.registerThrough(t, newPhoneReg("alice"), 3600, 3600)
	token := contactOf(t, got)
	_, opt := b.pbxRequest(sip.OPTIONS, token.String(), nil, "")
	b.pbx.SendTo(t, b.inside, opt)
	b.pbx.Expect(t, wait, "natsbc's own 200 with answer_qualify", isResponse(200, sip.OPTIONS))
	if n := len(b.phone.TakeAll(isRequest(sip.OPTIONS))); n != 0 {
		t.Errorf("with answer_qualify the phone still got %d OPTIONS", n)
	}
}

// A MESSAGE inside a call crosses it like any in-dialog request: onto the
// other leg's dialog, body untouched, and back.
func TestFlowMessageInCall(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.MESSAGE, 0, []string{"Content-Type: text/plain"}, "in the call"))
	out := b.pbx.Expect(t, wait, "in-dialog MESSAGE at the PBX", isRequestIn(sip.MESSAGE, tr.pbx.callID)).(*sip.Request)
	if string(out.Body()) != "in the call" || toTagOf(out) == "" {
		t.Errorf("in-dialog MESSAGE at the PBX: body %q, To tag %q", out.Body(), toTagOf(out))
	}
	b.pbx.SendTo(t, b.inside, replyTo(out, 200, "OK", toTagOf(out), nil, ""))
	b.phone.Expect(t, wait, "200 for the in-dialog MESSAGE", isResponse(200, sip.MESSAGE))

	b.pbx.SendTo(t, b.inside, b.pbxInDialog(tr.pbx, sip.MESSAGE, []string{"Content-Type: text/plain"}, "back"))
	in := b.phone.Expect(t, wait, "in-dialog MESSAGE at the phone", isRequestIn(sip.MESSAGE, tr.phone.callID)).(*sip.Request)
	if string(in.Body()) != "back" {
		t.Errorf("in-dialog MESSAGE body at the phone %q", in.Body())
	}
	b.phone.Send(t, replyTo(in, 200, "OK", toTagOf(in), nil, ""))
	b.pbx.Expect(t, wait, "200 at the PBX", isResponse(200, sip.MESSAGE))
}

// A MESSAGE, an unsolicited NOTIFY and a method natsbc has no handler for
// (a made-up one) to a token natsbc
// never issued get 404, as a call to it does: never a guess.
func TestFlowOutOfDialogUnknownToken404(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	got, _ := b.registerThrough(t, newPhoneReg("alice"), 3600, 3600)
	forged := contactOf(t, got)
	forged.User = registrar.TokenPrefix + strings.Repeat("a", len(forged.User)-len(registrar.TokenPrefix))
	for _, m := range []sip.RequestMethod{sip.MESSAGE, sip.NOTIFY, sip.OPTIONS, "FOO"} {
		_, req := b.pbxRequest(m, forged.String(), []string{"Event: message-summary"}, "")
		b.pbx.SendTo(t, b.inside, req)
		b.pbx.Expect(t, wait, "404 for "+string(m)+" to a forged token", isResponse(404, m))
	}
	if n := len(b.phone.TakeAll(isRequest(sip.MESSAGE))); n != 0 {
		t.Errorf("the phone got %d MESSAGEs to a forged token", n)
	}
}
