//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// The early-dialog scenarios (issue 10 item 5): a phone behind the NAT
// calls sipp at the PBX address through natsbc (media anchored, the
// default), with and without 100rel on each side. sipp fails a call that
// misses a message; the trace checks below say what natsbc got wrong.

// earlyHold keeps the answered calls short: these scenarios are about
// what happens before the answer.
const earlyHold = 2 * time.Second

func earlyPhone(scenario, rel100 string) Sipp {
	s := phoneCall(scenario)
	s.Hold = earlyHold
	if rel100 != "" {
		s.Keys = map[string]string{"rel100": rel100}
	}
	return s
}

// TestPrackBothSides (early a): phone and callee use 100rel. The callee's
// reliable 183 with SDP reaches the phone reliably (natsbc's RSeq, SDP
// naming natsbc's outside address); the phone's PRACK reaches the callee in
// its early dialog with the callee's own RSeq in RAck; the 200s come back.
func TestPrackBothSides(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_prack.xml", PBXIP))
	phone := l.StartSipp(t, "phone", earlyPhone("phone_prack.xml", "Supported: 100rel"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	tr := readEarlyTraces(t, l)
	tr.calleeInviteOffers100rel(t)
	tr.phone183(t, true)
	tr.calleePrack(t, "from the phone")
	awaitEnded(t, n, "bye-from-a")
	n.AssertNoCrash(t)
}

// TestPrackCallerWithout100rel (early b): the phone knows nothing of
// 100rel, the callee requires it. natsbc offers 100rel on the B-leg, PRACKs
// the callee's reliable 183 itself and relays it to the phone as an
// ordinary 183 (still anchored).
func TestPrackCallerWithout100rel(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_prack.xml", PBXIP))
	phone := l.StartSipp(t, "phone", earlyPhone("phone_call.xml", ""))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	tr := readEarlyTraces(t, l)
	tr.calleeInviteOffers100rel(t)
	tr.phone183(t, false)
	tr.calleePrack(t, "natsbc's own")
	if p, ok := FirstSent(tr.phone, "PRACK "); ok {
		t.Errorf("the phone without 100rel sent a PRACK:\n%s", p.Text)
	}
	awaitEnded(t, n, "bye-from-a")
	n.AssertNoCrash(t)
}

// TestPrackCalleeWithout100rel (early c): the phone requires 100rel, the
// callee does not use it. The B-leg INVITE must not require 100rel (that
// callee would refuse it); natsbc sends the callee's 183 reliably to the
// phone and answers the phone's PRACK itself: the callee never sees one
// (its scenario fails on an unexpected PRACK).
func TestPrackCalleeWithout100rel(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_183.xml", PBXIP))
	phone := l.StartSipp(t, "phone", earlyPhone("phone_prack.xml", "Require: 100rel"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	tr := readEarlyTraces(t, l)
	if m, ok := FirstReceived(tr.phone, "SIP/2.0 420"); ok {
		t.Errorf("natsbc refused the phone's Require: 100rel:\n%s", m.Text)
	}
	if inv, ok := received(t, tr.callee, "callee", "INVITE "); ok && hasToken(inv, "Require", "100rel") {
		t.Errorf("the B-leg INVITE requires 100rel: a callee without it answers 420:\n%s", inv.Text)
	}
	tr.phone183(t, true)
	if p, ok := FirstReceived(tr.callee, "PRACK "); ok {
		t.Errorf("the callee without 100rel got a PRACK (natsbc must answer the phone's itself):\n%s", p.Text)
	}
	if ok, found := FirstReceived(tr.phone, "SIP/2.0 200"); !found || !strings.HasSuffix(ok.Header("CSeq"), "PRACK") {
		t.Errorf("the phone's first 200 is not natsbc's answer to its PRACK: %q", ok.StartLine()+" / "+ok.Header("CSeq"))
	}
	awaitEnded(t, n, "bye-from-a")
	n.AssertNoCrash(t)
}

// TestUpdateInEarlyDialog (early d): during the callee's 183 the phone
// sends UPDATE with a new offer. It must reach the callee in the callee's
// early dialog (its To tag, its Contact as Request-URI, SDP naming
// natsbc's inside address) and the answer must come back to the phone.
// Before issue 10 the UPDATE had no To tag and the callee answered 481.
func TestUpdateInEarlyDialog(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_early_update.xml", PBXIP))
	phone := l.StartSipp(t, "phone", earlyPhone("phone_early_update.xml", ""))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	tr := readEarlyTraces(t, l)
	upd, ok := received(t, tr.callee, "callee", "UPDATE ")
	if ok {
		if tag := tr.calleeTag(t); tag != "" && !strings.Contains(upd.Header("To"), "tag="+tag) {
			t.Errorf("the UPDATE reached the callee outside its early dialog: To %q, want tag %s (a real callee answers 481)",
				upd.Header("To"), tag)
		}
		if h := URIHost(upd.StartLine()); h != PBXIP {
			t.Errorf("UPDATE Request-URI %q: host %q, want the callee's 183 Contact %s", upd.StartLine(), h, PBXIP)
		}
		if !strings.Contains(upd.Body(), "c=IN IP4 "+EdgeInIP) {
			t.Errorf("the UPDATE's offer is not anchored (want c= natsbc's inside %s):\n%s", EdgeInIP, upd.Body())
		}
	}
	for _, m := range tr.phone {
		if m.Received && strings.HasPrefix(m.StartLine(), "SIP/2.0 481") {
			t.Errorf("the phone got 481 in its early dialog:\n%s", m.Text)
		}
	}
	for _, m := range tr.phone {
		if m.Received && strings.HasPrefix(m.StartLine(), "SIP/2.0 200") && strings.HasSuffix(m.Header("CSeq"), "UPDATE") &&
			!strings.Contains(m.Body(), "c=IN IP4 "+EdgeOutIP) {
			t.Errorf("the 200 for UPDATE is not anchored (want c= natsbc's outside %s):\n%s", EdgeOutIP, m.Body())
		}
	}
	awaitEnded(t, n, "bye-from-a")
	n.AssertNoCrash(t)
}

// earlyTraces are the sipp message traces of one early-dialog scenario.
type earlyTraces struct{ phone, callee []TracedMessage }

func readEarlyTraces(t *testing.T, l *Lab) earlyTraces {
	t.Helper()
	var tr earlyTraces
	var err error
	if tr.phone, err = l.ReadSippTrace("phone"); err != nil {
		t.Fatalf("phone trace: %v", err)
	}
	if tr.callee, err = l.ReadSippTrace("callee"); err != nil {
		t.Fatalf("callee trace: %v", err)
	}
	return tr
}

// calleeInviteOffers100rel: natsbc offers 100rel on the B-leg, without
// requiring it.
func (tr earlyTraces) calleeInviteOffers100rel(t *testing.T) {
	t.Helper()
	inv, ok := received(t, tr.callee, "callee", "INVITE ")
	if !ok {
		return
	}
	if !hasToken(inv, "Supported", "100rel") {
		t.Errorf("the B-leg INVITE does not offer 100rel (Supported): an IMS callee answers 420:\n%s", inv.Text)
	}
	if hasToken(inv, "Require", "100rel") {
		t.Errorf("the B-leg INVITE requires 100rel:\n%s", inv.Text)
	}
}

// phone183 checks the 183 the phone got: reliable (Require: 100rel and an
// RSeq) or not, and its SDP anchored on natsbc's outside address.
func (tr earlyTraces) phone183(t *testing.T, reliable bool) {
	t.Helper()
	m, ok := received(t, tr.phone, "phone", "SIP/2.0 183")
	if !ok {
		return
	}
	got := hasToken(m, "Require", "100rel") && m.Header("RSeq") != ""
	switch {
	case reliable && !got:
		t.Errorf("the phone's 183 is not reliable (no Require: 100rel / RSeq):\n%s", m.Text)
	case !reliable && (hasToken(m, "Require", "100rel") || m.Header("RSeq") != ""):
		t.Errorf("the phone without 100rel got a reliable 183:\n%s", m.Text)
	}
	if !strings.Contains(m.Body(), "c=IN IP4 "+EdgeOutIP) {
		t.Errorf("the 183's early media is not anchored (want c= natsbc's outside %s):\n%s", EdgeOutIP, m.Body())
	}
}

// calleePrack checks the PRACK the callee got: in its early dialog (its
// To tag) and acknowledging its own RSeq 1 of the B-leg INVITE.
func (tr earlyTraces) calleePrack(t *testing.T, whose string) {
	t.Helper()
	p, ok := received(t, tr.callee, "callee", "PRACK ")
	if !ok {
		t.Errorf("(the PRACK expected was %s)", whose)
		return
	}
	inv, _ := FirstReceived(tr.callee, "INVITE ")
	cseq := strings.Fields(inv.Header("CSeq"))
	if want := "1 " + first(cseq) + " INVITE"; p.Header("RAck") != want {
		t.Errorf("PRACK (%s) RAck %q, want the callee's %q", whose, p.Header("RAck"), want)
	}
	if tag := tr.calleeTag(t); tag != "" && !strings.Contains(p.Header("To"), "tag="+tag) {
		t.Errorf("PRACK (%s) outside the callee's early dialog: To %q, want tag %s", whose, p.Header("To"), tag)
	}
}

// calleeTag is the To tag of the callee's 183.
func (tr earlyTraces) calleeTag(t *testing.T) string {
	t.Helper()
	m, ok := FirstSent(tr.callee, "SIP/2.0 183")
	if !ok {
		t.Errorf("the callee sent no 183")
		return ""
	}
	_, tag, _ := strings.Cut(m.Header("To"), "tag=")
	tag, _, _ = strings.Cut(tag, ";")
	return strings.TrimSpace(tag)
}

func received(t *testing.T, msgs []TracedMessage, who, prefix string) (TracedMessage, bool) {
	t.Helper()
	m, ok := FirstReceived(msgs, prefix)
	if !ok {
		t.Errorf("the %s never received %s", who, strings.TrimSpace(prefix))
	}
	return m, ok
}

// hasToken tells whether any header name of m lists token (comma lists).
func hasToken(m TracedMessage, name, token string) bool {
	for _, line := range strings.Split(m.Text, "\n")[1:] {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
