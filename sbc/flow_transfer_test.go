package sbc

import (
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// withHeaders adds header lines to a raw message, after its start line.
func withHeaders(raw string, hs ...string) string {
	start, rest, _ := strings.Cut(raw, "\r\n")
	return start + "\r\n" + strings.Join(hs, "\r\n") + "\r\n" + rest
}

// uriEscapedReplaces is a Replaces value as RFC 3891 §7 puts it in a SIP
// URI's headers, escaped by hand so the test does not lean on natsbc's
// escaper.
func uriEscapedReplaces(callID, toTag, fromTag string) string {
	e := strings.NewReplacer("@", "%40", ";", "%3B", "=", "%3D")
	return e.Replace(callID + ";to-tag=" + toTag + ";from-tag=" + fromTag)
}

// Attended transfer from the phone: it REFERs the PBX on call 1 to replace
// its call 2. The PBX must get a Refer-To whose Replaces names call 2 as
// the PBX knows it (its Call-ID and tags of the B-leg, to-tag its own), the
// target URI kept; the 202 comes back; the PBX's NOTIFY (sipfrag) reaches
// the phone with the subscription id rewritten to the phone's REFER CSeq
// (RFC 3515 §2.4.6).
func TestFlowReferReplacesMappedAndNotifyID(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	first := b.establish(t)
	second := b.establish(t)

	const phoneReferCSeq = 50
	referTo := "<sip:3000@" + pbxIP + "?Replaces=" + uriEscapedReplaces(second.phone.callID, second.phone.aTag, second.phone.tag) + ">"
	b.phone.Send(t, b.phoneInDialog(first.phone, sip.REFER, phoneReferCSeq, []string{
		"Refer-To: " + referTo,
		"Referred-By: <sip:2000@" + privateIP + ">",
		"Contact: <sip:2000@" + phoneViaHop + ">",
	}, ""))

	refer := b.pbx.Expect(t, wait, "REFER on call 1's B-leg", isRequestIn(sip.REFER, first.pbx.callID))
	want := "<sip:3000@" + pbxIP + "?Replaces=" + uriEscapedReplaces(second.pbx.callID, second.pbx.tag, second.pbx.bTag) + ">"
	if got := headerValue(refer, "Refer-To"); got != want {
		t.Errorf("Refer-To at the PBX\n got %s\nwant %s (call 2 as the PBX knows it)", got, want)
	}
	if got := headerValue(refer, "Referred-By"); !strings.Contains(got, "sip:2000@") {
		t.Errorf("Referred-By not carried: %q", got)
	}
	pbxReferCSeq := refer.CSeq().SeqNo
	if pbxReferCSeq == phoneReferCSeq {
		t.Fatalf("B-leg REFER has CSeq %d like the phone's: the id rewrite below would prove nothing", pbxReferCSeq)
	}
	answer(t, b.pbx, refer, 202, "Accepted", "", nil, "")
	accepted := b.phone.Expect(t, wait, "202 for the REFER", isResponse(202, sip.REFER))
	if accepted.CSeq().SeqNo != phoneReferCSeq {
		t.Errorf("202 answers CSeq %d, want %d", accepted.CSeq().SeqNo, phoneReferCSeq)
	}

	b.pbx.Send(t, b.pbxInDialog(first.pbx, sip.NOTIFY, []string{
		"Event: refer;id=" + strconv.Itoa(int(pbxReferCSeq)),
		"Subscription-State: terminated;reason=noresource",
		"Contact: <sip:1000@" + b.pbx.addr().String() + ">",
		"Content-Type: message/sipfrag;version=2.0",
	}, "SIP/2.0 200 OK\r\n"))
	notify := b.phone.Expect(t, wait, "NOTIFY on call 1's A-leg", isRequestIn(sip.NOTIFY, first.phone.callID))
	if got, want := headerValue(notify, "Event"), "refer;id="+strconv.Itoa(phoneReferCSeq); got != want {
		t.Errorf("NOTIFY Event at the phone %q, want %q (the id of the REFER as the phone sent it)", got, want)
	}
	if string(notify.Body()) != "SIP/2.0 200 OK\r\n" || !strings.HasPrefix(contentType(notify), "message/sipfrag") {
		t.Errorf("NOTIFY sipfrag not carried: %q %q", contentType(notify), notify.Body())
	}
	answer(t, b.phone, notify, 200, "OK", "", nil, "")
	b.pbx.Expect(t, wait, "200 for the NOTIFY", isResponse(200, sip.NOTIFY))
}

// An INVITE with Replaces (attended transfer completed by the phone): the
// phone names its own call with natsbc; the PBX must get the B-leg's
// Call-ID and tags, to-tag its own (RFC 3891 §3). A Replaces that already
// names the PBX's dialog as the PBX knows it (learned from the PBX) passes
// unchanged.
func TestFlowInviteReplacesMapped(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)

	for _, tc := range []struct{ name, replaces, want string }{
		{"phone's own dialog",
			tr.phone.callID + ";to-tag=" + tr.phone.aTag + ";from-tag=" + tr.phone.tag,
			tr.pbx.callID + ";to-tag=" + tr.pbx.tag + ";from-tag=" + tr.pbx.bTag},
		{"the PBX's dialog",
			tr.pbx.callID + ";from-tag=" + tr.pbx.bTag + ";to-tag=" + tr.pbx.tag,
			tr.pbx.callID + ";from-tag=" + tr.pbx.bTag + ";to-tag=" + tr.pbx.tag},
	} {
		pc := newPhoneCall()
		b.phone.Send(t, withHeaders(b.invite(pc), "Replaces: "+tc.replaces, "Require: replaces"))
		inv := b.pbx.Expect(t, wait, tc.name+": INVITE with Replaces", func(m sip.Message) bool {
			r, ok := m.(*sip.Request)
			return ok && r.IsInvite() && r.CallID().Value() != tr.pbx.callID && r.GetHeader("Replaces") != nil
		})
		if got := headerValue(inv, "Replaces"); got != tc.want {
			t.Errorf("%s: Replaces at the PBX %q, want %q", tc.name, got, tc.want)
		}
		if got := headerValue(inv, "Require"); got != "replaces" {
			t.Errorf("%s: Require at the PBX %q, want replaces", tc.name, got)
		}
		answer(t, b.pbx, inv, 486, "Busy Here", "pbx"+randomHex(3), nil, "")
		b.phone.Expect(t, wait, tc.name+": 486", func(m sip.Message) bool {
			return isResponse(486, sip.INVITE)(m) && m.CallID().Value() == pc.callID
		})
	}
}

// Call pickup of a ringing call (RFC 3891 §1): the phone calls the PBX,
// the PBX's callee rings; a PBX-side party picks up with an INVITE to the
// caller whose Replaces names the ringing (early) dialog as the callee has
// it, early-only. The phone, the caller, must get its own early dialog's
// Call-ID and tags (to-tag its own), with early-only kept.
func TestFlowPickupOfEarlyDialogMapped(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	reg, _ := b.registerThrough(t, newPhoneReg("alice"), 3600, 3600)
	token := contactOf(t, reg)

	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	pbxTag := "pbx" + randomHex(4)
	b.pbx.SendTo(t, parseAddrPort(inv.Source()), replyTo(inv, 180, "Ringing", pbxTag,
		[]string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">"}, ""))
	ringing := b.phone.Expect(t, wait, "180 at the phone", isResponse(180, sip.INVITE))
	aTag := toTagOf(ringing)

	_, pickup := b.pbxInvite(token.String())
	b.pbx.SendTo(t, b.inside, withHeaders(pickup,
		"Replaces: "+inv.CallID().Value()+";to-tag="+fromTagOf(inv)+";from-tag="+pbxTag+";early-only"))
	got := b.phone.Expect(t, wait, "pickup INVITE at the phone", func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.IsInvite() && r.CallID().Value() != pc.callID
	})
	want := pc.callID + ";to-tag=" + pc.tag + ";from-tag=" + aTag + ";early-only"
	if v := headerValue(got, "Replaces"); v != want {
		t.Errorf("Replaces at the phone %q, want %q (its early dialog, early-only kept)", v, want)
	}
}

// A Replaces naming a dialog natsbc does not hold, or one of its dialogs
// with a wrong tag, gets 481 (RFC 3891 §3) and goes nowhere: in a REFER's
// Refer-To and in an INVITE.
func TestFlowReplacesOfUnknownDialog481(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)

	for _, r := range [][3]string{
		{"nosuchcall@example.com", "x1", "y1"},
		{tr.phone.callID, tr.phone.aTag, "not-the-phones-tag"},
	} {
		b.phone.Send(t, b.phoneInDialog(tr.phone, sip.REFER, 0, []string{
			"Refer-To: <sip:3000@" + pbxIP + "?Replaces=" + uriEscapedReplaces(r[0], r[1], r[2]) + ">",
			"Contact: <sip:2000@" + phoneViaHop + ">",
		}, ""))
		b.phone.Expect(t, wait, "481 for a REFER naming "+r[0], isResponse(481, sip.REFER))

		pc := newPhoneCall()
		b.phone.Send(t, withHeaders(b.invite(pc), "Replaces: "+r[0]+";to-tag="+r[1]+";from-tag="+r[2]))
		b.phone.Expect(t, wait, "481 for an INVITE naming "+r[0], func(m sip.Message) bool {
			return isResponse(481, sip.INVITE)(m) && m.CallID().Value() == pc.callID
		})
	}
	if got := b.pbx.TakeAll(func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && (r.Method == sip.REFER || r.IsInvite() && r.CallID().Value() != tr.pbx.callID)
	}); len(got) != 0 {
		t.Errorf("the PBX got %d requests naming unknown dialogs, want none: %v", len(got), got[0].String())
	}
}
