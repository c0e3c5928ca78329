package sbc

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// largeOffer and largeAnswer are about 2 KB of audio + video SDP.
var (
	largeOffer  = largeSDP(privateIP, 4000, 2048)
	largeAnswer = largeSDP(pbxIP, 6000, 2048)
)

// A 2 KB INVITE and its 2 KB 200 OK cross natsbc over UDP when natsbc has
// no TCP towards the PBX: each is one datagram (sipgo's 1300-byte refusal
// is lifted), the body arrives whole, both ACKs and the BYE follow.
func TestLargeInviteAnd2xxOverUDP(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{})
	pc := newPhoneCall()
	b.phone.Send(t, b.inviteWith(pc, largeOffer))
	inv := b.pbx.Expect(t, wait, "the 2 KB B-leg INVITE over UDP", isRequest(sip.INVITE)).(*sip.Request)
	assertLarge(t, "B-leg INVITE", inv, largeOffer)

	tag := "pbx" + randomHex(4)
	answer(t, b.pbx, inv, 200, "OK", tag, []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">", "Content-Type: application/sdp"}, largeAnswer)
	ok := b.phone.Expect(t, wait, "the 2 KB 200 OK over UDP", isResponse(200, sip.INVITE))
	assertLarge(t, "200 OK to the phone", ok, largeAnswer)
	b.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, inv.CallID().Value()))

	b.hangUpFromPhone(t, pc, ok, inv)
	b.assertNoSendFailure(t)
}

// With TCP on both sides, the 2 KB INVITE goes over TCP (RFC 3261 §18.1.1)
// with TCP in its Via and natsbc's TCP socket as sent-by; its Contact stays
// natsbc's UDP address (the dialog stays UDP). The PBX answers on the
// connection; the ACK and BYE, small, go over UDP to the PBX's Contact.
func TestLargeInviteOverTCPWhenPeerHasTCP(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{insideTCP: true, pbxTCP: true})
	pc := newPhoneCall()
	b.phone.Send(t, b.inviteWith(pc, largeOffer))
	inv := b.pbxTCP.Expect(t, "the 2 KB B-leg INVITE over TCP").msg.(*sip.Request)
	assertLarge(t, "B-leg INVITE", inv, largeOffer)
	if via := inv.Via(); via.Transport != "TCP" || via.SentBy() != b.insideTCP.String() {
		t.Errorf("B-leg INVITE Via %q, want SIP/2.0/TCP %s", via.Value(), b.insideTCP)
	}
	c := contactOf(t, inv)
	if tr, _ := c.UriParams.Get("transport"); uriAddr(t, c) != b.inside || tr != "" {
		t.Errorf("B-leg Contact %s, want natsbc's UDP socket %s (the dialog stays UDP)", c.String(), b.inside)
	}

	tag := "pbx" + randomHex(4)
	contact := "Contact: <sip:1000@" + b.pbx.addr().String() + ">"
	b.pbxTCP.Reply(t, replyTo(inv, 180, "Ringing", tag, []string{contact}, ""))
	b.phone.Expect(t, wait, "180 Ringing", isResponse(180, sip.INVITE))
	b.pbxTCP.Reply(t, replyTo(inv, 200, "OK", tag, []string{contact, "Content-Type: application/sdp"}, largeAnswer))
	ok := b.phone.Expect(t, wait, "the 2 KB 200 OK over UDP", isResponse(200, sip.INVITE))
	assertLarge(t, "200 OK to the phone", ok, largeAnswer)
	ack := b.pbx.Expect(t, wait, "natsbc's ACK over UDP", isRequestIn(sip.ACK, inv.CallID().Value()))
	if ack.Via().Transport != "UDP" {
		t.Errorf("ACK Via %q, want UDP", ack.Via().Value())
	}

	b.hangUpFromPhone(t, pc, ok, inv)
	if recs := b.log.lines("large request sent over TCP"); len(recs) != 1 || recs[0]["leg"] != "b" {
		t.Errorf("`large request sent over TCP` lines = %v, want one for leg b", recs)
	}
	b.assertNoSendFailure(t)
}

// A CANCEL follows the INVITE it cancels onto TCP, with the INVITE's top
// Via (RFC 3261 §9.1).
func TestLargeInviteOverTCPCancelled(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{insideTCP: true, pbxTCP: true})
	pc := newPhoneCall()
	b.phone.Send(t, b.inviteWith(pc, largeOffer))
	inv := b.pbxTCP.Expect(t, "the 2 KB B-leg INVITE over TCP").msg.(*sip.Request)
	tag := "pbx" + randomHex(4)
	b.pbxTCP.Reply(t, replyTo(inv, 180, "Ringing", tag, nil, ""))
	b.phone.Expect(t, wait, "180 Ringing", isResponse(180, sip.INVITE))
	b.phone.Send(t, sipMsg("CANCEL sip:1000@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + pc.branch,
		"Max-Forwards: 70",
		"From: \"Phone\" <sip:2000@" + privateIP + ">;tag=" + pc.tag,
		"To: <sip:1000@" + b.outside.String() + ">",
		"Call-ID: " + pc.callID,
		"CSeq: 1 CANCEL",
	}, ""))
	cancel := b.pbxTCP.Expect(t, "CANCEL over TCP").msg
	if r, ok := cancel.(*sip.Request); !ok || r.Method != sip.CANCEL {
		t.Fatalf("got %s, want the CANCEL", cancel.String())
	}
	if cancel.Via().Value() != inv.Via().Value() {
		t.Errorf("CANCEL Via %q, want the INVITE's %q", cancel.Via().Value(), inv.Via().Value())
	}
	b.pbxTCP.Reply(t, replyTo(cancel, 200, "OK", tag, nil, ""))
	b.pbxTCP.Reply(t, replyTo(inv, 487, "Request Terminated", tag, nil, ""))
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatalf("no `call ended`: %v", err)
	}
}

// The PBX has no TCP: the connection is refused, the INVITE goes as one
// UDP datagram, one info line says so, and the next call does not try
// again.
func TestLargeInviteFallsBackToUDPWhenTCPRefused(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{insideTCP: true})
	for call := range 2 {
		pc := newPhoneCall()
		b.phone.Send(t, b.inviteWith(pc, largeOffer))
		inv := b.pbx.Expect(t, wait, "the 2 KB B-leg INVITE over UDP", isRequest(sip.INVITE)).(*sip.Request)
		assertLarge(t, "B-leg INVITE", inv, largeOffer)
		if inv.Via().Transport != "UDP" || inv.Via().SentBy() != b.inside.String() {
			t.Errorf("call %d: B-leg Via %q, want UDP from %s", call, inv.Via().Value(), b.inside)
		}
		answer(t, b.pbx, inv, 486, "Busy Here", "pbx"+randomHex(4), nil, "")
		b.phone.Expect(t, wait, "486", isResponse(486, sip.INVITE))
	}
	recs := b.log.lines("large request sent as one UDP datagram: next hop refuses TCP")
	if len(recs) != 1 {
		t.Fatalf("%d fallback lines, want 1 (the second call remembers): %v", len(recs), recs)
	}
	if r := recs[0]; r["leg"] != "b" || r["to"] != b.pbx.addr().String() || r["bytes"].(float64) <= udpSizeLimit {
		t.Errorf("fallback line %v: want leg b, to %s, bytes > %d", r, b.pbx.addr(), udpSizeLimit)
	}
}

// large_requests: udp keeps large requests on UDP although the PBX has TCP.
func TestLargeRequestsUDPKnob(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{insideTCP: true, pbxTCP: true, largeRequests: "udp"})
	pc := newPhoneCall()
	b.phone.Send(t, b.inviteWith(pc, largeOffer))
	inv := b.pbx.Expect(t, wait, "the 2 KB B-leg INVITE over UDP", isRequest(sip.INVITE)).(*sip.Request)
	assertLarge(t, "B-leg INVITE", inv, largeOffer)
	select {
	case r := <-b.pbxTCP.in:
		t.Errorf("the PBX got over TCP:\n%s", r.raw)
	default:
	}
}

// An INVITE natsbc cannot write is a warning naming leg b and the size; the
// caller gets 503 and the call ends.
func TestInviteNotSentWarns(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{capInside: 1400})
	pc := newPhoneCall()
	b.phone.Send(t, b.inviteWith(pc, largeOffer))
	b.phone.Expect(t, wait, "503", isResponse(503, sip.INVITE))
	rec, err := b.log.waitFor("request not sent", wait)
	if err != nil {
		t.Fatalf("no `request not sent` line: %v", err)
	}
	if rec["level"] != "WARN" || rec["leg"] != "b" || rec["method"] != "INVITE" || rec["bytes"].(float64) <= 1400 ||
		rec["transport"] != "UDP" || !strings.Contains(rec["error"].(string), "message too long") {
		t.Errorf("`request not sent` = %v; want WARN, leg b, INVITE, bytes > 1400, UDP, the socket's error", rec)
	}
	if ended, err := b.log.waitFor("call ended", wait); err != nil || ended["reason"] != "rejected" {
		t.Errorf("call ended = %v, %v; want reason rejected", ended, err)
	}
}

// A 2xx natsbc cannot write to the caller ends the call at once with reason
// 2xx-not-sent and a warning naming leg a and the size, never the no-ACK
// diagnosis that would blame the phone.
func Test2xxNotSentEndsCall(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{capOutside: 1400})
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	tag := "pbx" + randomHex(4)
	answer(t, b.pbx, inv, 200, "OK", tag, []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">", "Content-Type: application/sdp"}, largeAnswer)
	b.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, inv.CallID().Value()))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, inv.CallID().Value()))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
	if r := bye.GetHeaders("Reason"); len(r) == 0 || !strings.Contains(r[0].Value(), "2xx not sent") {
		t.Errorf("B-leg BYE Reason = %v, want 2xx not sent", r)
	}

	ended, err := b.log.waitFor("call ended", wait)
	if err != nil || ended["reason"] != "2xx-not-sent" {
		t.Fatalf("call ended = %v, %v; want reason 2xx-not-sent", ended, err)
	}
	res := b.log.lines("response not sent")
	if len(res) == 0 || res[0]["level"] != "WARN" || res[0]["leg"] != "a" || res[0]["status"].(float64) != 200 || res[0]["bytes"].(float64) <= 1400 {
		t.Fatalf("`response not sent` = %v; want WARN, leg a, 200, bytes > 1400", res)
	}
	g := b.log.lines("2xx not sent, ending call")
	if len(g) != 1 || g[0]["leg"] != "a" {
		t.Fatalf("`2xx not sent` lines = %v, want one for leg a", g)
	}
	// A datagram the socket refuses is not retried until 64*T1.
	if d := logTime(t, g[0]).Sub(logTime(t, res[0])); d >= 32*flowT1 {
		t.Errorf("natsbc gave up %v after the failed send, want at once (64*T1 = %v)", d, 64*flowT1)
	}
	if n := b.log.lines("no ACK for 2xx, ending call"); len(n) != 0 {
		t.Errorf("the no-ACK diagnosis blamed the phone: %v", n)
	}
	if got := b.phone.TakeAll(isResponse(200, sip.INVITE)); len(got) != 0 {
		t.Errorf("the phone got the 2xx natsbc says it could not send")
	}
}

func TestHopMemory(t *testing.T) {
	m := newHopMemory()
	now := time.Unix(0, 0)
	m.now = func() time.Time { return now }
	m.add("10.0.0.10:5060")
	if !m.recent("10.0.0.10:5060") || m.recent("10.0.0.11:5060") {
		t.Fatal("recent: want only the added hop")
	}
	now = now.Add(refusedTCPFor)
	if m.recent("10.0.0.10:5060") {
		t.Error("a hop is remembered past refusedTCPFor")
	}
	for i := range maxRefusedHops + 10 {
		m.add(joinHostPort("10.1.0.1", i+1))
	}
	if len(m.hops) > maxRefusedHops {
		t.Errorf("%d hops remembered, want at most %d", len(m.hops), maxRefusedHops)
	}
}

// assertLarge checks that m is over the UDP limit and carries body whole.
func assertLarge(t *testing.T, what string, m sip.Message, body string) {
	t.Helper()
	if n := messageSize(m); n <= udpSizeLimit {
		t.Errorf("%s is %d bytes, want > %d (the test's point)", what, n, udpSizeLimit)
	}
	if string(m.Body()) != body {
		t.Errorf("%s body differs (%d bytes, want %d)", what, len(m.Body()), len(body))
	}
}

// hangUpFromPhone ACKs the 2xx and hangs up from the phone; the BYE must
// reach the PBX and the call end as bye-from-a.
func (b *largeBed) hangUpFromPhone(t *testing.T, pc *phoneCall, ok sip.Message, inv *sip.Request) {
	t.Helper()
	pc.aTag, pc.aContact = toTagOf(ok), contactOf(t, ok)
	b.phone.Send(t, b.phoneInDialog(pc, sip.ACK, 1, nil, ""))
	b.phone.Send(t, b.phoneInDialog(pc, sip.BYE, 0, nil, ""))
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, inv.CallID().Value()))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
	rec, err := b.log.waitFor("call ended", wait)
	if err != nil || rec["reason"] != "bye-from-a" {
		t.Errorf("call ended = %v, %v; want reason bye-from-a", rec, err)
	}
}

func (b *largeBed) assertNoSendFailure(t *testing.T) {
	t.Helper()
	for _, msg := range []string{"request not sent", "response not sent", "ACK not sent", "no ACK for 2xx, ending call"} {
		if recs := b.log.lines(msg); len(recs) > 0 {
			t.Errorf("%q: %v", msg, recs)
		}
	}
}

// A NATed phone in a UDP call sends a large re-INVITE over TCP (as pjsip
// does, RFC 3261 §18.1.1). The answer returns on its connection; the
// dialog stays on the phone's UDP flow, so the PBX's later BYE reaches the
// phone's UDP socket, not the port of that connection.
func TestLargeReinviteFromPhoneOverTCP(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{outsideTCP: true})
	tr := b.establish(t)

	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(phoneIP)}}
	conn, err := d.Dial("tcp", b.outsideTCP.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reinvite := b.phoneInDialog(tr.phone, sip.INVITE, 0,
		[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, largeOffer)
	reinvite = strings.Replace(reinvite, "Via: SIP/2.0/UDP", "Via: SIP/2.0/TCP", 1)
	if _, err := io.WriteString(conn, reinvite); err != nil {
		t.Fatal(err)
	}
	inv := b.pbx.Expect(t, wait, "the large re-INVITE on the B-leg", isRequestIn(sip.INVITE, tr.pbx.callID))
	assertLarge(t, "B-leg re-INVITE", inv, largeOffer)
	answer(t, b.pbx, inv, 200, "OK", "", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">", "Content-Type: application/sdp"}, sdpBody(pbxIP, 6000))
	b.pbx.Expect(t, wait, "natsbc's ACK of the re-INVITE", isRequestIn(sip.ACK, tr.pbx.callID))

	_ = conn.SetReadDeadline(time.Now().Add(wait))
	raw, err := readStreamMessage(bufio.NewReader(conn))
	if err != nil {
		t.Fatalf("no 200 for the re-INVITE on the phone's connection: %v", err)
	}
	if !strings.HasPrefix(raw, "SIP/2.0 200") {
		t.Fatalf("phone got on its connection:\n%s", raw)
	}
	ack := b.phoneInDialog(tr.phone, sip.ACK, tr.phone.cseq, nil, "")
	if _, err := io.WriteString(conn, strings.Replace(ack, "Via: SIP/2.0/UDP", "Via: SIP/2.0/TCP", 1)); err != nil {
		t.Fatal(err)
	}

	b.pbx.Send(t, b.pbxInDialog(tr.pbx, sip.BYE, nil, ""))
	bye := b.phone.Expect(t, wait, "BYE on the phone's UDP flow", isRequestIn(sip.BYE, tr.phone.callID))
	answer(t, b.phone, bye, 200, "OK", "", nil, "")
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "bye-from-b" {
		t.Errorf("call ended = %v, %v; want bye-from-b", rec, err)
	}
}

// A 40 KB INVITE over UDP (above sipgo's default 32 KiB read buffer, below
// max_message_size) passes the datagram guard whole and reaches the PBX as
// one datagram.
func TestDatagramUpToMaxMessageSize(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{})
	offer := largeSDP(privateIP, 4000, 40<<10)
	pc := newPhoneCall()
	b.phone.Send(t, b.inviteWith(pc, offer))
	inv := b.pbx.Expect(t, wait, "the 40 KB B-leg INVITE", isRequest(sip.INVITE))
	assertLarge(t, "B-leg INVITE", inv, offer)
	if n := messageSize(inv); n <= 32768 {
		t.Errorf("B-leg INVITE is %d bytes, want > 32768 (the test's point)", n)
	}
	b.assertNoSendFailure(t)
}

func logTime(t *testing.T, rec map[string]any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, rec["time"].(string))
	if err != nil {
		t.Fatalf("log time %v: %v", rec["time"], err)
	}
	return at
}
