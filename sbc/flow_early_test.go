package sbc

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
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
	rseq := mustHeader(t, res, "RSeq")
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

func mustHeader(t *testing.T, m sip.Message, name string) string {
	t.Helper()
	hs := m.GetHeaders(name)
	if len(hs) == 0 {
		t.Fatalf("no %s header in\n%s", name, m)
	}
	return strings.TrimSpace(hs[0].Value())
}

func hasHeaderToken(m sip.Message, name, token string) bool { return hasToken(m, name, token) }

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
	if toTagOf(px) != "forkX" || !strings.HasPrefix(mustHeader(t, px, "RAck"), "11 ") {
		t.Errorf("PRACK for the 180 went to tag %q with RAck %q, want forkX / 11", toTagOf(px), mustHeader(t, px, "RAck"))
	}
	answer(t, b.flowBed.pbx, px, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for PRACK X", isResponse(200, sip.PRACK))

	y := b.phoneGets(t, 183)
	if toTagOf(y) != toTagOf(x) {
		t.Errorf("the forks reached the phone on two dialogs (%q, %q); natsbc collapses them", toTagOf(x), toTagOf(y))
	}
	b.flowBed.phone.Send(t, b.phonePrack(t, y, nil, ""))
	py := b.flowBed.pbx.Expect(t, wait, "PRACK to fork Y", isRequestIn(sip.PRACK, b.pbx.callID))
	if toTagOf(py) != "forkY" || !strings.HasPrefix(mustHeader(t, py, "RAck"), "21 ") {
		t.Errorf("PRACK for the 183 went to tag %q with RAck %q, want forkY / 21", toTagOf(py), mustHeader(t, py, "RAck"))
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
