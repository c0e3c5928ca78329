package sbc

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// subscriber is the phone's side of one subscription.
type subscriber struct {
	callID, tag, natsbcTag string
	cseq                   int
}

// subscribe is the phone's SUBSCRIBE: initial (no natsbcTag yet) or in
// its dialog.
func (b *flowBed) subscribe(s *subscriber, expires int) string {
	s.cseq++
	to := "To: <sip:*97@example.com>"
	ruri := "sip:*97@" + b.outside.String()
	if s.natsbcTag != "" {
		to += ";tag=" + s.natsbcTag
	}
	return sipMsg("SUBSCRIBE "+ruri+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=z9hG4bK-sub" + randomHex(6),
		"Max-Forwards: 70",
		"From: <sip:alice@example.com>;tag=" + s.tag,
		to,
		"Call-ID: " + s.callID,
		"CSeq: " + strconv.Itoa(s.cseq) + " SUBSCRIBE",
		"Contact: <sip:alice@" + phoneViaHop + ">",
		"Event: message-summary",
		"Accept: application/simple-message-summary",
		"Expires: " + strconv.Itoa(expires),
	}, "")
}

// notifier is the PBX's side: its dialog as natsbc's SUBSCRIBE made it.
type notifier struct {
	callID, tag, natsbcTag string
	target                 sip.Uri // natsbc's Contact on the B-leg
	cseq                   int
}

func newNotifier(t *testing.T, sub *sip.Request) *notifier {
	return &notifier{callID: sub.CallID().Value(), tag: "pbx" + randomHex(3), natsbcTag: fromTagOf(sub), target: contactOf(t, sub)}
}

func (b *flowBed) notify(n *notifier, state, body string) string {
	n.cseq++
	return sipMsg("NOTIFY "+n.target.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-not" + randomHex(6),
		"Max-Forwards: 70",
		"From: <sip:*97@example.com>;tag=" + n.tag,
		"To: <sip:alice@example.com>;tag=" + n.natsbcTag,
		"Call-ID: " + n.callID,
		"CSeq: " + strconv.Itoa(n.cseq) + " NOTIFY",
		"Contact: <sip:*97@" + b.pbx.addr().String() + ">",
		"Event: message-summary",
		"Subscription-State: " + state,
		"Content-Type: application/simple-message-summary",
	}, body)
}

// startSubscription plays the phone's SUBSCRIBE up to the PBX's 200
// reaching the phone.
func (b *flowBed) startSubscription(t *testing.T) (*subscriber, *notifier) {
	t.Helper()
	s := &subscriber{callID: "sub-" + randomHex(6), tag: "ph" + randomHex(3)}
	b.phone.Send(t, b.subscribe(s, 600))
	out := b.pbx.Expect(t, wait, "SUBSCRIBE at the PBX", isRequest(sip.SUBSCRIBE)).(*sip.Request)
	if out.CallID().Value() == s.callID || strings.Contains(out.String(), privateIP) {
		t.Fatalf("SUBSCRIBE at the PBX carries the phone's Call-ID or private address:\n%s", out)
	}
	if ev := out.GetHeader("Event"); ev == nil || ev.Value() != "message-summary" {
		t.Errorf("SUBSCRIBE Event at the PBX %v", ev)
	}
	if ex := out.GetHeader("Expires"); ex == nil || ex.Value() != "600" {
		t.Errorf("SUBSCRIBE Expires at the PBX %v, want the phone's 600", ex)
	}
	n := newNotifier(t, out)
	b.pbx.SendTo(t, b.inside, replyTo(out, 200, "OK", n.tag, []string{"Contact: <sip:*97@" + b.pbx.addr().String() + ">", "Expires: 600"}, ""))
	ok := b.phone.Expect(t, wait, "200 to SUBSCRIBE at the phone", isResponse(200, sip.SUBSCRIBE)).(*sip.Response)
	s.natsbcTag = toTagOf(ok)
	if ex := ok.GetHeader("Expires"); ex == nil || ex.Value() != "600" {
		t.Errorf("200 to SUBSCRIBE Expires at the phone %v, want the PBX's 600", ex)
	}
	if c := contactOf(t, ok); c.Host != outsideIP {
		t.Errorf("200 to SUBSCRIBE Contact %s, want natsbc's outside address", c.String())
	}
	return s, n
}

// A subscription crosses natsbc as two dialogs: the PBX's NOTIFYs reach
// the phone at its flow in the phone's own dialog with the body untouched;
// a refresh and an un-subscribe reach the PBX in natsbc's dialog; the
// terminated NOTIFY ends it, and natsbc holds nothing after.
func TestFlowSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	s, n := b.startSubscription(t)
	if st := b.srv.Stats(); st.Subscriptions != 1 || st.ActiveCalls != 0 {
		t.Fatalf("Stats = %+v, want one subscription and no call", st)
	}

	b.pbx.SendTo(t, b.inside, b.notify(n, "active;expires=600", mwiBody))
	in := b.phone.Expect(t, wait, "NOTIFY at the phone", isRequestIn(sip.NOTIFY, s.callID)).(*sip.Request)
	if string(in.Body()) != mwiBody || fromTagOf(in) != s.natsbcTag || toTagOf(in) != s.tag || in.Recipient.User != "alice" {
		t.Errorf("NOTIFY at the phone: body %q, tags %s/%s, R-URI %s", in.Body(), fromTagOf(in), toTagOf(in), in.Recipient.String())
	}
	b.phone.Send(t, replyTo(in, 200, "OK", toTagOf(in), nil, ""))
	b.pbx.Expect(t, wait, "200 for the NOTIFY at the PBX", isResponse(200, sip.NOTIFY))

	b.phone.Send(t, b.subscribe(s, 600))
	refresh := b.pbx.Expect(t, wait, "refresh at the PBX", isRequestIn(sip.SUBSCRIBE, n.callID)).(*sip.Request)
	if toTagOf(refresh) != n.tag {
		t.Errorf("refresh To tag %q, want the PBX's %q", toTagOf(refresh), n.tag)
	}
	// RFC 3261 §12.2.1.1: natsbc's CSeq in its dialog goes up.
	if refresh.CSeq().SeqNo <= 1 {
		t.Errorf("refresh CSeq %d, want more than the initial SUBSCRIBE's 1", refresh.CSeq().SeqNo)
	}
	b.pbx.SendTo(t, b.inside, replyTo(refresh, 200, "OK", n.tag, []string{"Expires: 600"}, ""))
	b.phone.Expect(t, wait, "200 to the refresh", isResponse(200, sip.SUBSCRIBE))

	b.phone.Send(t, b.subscribe(s, 0))
	unsub := b.pbx.Expect(t, wait, "un-subscribe at the PBX", func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == sip.SUBSCRIBE && r.GetHeader("Expires") != nil && r.GetHeader("Expires").Value() == "0"
	}).(*sip.Request)
	b.pbx.SendTo(t, b.inside, replyTo(unsub, 200, "OK", n.tag, []string{"Expires: 0"}, ""))
	b.phone.Expect(t, wait, "200 to the un-subscribe", isResponse(200, sip.SUBSCRIBE))
	b.pbx.SendTo(t, b.inside, b.notify(n, "terminated;reason=timeout", ""))
	last := b.phone.Expect(t, wait, "terminated NOTIFY at the phone", isRequestIn(sip.NOTIFY, s.callID))
	b.phone.Send(t, replyTo(last, 200, "OK", toTagOf(last), nil, ""))
	rec, err := b.log.waitForCall("subscription ended", s.callID, wait)
	if err != nil || rec["reason"] != "subscription-terminated" {
		t.Fatalf("subscription ended: %v, %v", rec, err)
	}
	if st := b.srv.Stats(); st.Subscriptions != 0 {
		t.Errorf("%d subscriptions held after the terminated NOTIFY", st.Subscriptions)
	}
	// Its dialogs are gone: a late NOTIFY gets 481.
	b.pbx.SendTo(t, b.inside, b.notify(n, "active", ""))
	b.pbx.Expect(t, wait, "481 for a NOTIFY of the ended subscription", isResponse(481, sip.NOTIFY))
}

// RFC 6665 §4.1.2.4: the PBX's first NOTIFY may come before its 2xx to
// the SUBSCRIBE; it reaches the phone, and the subscription goes on.
func TestFlowNotifyBeforeSubscribe2xx(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	s := &subscriber{callID: "sub-" + randomHex(6), tag: "ph" + randomHex(3)}
	b.phone.Send(t, b.subscribe(s, 600))
	out := b.pbx.Expect(t, wait, "SUBSCRIBE at the PBX", isRequest(sip.SUBSCRIBE)).(*sip.Request)
	n := newNotifier(t, out)
	b.pbx.SendTo(t, b.inside, b.notify(n, "active;expires=600", mwiBody))
	in := b.phone.Expect(t, wait, "early NOTIFY at the phone", isRequestIn(sip.NOTIFY, s.callID))
	b.phone.Send(t, replyTo(in, 200, "OK", toTagOf(in), nil, ""))
	b.pbx.Expect(t, wait, "200 for the early NOTIFY", isResponse(200, sip.NOTIFY))
	b.pbx.SendTo(t, b.inside, replyTo(out, 200, "OK", n.tag, []string{"Contact: <sip:*97@" + b.pbx.addr().String() + ">", "Expires: 600"}, ""))
	ok := b.phone.Expect(t, wait, "200 to SUBSCRIBE", isResponse(200, sip.SUBSCRIBE))
	if toTagOf(ok) != fromTagOf(in) {
		t.Errorf("200 To tag %q differs from the early NOTIFY's From tag %q: two dialogs for the phone", toTagOf(ok), fromTagOf(in))
	}
	s.natsbcTag = toTagOf(ok)
	b.phone.Send(t, b.subscribe(s, 600))
	refresh := b.pbx.Expect(t, wait, "refresh at the PBX", isRequestIn(sip.SUBSCRIBE, n.callID)).(*sip.Request)
	if toTagOf(refresh) != n.tag {
		t.Errorf("refresh To tag %q, want the PBX's %q (learnt from the early NOTIFY)", toTagOf(refresh), n.tag)
	}
}

// A refused SUBSCRIBE leaves nothing; a subscription nobody refreshes is
// forgotten once its Expires and a grace of 64*T1 have passed.
func TestFlowSubscriptionRefusedAndExpired(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	s := &subscriber{callID: "sub-" + randomHex(6), tag: "ph" + randomHex(3)}
	b.phone.Send(t, b.subscribe(s, 600))
	out := b.pbx.Expect(t, wait, "SUBSCRIBE at the PBX", isRequest(sip.SUBSCRIBE))
	b.pbx.SendTo(t, b.inside, replyTo(out, 489, "Bad Event", "pbx1", []string{"Allow-Events: presence"}, ""))
	res := b.phone.Expect(t, wait, "489 at the phone", isResponse(489, sip.SUBSCRIBE)).(*sip.Response)
	if ae := res.GetHeader("Allow-Events"); ae == nil || ae.Value() != "presence" {
		t.Errorf("Allow-Events at the phone %v, want the PBX's", ae)
	}
	if rec, err := b.log.waitForCall("subscription ended", s.callID, wait); err != nil || rec["reason"] != "subscribe-refused" {
		t.Fatalf("subscription ended: %v, %v", rec, err)
	}

	s2 := &subscriber{callID: "sub-" + randomHex(6), tag: "ph" + randomHex(3)}
	b.phone.Send(t, b.subscribe(s2, 1))
	out = b.pbx.Expect(t, wait, "second SUBSCRIBE at the PBX", isRequest(sip.SUBSCRIBE))
	b.pbx.SendTo(t, b.inside, replyTo(out, 200, "OK", "pbx2", []string{"Contact: <sip:*97@" + b.pbx.addr().String() + ">", "Expires: 1"}, ""))
	b.phone.Expect(t, wait, "200 to the second SUBSCRIBE", isResponse(200, sip.SUBSCRIBE))
	rec, err := b.log.waitForCall("subscription ended", s2.callID, 5*wait)
	if err != nil || rec["reason"] != "subscription-expired" {
		t.Fatalf("second subscription ended: %v, %v; want it expired", rec, err)
	}
	if st := b.srv.Stats(); st.Subscriptions != 0 {
		t.Errorf("%d subscriptions held after expiry", st.Subscriptions)
	}
}
