//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestUnsolicitedMWIAfterNATTimeout (issue 11, out-of-dialog requests): a
// phone behind the NAT registers through natsbc to Kamailio; 30 s later,
// past the NAT's 20 s UDP timeout, the PBX side's voicemail sends an
// unsolicited MWI NOTIFY to the phone's AoR. Kamailio's location service
// hands it to natsbc's token Contact, and natsbc sends it over the phone's
// flow, whose pinhole its keepalive held open: the phone gets it with
// Event: message-summary and the body intact, and its 200 reaches the
// voicemail.
func TestUnsolicitedMWIAfterNATTimeout(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	n := l.StartNatsbc(t, BaseConfig+registrarPeer)
	phone := l.StartSipp(t, "phone", registeredPhone("alice", Hold))
	b := awaitBinding(t, n, "alice", 10*time.Second)
	assertPublicContacts(t, reg.AwaitContacts(t, "alice", 5*time.Second))

	// The scenario's wait (past the NAT timeout): a step, not synchronisation.
	select {
	case <-phone.Done():
		t.Fatalf("the phone ended before the MWI: %v", phone.Wait(0))
	case <-time.After(time.Until(b.At.Add(30 * time.Second))):
	}
	vm := l.StartSipp(t, "voicemail", Sipp{Scenario: "pbx_notify_mwi.xml", NS: NSPBX, IP: CallerIP, Port: 5070,
		Remote: PBXIP + ":5060", Service: "alice", Keys: map[string]string{"from": "voicemail"}})
	MustSucceed(t, vm, 15*time.Second)

	m := l.AwaitTraced(t, "phone", phone, 5*time.Second, "the MWI NOTIFY", First(Received("NOTIFY ", "NOTIFY")))
	if ev := m.Header("Event"); ev != "message-summary" {
		t.Errorf("NOTIFY at the phone has Event %q, want message-summary", ev)
	}
	for _, line := range []string{"Messages-Waiting: yes", "Message-Account: sip:*97@" + PBXIP, "Voice-Message: 2/8 (0/2)"} {
		if !strings.Contains(m.Text, line) {
			t.Errorf("NOTIFY body at the phone lacks %q:\n%s", line, m.Text)
		}
	}
	assertSameFlow(t, n, b)
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}

// TestQualifyReachesThePhone (issue 11, qualify): the PBX side qualifies
// a registered phone with an OPTIONS to its AoR; the live phone's own
// 200 answers it. Then the phone is killed: the next qualify is not
// answered by anyone, natsbc included, and the PBX side gets 408.
func TestQualifyReachesThePhone(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	// T1 100 ms: natsbc gives up on the dead phone after 6.4 s, not 32 s.
	n := l.StartNatsbc(t, strings.Replace(BaseConfig, "t1: 500ms", "t1: 100ms", 1)+registrarPeer)
	phone := l.StartSipp(t, "phone", registeredPhone("alice", Hold))
	awaitBinding(t, n, "alice", 10*time.Second)
	reg.AwaitContacts(t, "alice", 5*time.Second)

	live := l.StartSipp(t, "qualify-live", Sipp{Scenario: "pbx_qualify.xml", NS: NSPBX, IP: CallerIP, Port: 5070,
		Remote: PBXIP + ":5060", Service: "alice", Keys: map[string]string{"from": "pbx-qualify"}})
	MustSucceed(t, live, 15*time.Second)
	l.AwaitTraced(t, "qualify-live", live, 5*time.Second, "the live phone's 200", First(Received("SIP/2.0 200", "OPTIONS")))
	q := l.AwaitTraced(t, "phone", phone, 5*time.Second, "the qualify OPTIONS", First(func(m TracedMessage) bool {
		return m.Received && strings.HasPrefix(m.StartLine(), "OPTIONS ") && strings.Contains(m.Header("From"), "pbx-qualify")
	}))
	t.Logf("qualify reached the phone: %s", q.StartLine())

	phone.Kill()
	dead := l.StartSipp(t, "qualify-dead", Sipp{Scenario: "pbx_qualify.xml", NS: NSPBX, IP: CallerIP, Port: 5071,
		Remote: PBXIP + ":5060", Service: "alice", Keys: map[string]string{"from": "pbx-qualify"}})
	MustSucceed(t, dead, 45*time.Second)
	l.AwaitTraced(t, "qualify-dead", dead, 5*time.Second, "408 for the dead phone", First(Received("SIP/2.0 408", "OPTIONS")))
	if msgs, _ := l.ReadSippTrace("qualify-dead"); len(msgs) > 0 {
		if m, ok := FirstReceived(msgs, "SIP/2.0 200"); ok {
			t.Errorf("the dead phone's qualify got a 200 (natsbc answered for it?):\n%s", m.Text)
		}
	}
	if _, ok := n.Log.WaitFunc(5*time.Second, func(e LogEntry) bool {
		return e.Msg() == "request not answered" && e.Str("method") == "OPTIONS"
	}); !ok {
		t.Errorf("natsbc did not log the unanswered qualify it relayed")
	}
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}

// TestMessagePhoneToPhone (issue 11, MESSAGE): two phones, each behind the
// port-randomising NAT on a home network of its own, register through
// natsbc to Kamailio. A MESSAGE from alice to bob's AoR goes through
// natsbc to the PBX, whose location service sends it back through natsbc
// to bob's flow, and bob's reply MESSAGE reaches alice the same way; the
// texts arrive intact and each sender gets its 200.
func TestMessagePhoneToPhone(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	bobLAN := l.AddPhoneLAN(t, 2)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	n := l.StartNatsbc(t, BaseConfig+registrarPeer)
	alice := l.StartSipp(t, "alice", registeredPhone("alice", Hold))
	bobPhone := registeredPhone("bob", Hold)
	bobPhone.NS, bobPhone.IP = bobLAN.Role, bobLAN.IP
	bob := l.StartSipp(t, "bob", bobPhone)
	awaitBinding(t, n, "alice", 10*time.Second)
	awaitBinding(t, n, "bob", 10*time.Second)
	reg.AwaitContacts(t, "alice", 5*time.Second)
	reg.AwaitContacts(t, "bob", 5*time.Second)

	send := func(name string, lan PhoneLAN, from, to, text string) {
		t.Helper()
		p := l.StartSipp(t, name, Sipp{Scenario: "send_message.xml", NS: lan.Role, IP: lan.IP, Port: 5070,
			Remote: EdgeOutIP + ":5060", Service: to, Keys: map[string]string{"from": from, "text": text}})
		MustSucceed(t, p, 15*time.Second)
	}
	send("alice-says", LAN1, "alice", "bob", "hello-bob-from-alice")
	got := l.AwaitTraced(t, "bob", bob, 5*time.Second, "alice's MESSAGE", First(Received("MESSAGE ", "MESSAGE")))
	if !strings.Contains(got.Text, "hello-bob-from-alice") || strings.Contains(got.Text, PhoneIP) {
		t.Errorf("MESSAGE at bob: text missing or alice's private address in it:\n%s", got.Text)
	}
	send("bob-says", bobLAN, "bob", "alice", "hello-alice-from-bob")
	got = l.AwaitTraced(t, "alice", alice, 5*time.Second, "bob's MESSAGE", First(Received("MESSAGE ", "MESSAGE")))
	if !strings.Contains(got.Text, "hello-alice-from-bob") || strings.Contains(got.Text, bobLAN.IP) {
		t.Errorf("MESSAGE at alice: text missing or bob's private address in it:\n%s", got.Text)
	}
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}
