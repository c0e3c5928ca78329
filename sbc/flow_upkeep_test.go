package sbc

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// timerCall plays a call set-up whose phone INVITE and PBX 200 carry extra
// headers, up to the phone's ACK.
func (b *flowBed) timerCall(t *testing.T, phoneHeaders, pbxHeaders []string) *setUpTrace {
	t.Helper()
	tr := &setUpTrace{phone: newPhoneCall()}
	inv := b.invite(tr.phone)
	if len(phoneHeaders) > 0 {
		inv = strings.Replace(inv, "Contact: ", strings.Join(phoneHeaders, "\r\n")+"\r\nContact: ", 1)
	}
	b.phone.Send(t, inv)
	tr.bInvite = b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	bInv := tr.bInvite.(*sip.Request)
	tr.pbx = &pbxCall{invite: bInv, callID: bInv.CallID().Value(), bTag: fromTagOf(bInv),
		tag: "pbx" + randomHex(4), bContact: contactOf(t, bInv), cseq: 100}
	hs := append([]string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">", "Content-Type: application/sdp"}, pbxHeaders...)
	b.pbx.SendTo(t, parseAddrPort(bInv.Source()), replyTo(bInv, 200, "OK", tr.pbx.tag, hs, sdpBody(pbxIP, 6000)))
	tr.ok = b.phone.Expect(t, wait, "200 OK for INVITE", isResponse(200, sip.INVITE))
	tr.phone.aTag = toTagOf(tr.ok)
	tr.phone.aContact = contactOf(t, tr.ok)
	tr.bAck = b.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, tr.pbx.callID))
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
	return tr
}

func headerValue(m sip.Message, name string) string {
	var vs []string
	for _, h := range m.GetHeaders(name) {
		vs = append(vs, h.Value())
	}
	return strings.Join(vs, ", ")
}

// RFC 4028 §8.1: a Session-Expires below natsbc's Min-SE gets 422 naming
// it, and no call is started.
func TestFlowSessionTimer422(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	b.phone.Send(t, strings.Replace(b.invite(pc), "Contact: ", "Supported: timer\r\nSession-Expires: 30\r\nContact: ", 1))
	res := b.phone.Expect(t, wait, "422 for a 30 s session interval", isResponse(422, sip.INVITE))
	if got := headerValue(res, "Min-SE"); got != "90" {
		t.Errorf("422 Min-SE = %q, want natsbc's 90", got)
	}
	if got := b.pbx.TakeAll(isRequest(sip.INVITE)); len(got) != 0 {
		t.Errorf("the PBX got an INVITE for a rejected session interval")
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after 422", n)
	}
}

// The phone asks to refresh a 2 s session itself and never does; the PBX
// uses no session timer but allows UPDATE. natsbc states its own timer on
// the B-leg, refreshes the B-leg with an UPDATE without SDP at half the
// interval, and at the A-leg's expiry (2 s - 2/3 s) ends the call with BYE
// on both legs and a log line naming the leg.
func TestFlowSessionTimerExpiry(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.SessionExpires, c.MinSE = 2*time.Second, time.Second })
	tr := b.timerCall(t, []string{"Supported: timer", "Session-Expires: 2;refresher=uac", "Min-SE: 1", "Allow: INVITE, ACK, BYE"},
		[]string{"Allow: INVITE, ACK, BYE, UPDATE"})
	answeredAt := time.Now()
	inv := tr.bInvite.(*sip.Request)
	if got := headerValue(inv, "Session-Expires"); got != "2" {
		t.Errorf("B-leg INVITE Session-Expires = %q, want natsbc's own 2 (no refresher: the callee chooses)", got)
	}
	if got := headerValue(inv, "Min-SE"); got != "1" {
		t.Errorf("B-leg INVITE Min-SE = %q, want natsbc's 1", got)
	}
	if !hasToken(inv, "Supported", "timer") {
		t.Errorf("B-leg INVITE lacks Supported: timer:\n%s", inv)
	}
	if got := headerValue(tr.ok, "Session-Expires"); got != "2;refresher=uac" {
		t.Errorf("200 to the phone Session-Expires = %q, want 2;refresher=uac (the phone asked to refresh)", got)
	}
	if !hasToken(tr.ok, "Require", "timer") {
		t.Errorf("200 to the phone lacks Require: timer (RFC 4028 §9):\n%s", tr.ok)
	}

	upd := b.pbx.Expect(t, wait, "natsbc's UPDATE refreshing the B-leg", isRequestIn(sip.UPDATE, tr.pbx.callID))
	if at := time.Since(answeredAt); at < 700*time.Millisecond || at > 1500*time.Millisecond {
		t.Errorf("UPDATE came %v after the answer, want about 1 s (half the interval)", at)
	}
	if len(upd.Body()) != 0 || headerValue(upd, "Session-Expires") != "2;refresher=uac" {
		t.Errorf("refresh UPDATE: body %q, Session-Expires %q; want no SDP and 2;refresher=uac", upd.Body(), headerValue(upd, "Session-Expires"))
	}
	answer(t, b.pbx, upd, 200, "OK", "", nil, "")
	if got := b.phone.TakeAll(isRequest(sip.UPDATE)); len(got) != 0 {
		t.Errorf("natsbc refreshed the phone, which said it refreshes itself")
	}

	bye := b.phone.Expect(t, wait, "BYE to the phone at the session's expiry", isRequestIn(sip.BYE, tr.phone.callID))
	if at := time.Since(answeredAt); at < 1100*time.Millisecond || at > 2*time.Second {
		t.Errorf("BYE came %v after the answer, want about 1.33 s (RFC 4028 §10)", at)
	}
	if !strings.Contains(headerValue(bye, "Reason"), "session timer") {
		t.Errorf("BYE Reason = %q, want it to say the session timer expired", headerValue(bye, "Reason"))
	}
	answer(t, b.phone, bye, 200, "OK", "", nil, "")
	pbxBye := b.pbx.Expect(t, wait, "BYE to the PBX at the session's expiry", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, pbxBye, 200, "OK", "", nil, "")
	rec, err := b.log.waitFor("session timer expired, ending call", wait)
	if err != nil || rec["leg"] != "a" {
		t.Fatalf("log line %v (%v), want one naming leg a", rec, err)
	}
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "session-expired" {
		t.Fatalf("call ended %v (%v), want reason session-expired", rec, err)
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after expiry", n)
	}
}

// The PBX vanished: natsbc's refresh UPDATE (the PBX uses no timer of its
// own) goes unanswered, and natsbc ends the call with BYE on both legs: a
// dead call ends without any media relay (the flow bed anchors none).
func TestFlowSessionRefreshUnanswered(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.SessionExpires, c.MinSE = 2*time.Second, time.Second })
	// The phone refreshes its own leg, on a 30 s interval (its Min-SE):
	// only the B-leg is natsbc's to refresh within the test.
	tr := b.timerCall(t, []string{"Supported: timer", "Session-Expires: 30;refresher=uac", "Min-SE: 30"},
		[]string{"Allow: INVITE, ACK, BYE, UPDATE"})
	if got := headerValue(tr.ok, "Session-Expires"); got != "30;refresher=uac" {
		t.Errorf("200 to the phone Session-Expires = %q, want 30;refresher=uac (its Min-SE raises natsbc's 2 s)", got)
	}
	b.pbx.Expect(t, wait, "natsbc's refresh UPDATE", isRequestIn(sip.UPDATE, tr.pbx.callID))
	// Not answered: the PBX is gone.
	bye := b.phone.Expect(t, wait, "BYE to the phone after the unanswered refresh", isRequestIn(sip.BYE, tr.phone.callID))
	if !strings.Contains(headerValue(bye, "Reason"), "session refresh failed") {
		t.Errorf("BYE Reason = %q, want it to say the session refresh failed", headerValue(bye, "Reason"))
	}
	answer(t, b.phone, bye, 200, "OK", "", nil, "")
	b.pbx.Expect(t, wait, "BYE to the PBX too", isRequestIn(sip.BYE, tr.pbx.callID))
	rec, err := b.log.waitFor("session refresh failed, ending call", wait)
	if err != nil || rec["leg"] != "b" || rec["outcome"] != "no-answer" {
		t.Fatalf("log line %v (%v), want one naming leg b, outcome no-answer", rec, err)
	}
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "session-refresh-b" {
		t.Fatalf("call ended %v (%v), want reason session-refresh-b", rec, err)
	}
}

// Neither side uses session timers nor allows UPDATE: natsbc refreshes each
// leg with a re-INVITE offering again the SDP it last sent on that leg
// (the call's media unchanged), ACKs the 2xx, and the call goes on.
func TestFlowSessionRefreshByReinvite(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.SessionExpires, c.MinSE = 2*time.Second, time.Second })
	tr := b.timerCall(t, nil, nil)
	if got := headerValue(tr.ok, "Session-Expires"); got != "2;refresher=uas" {
		t.Errorf("200 to the phone Session-Expires = %q, want 2;refresher=uas (natsbc refreshes)", got)
	}
	if hasToken(tr.ok, "Require", "timer") {
		t.Errorf("200 to a phone without timer support requires it:\n%s", tr.ok)
	}
	// Both legs fall due together; natsbc sends one re-INVITE at a time
	// (RFC 3261 §14.1), in either order, so each peer answers on its own.
	for round := range 2 {
		phoneDone := make(chan error, 1)
		go func() {
			phoneDone <- answerRefresh(b.phone, tr.phone.callID, tr.ok.Body(), "",
				[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, sdpBody(privateIP, 4000))
		}()
		if err := answerRefresh(b.pbx, tr.pbx.callID, tr.bInvite.Body(), tr.pbx.tag,
			[]string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">", "Content-Type: application/sdp"}, sdpBody(pbxIP, 6000)); err != nil {
			t.Errorf("round %d: B-leg: %v", round, err)
		}
		if err := <-phoneDone; err != nil {
			t.Errorf("round %d: A-leg: %v", round, err)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if n := b.srv.ActiveCalls(); n != 1 {
		t.Fatalf("ActiveCalls = %d after two refreshes, want the call up", n)
	}
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
}

// The NATed phone's flow gets an in-dialog OPTIONS every keepalive interval
// for the whole call (the PBX's, not NATed, none). When it stops answering,
// max_missed later natsbc ends the call with BYE on both legs and a log
// line naming the leg.
func TestFlowCallKeepaliveAndDeadLeg(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) {
		c.Keepalive = KeepaliveConfig{Method: KeepaliveOptions, Interval: 200 * time.Millisecond, MaxMissed: 2}
	})
	tr := b.establish(t)
	for range 3 {
		opt := b.phone.Expect(t, wait, "keepalive OPTIONS on the A-leg", isRequestIn(sip.OPTIONS, tr.phone.callID))
		if toTagOf(opt) != tr.phone.tag || fromTagOf(opt) != tr.phone.aTag {
			t.Errorf("keepalive is not in the A-leg dialog: From tag %q To tag %q", fromTagOf(opt), toTagOf(opt))
		}
		if got := uriAddr(t, opt.(*sip.Request).Recipient); got != b.phone.addr() {
			t.Errorf("keepalive Request-URI %s, want the phone's real flow %s", opt.(*sip.Request).Recipient.String(), b.phone.addr())
		}
		answer(t, b.phone, opt, 200, "OK", "", nil, "")
	}
	stopped := time.Now()
	// The phone is gone: nothing answers any more.
	bye := b.pbx.Expect(t, 2*wait, "BYE to the PBX for the dead A-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	if at := time.Since(stopped); at < 300*time.Millisecond {
		t.Errorf("the call ended %v after the last answer, before 2 keepalives could be missed", at)
	}
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
	b.phone.Expect(t, wait, "BYE to the phone (both legs get one)", isRequestIn(sip.BYE, tr.phone.callID))
	rec, err := b.log.waitFor("leg dead: keepalives unanswered, ending call", wait)
	if err != nil || rec["leg"] != "a" {
		t.Fatalf("log line %v (%v), want one naming leg a", rec, err)
	}
	if got := b.pbx.TakeAll(isRequest(sip.OPTIONS)); len(got) != 0 {
		t.Errorf("the PBX (not NATed) got %d keepalives", len(got))
	}
}

// The upkeep of a call ends with the call: after the phone's BYE, with a
// keepalive in flight and a session timer running, every goroutine the call
// started is gone while natsbc goes on serving. Not parallel: it counts the
// process's goroutines.
func TestFlowUpkeepFreedOnBye(t *testing.T) {
	b := newFlowBed(t, func(c *Config) {
		// Neither ends the call by itself within the test.
		c.Keepalive = KeepaliveConfig{Method: KeepaliveOptions, Interval: 50 * time.Millisecond, MaxMissed: 100}
	})
	before := runtime.NumGoroutine()
	tr := b.establish(t)
	// The first keepalive is left unanswered: its transaction is in flight.
	b.phone.Expect(t, wait, "keepalive OPTIONS", isRequestIn(sip.OPTIONS, tr.phone.callID))
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "bye-from-a" {
		t.Fatalf("call ended %v (%v), want bye-from-a", rec, err)
	}
	// The call's own goroutines go at once; sipgo keeps finished
	// transactions for 64*T1 (640 ms here).
	waitNoGoroutine(t, "sbc.(*upkeep).run", wait)
	waitNoGoroutine(t, "sbc.callUpkeep.", wait)
	waitGoroutines(t, before, 3*time.Second)
}

// waitNoGoroutine waits until no goroutine's stack has a frame naming fn.
func waitNoGoroutine(t *testing.T, fn string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 1<<20)
	for {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, fn) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a goroutine in %s still runs %v after the call ended:\n%s", fn, timeout, stacks)
		}
		// Goroutine exit is no event a test can wait on: poll briefly.
		time.Sleep(5 * time.Millisecond)
	}
}

// answerRefresh waits for natsbc's re-INVITE refreshing p's dialog, checks
// it offers again want (the SDP natsbc last sent p), answers 200 and waits
// for natsbc's ACK. It reports instead of failing: it runs on a goroutine.
func answerRefresh(p *testPeer, callID string, want []byte, tag string, headers []string, body string) error {
	m, ok := p.tryExpect(wait, isRequestIn(sip.INVITE, callID))
	if !ok {
		return fmt.Errorf("no re-INVITE refreshing the session within %v\n%s", wait, p.dump())
	}
	if string(m.Body()) != string(want) {
		return fmt.Errorf("refresh offers\n%s\nwant what natsbc sent this peer before:\n%s", m.Body(), want)
	}
	if _, err := p.conn.WriteToUDPAddrPort([]byte(replyTo(m, 200, "OK", tag, headers, body)), parseAddrPort(m.Source())); err != nil {
		return err
	}
	seq := m.CSeq().SeqNo
	if _, ok := p.tryExpect(wait, func(a sip.Message) bool {
		return isRequestIn(sip.ACK, callID)(a) && a.CSeq().SeqNo == seq
	}); !ok {
		return fmt.Errorf("no ACK for the refresh's 2xx within %v", wait)
	}
	return nil
}

// An UPDATE of the phone in the early dialog reaches the PBX with natsbc's
// own session interval and no refresher (none is negotiated on the B-leg
// before its 2xx, RFC 4028 §7.1), never the zero interval written as 1 s
// below natsbc's own Min-SE.
func TestFlowEarlyUpdateOffersOwnInterval(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil)
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	b.phoneGets(t, 183)
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.UPDATE, 0,
		[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	upd := b.flowBed.pbx.Expect(t, wait, "UPDATE on the B-leg", isRequestIn(sip.UPDATE, b.pbx.callID))
	if got := headerValue(upd, "Session-Expires"); got != "1800" {
		t.Errorf("early UPDATE Session-Expires = %q, want natsbc's 1800 without refresher", got)
	}
	if got := headerValue(upd, "Min-SE"); got != "90" {
		t.Errorf("early UPDATE Min-SE = %q, want natsbc's 90", got)
	}
}

// natsbc's refresh re-INVITE is an offer (the SDP it sent before): while
// the phone's UPDATE offer waits for the PBX's answer, natsbc's refresh of
// the B-leg is deferred, nothing sent (RFC 3264 §4: one offer outstanding
// at a time); once the UPDATE is answered the refresh goes out. The
// refresh is driven by hand: a 64*T1 UPDATE outlives no timer-driven one.
func TestFlowRefreshWaitsForPendingOffer(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.timerCall(t, nil, nil) // no timers, no UPDATE: natsbc refreshes by re-INVITE
	c, _, ok := b.srv.calls.lookup(tr.pbx.callID, tr.pbx.bTag)
	if !ok {
		t.Fatal("the call is not in the table")
	}
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.UPDATE, 0,
		[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	upd := b.pbx.Expect(t, wait, "the phone's UPDATE on the B-leg", isRequestIn(sip.UPDATE, tr.pbx.callID))
	if out := (callUpkeep{c}).refresh(t.Context(), media.LegB, false); out != busy {
		t.Errorf("refresh with the UPDATE's offer pending: %v, want busy", out)
	}
	if got := b.pbx.TakeAll(isRequestIn(sip.INVITE, tr.pbx.callID)); len(got) != 0 {
		t.Errorf("the PBX got a refresh re-INVITE crossing its pending UPDATE:\n%s", got[0])
	}
	answer(t, b.pbx, upd, 200, "OK", "", []string{"Content-Type: application/sdp"}, sdpBody(pbxIP, 6002))
	b.phone.Expect(t, wait, "200 for the UPDATE", isResponse(200, sip.UPDATE))
	// The slot is freed just after the 200 goes out.
	if _, err := b.log.waitFor("offer exchange over", wait); err != nil {
		t.Fatalf("the UPDATE's offer exchange did not end: %v", err)
	}

	done := make(chan outcome, 1)
	go func() { done <- (callUpkeep{c}).refresh(t.Context(), media.LegB, false) }()
	_, sent := c.up.lastSDP(media.LegB)
	if err := answerRefresh(b.pbx, tr.pbx.callID, sent, tr.pbx.tag,
		[]string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">", "Content-Type: application/sdp"}, sdpBody(pbxIP, 6002)); err != nil {
		t.Fatal(err)
	}
	if out := <-done; out != answered {
		t.Errorf("refresh once the UPDATE is answered: %v, want answered", out)
	}
}

// The PBX answers natsbc's refresh UPDATE 422 naming a Min-SE of 3 s:
// natsbc asks again at once, in a new transaction, for 3 s with Min-SE 3
// (RFC 4028 §7.4), and the leg keeps the larger interval; the call goes
// on.
func TestFlowRefreshRetriedAfter422(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.SessionExpires, c.MinSE = 2*time.Second, time.Second })
	// The phone refreshes its own leg on 30 s: only the B-leg is natsbc's.
	tr := b.timerCall(t, []string{"Supported: timer", "Session-Expires: 30;refresher=uac", "Min-SE: 30"},
		[]string{"Allow: INVITE, ACK, BYE, UPDATE"})
	first := b.pbx.Expect(t, 2*wait, "natsbc's refresh UPDATE", isRequestIn(sip.UPDATE, tr.pbx.callID))
	if got := headerValue(first, "Session-Expires"); got != "2;refresher=uac" {
		t.Fatalf("refresh Session-Expires = %q, want 2;refresher=uac", got)
	}
	answer(t, b.pbx, first, 422, "Session Interval Too Small", "", []string{"Min-SE: 3"}, "")
	retry := b.pbx.Expect(t, wait, "the refresh asked again", func(m sip.Message) bool {
		return isRequestIn(sip.UPDATE, tr.pbx.callID)(m) && m.CSeq().SeqNo != first.CSeq().SeqNo
	})
	if got := headerValue(retry, "Session-Expires"); got != "3;refresher=uac" {
		t.Errorf("retried refresh Session-Expires = %q, want 3;refresher=uac (the 422's Min-SE)", got)
	}
	if got := headerValue(retry, "Min-SE"); got != "3" {
		t.Errorf("retried refresh Min-SE = %q, want 3 (RFC 4028 §7.4)", got)
	}
	if retry.CSeq().SeqNo <= first.CSeq().SeqNo {
		t.Errorf("retried refresh CSeq %d, want above the first's %d", retry.CSeq().SeqNo, first.CSeq().SeqNo)
	}
	answer(t, b.pbx, retry, 200, "OK", "", []string{"Session-Expires: 3;refresher=uac", "Require: timer"}, "")
	if _, err := b.log.waitFor("session refreshed by natsbc", wait); err != nil {
		t.Fatalf("the retried refresh did not complete: %v", err)
	}
	c, _, ok := b.srv.calls.lookup(tr.pbx.callID, tr.pbx.bTag)
	if !ok {
		t.Fatal("the call ended after the retried refresh")
	}
	if got := c.up.timer(media.LegB); got.interval != 3*time.Second || got.floor != 3*time.Second {
		t.Errorf("B-leg timer after the retry: %+v, want interval and floor 3s", got)
	}
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
}

// The PBX answers the B-leg INVITE 422 naming a Min-SE of 3600 s, above
// natsbc's 1800: natsbc sends the INVITE again (RFC 4028 §7.4) as a new
// transaction of the same dialog, with Session-Expires and Min-SE 3600;
// the phone hears nothing of the 422, and the B-leg keeps the larger
// interval. A second 422 goes to the phone: natsbc asks again once.
func TestFlowInitialInviteRetriedAfter422(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	first := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	answer(t, b.pbx, first, 422, "Session Interval Too Small", "pbx422", []string{"Min-SE: 3600"}, "")
	retry := b.pbx.Expect(t, wait, "the B-leg INVITE sent again", func(m sip.Message) bool {
		return isRequestIn(sip.INVITE, first.CallID().Value())(m) && m.CSeq().SeqNo != first.CSeq().SeqNo
	}).(*sip.Request)
	if got := headerValue(retry, "Session-Expires"); got != "3600" {
		t.Errorf("INVITE after 422 Session-Expires = %q, want 3600 (no refresher: the callee chooses)", got)
	}
	if got := headerValue(retry, "Min-SE"); got != "3600" {
		t.Errorf("INVITE after 422 Min-SE = %q, want 3600", got)
	}
	if retry.CSeq().SeqNo <= first.CSeq().SeqNo || fromTagOf(retry) != fromTagOf(first) || toTagOf(retry) != "" {
		t.Errorf("INVITE after 422: CSeq %d From tag %q To tag %q; want CSeq above %d, From tag %q, no To tag",
			retry.CSeq().SeqNo, fromTagOf(retry), toTagOf(retry), first.CSeq().SeqNo, fromTagOf(first))
	}
	if retry.Via().Params.GetOr("branch", "") == first.Via().Params.GetOr("branch", "") {
		t.Errorf("INVITE after 422 reuses the first's Via branch: it is a new transaction")
	}
	if string(retry.Body()) != string(first.Body()) {
		t.Errorf("INVITE after 422 offers\n%s\nwant the first INVITE's offer\n%s", retry.Body(), first.Body())
	}
	if got := b.phone.TakeAll(isResponse(422, sip.INVITE)); len(got) != 0 {
		t.Errorf("the phone got the 422 natsbc handled")
	}
	answer(t, b.pbx, retry, 200, "OK", "pbx", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">",
		"Session-Expires: 3600;refresher=uac", "Require: timer", "Content-Type: application/sdp"}, sdpBody(pbxIP, 6000))
	ok := b.phone.Expect(t, wait, "200 OK for INVITE", isResponse(200, sip.INVITE))
	ack := b.pbx.Expect(t, wait, "natsbc's ACK for the 200", func(m sip.Message) bool {
		return isRequestIn(sip.ACK, first.CallID().Value())(m) && toTagOf(m) == "pbx"
	})
	if ack.CSeq().SeqNo != retry.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, want the answered INVITE's %d", ack.CSeq().SeqNo, retry.CSeq().SeqNo)
	}
	c, _, found := b.srv.calls.lookup(first.CallID().Value(), fromTagOf(first))
	if !found {
		t.Fatal("the call is not in the table")
	}
	if got := c.up.timer(media.LegB); got.interval != 3600*time.Second || got.floor != 3600*time.Second {
		t.Errorf("B-leg timer = %+v, want interval and floor 3600s", got)
	}
	pc.aTag, pc.aContact = toTagOf(ok), contactOf(t, ok)
	b.phone.Send(t, b.phoneInDialog(pc, sip.ACK, 1, nil, ""))
	b.phone.Send(t, b.phoneInDialog(pc, sip.BYE, 0, nil, ""))
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, first.CallID().Value()))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")

	t.Run("second 422 goes to the phone", func(t *testing.T) {
		pc := newPhoneCall()
		b.phone.Send(t, b.invite(pc))
		first := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
		answer(t, b.pbx, first, 422, "Session Interval Too Small", "pbx422", []string{"Min-SE: 3600"}, "")
		retry := b.pbx.Expect(t, wait, "the B-leg INVITE sent again", func(m sip.Message) bool {
			return isRequestIn(sip.INVITE, first.CallID().Value())(m) && m.CSeq().SeqNo != first.CSeq().SeqNo
		})
		answer(t, b.pbx, retry, 422, "Session Interval Too Small", "pbx422b", []string{"Min-SE: 7200"}, "")
		b.phone.Expect(t, wait, "the second 422", isResponse(422, sip.INVITE))
		if got := b.pbx.TakeAll(isRequestIn(sip.INVITE, first.CallID().Value())); len(got) != 0 {
			t.Errorf("natsbc asked a third time:\n%s", got[0])
		}
		if rec, err := b.log.waitForCall("call ended", pc.callID, wait); err != nil || rec["reason"] != "rejected" {
			t.Errorf("call ended %v (%v), want reason rejected", rec, err)
		}
	})
}
