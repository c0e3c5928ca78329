//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestRegisteredPhoneCalled (registration scenarios a and b, the seed
// problem): a phone behind the NAT registers through natsbc with its
// private Contact; 30 s later, when its NAT mapping would be gone without
// natsbc's keepalives (the NAT forgets idle UDP after 20 s), a caller on
// the inside calls its AoR through the Kamailio registrar. The phone
// answers with private Contact and SDP, receives the ACK, the call holds
// 40 s with no BYE from anyone, and the caller's BYE reaches it. Kamailio
// never sees the phone's private address. Over TCP natsbc must reach the
// phone over the phone's own connection: the phone accepts no other.
func TestRegisteredPhoneCalled(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		tcp  bool
	}{{"udp", false}, {"tcp", true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
			n := l.StartNatsbc(t, BaseConfig+registrarPeer)
			s := registeredPhone("alice", Hold-2*time.Second)
			s.TCP = c.tcp
			phone := l.StartSipp(t, "phone", s)

			b := awaitBinding(t, n, "alice", 10*time.Second)
			assertNATedBinding(t, b, c.tcp)
			assertPublicContacts(t, reg.AwaitContacts(t, "alice", 5*time.Second))

			// The seed scenario's wait: a scenario step, not synchronisation.
			select {
			case <-phone.Done():
				t.Fatalf("the phone ended before it was called: %v", phone.Wait(0))
			case <-time.After(time.Until(b.At.Add(30 * time.Second))):
			}
			caller := l.StartSipp(t, "caller", callerOf("alice", 5060, Hold))

			n.Log.Await(t, 10*time.Second, "call answered", nil)
			assertHeldCall(t, n, caller, phone)

			proto := "udp"
			if c.tcp {
				proto = "tcp"
			}
			assertNATed(t, l, proto)
			assertSameFlow(t, n, b)
			reg.AssertNeverReceived(t, "192.168.")
			assertCalledThroughSBC(t, l)
			assertMediaAnchored(t, l, "caller", EdgeInIP, "phone", EdgeOutIP)
			n.AssertNoCrash(t)
		})
	}
}

// TestRegistrationWithDigest (registration scenario c): Kamailio challenges
// every REGISTER with 401; the challenge reaches the phone through natsbc,
// the phone's REGISTER with credentials passes natsbc untouched and
// succeeds, and the authenticated binding is reachable: a call to it is
// answered.
func TestRegistrationWithDigest(t *testing.T) {
	t.Parallel()
	const password = "s3cret"
	l := NewLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: password})
	n := l.StartNatsbc(t, BaseConfig+registrarPeer)
	s := registeredPhone("alice", time.Second)
	s.Args = []string{"-au", "alice", "-ap", password}
	phone := l.StartSipp(t, "phone", s)

	b := awaitBinding(t, n, "alice", 10*time.Second)
	assertNATedBinding(t, b, false)
	assertPublicContacts(t, reg.AwaitContacts(t, "alice", 5*time.Second))
	caller := l.StartSipp(t, "caller", callerOf("alice", 5060, 3*time.Second))
	MustSucceed(t, caller, 30*time.Second)
	MustSucceed(t, phone, 10*time.Second)

	msgs, err := l.ReadSippTrace("phone")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := FirstReceived(msgs, "SIP/2.0 401"); !ok {
		t.Errorf("the phone never received the registrar's 401 challenge")
	}
	authorized := false
	for _, m := range reg.Received() {
		if strings.HasPrefix(m.Headers, "REGISTER ") && strings.Contains(m.Headers, "\nAuthorization: Digest ") {
			authorized = true
			if h, _, _ := strings.Cut(m.From, ":"); h != EdgeInIP {
				t.Errorf("authenticated REGISTER reached the registrar from %s, want natsbc's inside %s", m.From, EdgeInIP)
			}
		}
	}
	if !authorized {
		t.Errorf("no REGISTER with the phone's Authorization reached the registrar")
	}
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}

// assertNATedBinding checks natsbc's "binding registered" line: the phone's
// own private Contact, seen from the NAT's public address, verdict NAT.
func assertNATedBinding(t *testing.T, b LogEntry, tcp bool) {
	t.Helper()
	if h := URIHost(b.Str("contact")); h != PhoneIP {
		t.Errorf("binding contact %q, want the phone's own (host %s): %s", b.Str("contact"), PhoneIP, b.Raw)
	}
	if h := URIHost("sip:" + b.Str("source")); h != NATPublicIP {
		t.Errorf("binding source %q, want the NAT's %s: %s", b.Str("source"), NATPublicIP, b.Raw)
	}
	if got := b.Str("nat"); got != "NAT" {
		t.Errorf("binding nat verdict %q, want \"NAT\": %s", got, b.Raw)
	}
	want := "udp"
	if tcp {
		want = "tcp"
	}
	if got := b.Str("transport"); !strings.EqualFold(got, want) {
		t.Errorf("binding transport %q, want %s: %s", got, want, b.Raw)
	}
	if !b.Has("token") {
		t.Errorf("binding without token: %s", b.Raw)
	}
}

// assertSameFlow checks that every refresh of the binding came from the
// NAT mapping of the first REGISTER: natsbc's keepalives kept it open.
func assertSameFlow(t *testing.T, n *Natsbc, b LogEntry) {
	t.Helper()
	for _, r := range n.Log.Find("binding refreshed", map[string]string{"token": b.Str("token")}) {
		if r.Str("source") != b.Str("source") {
			t.Errorf("refresh from %s, the binding was registered from %s: the NAT mapping changed: %s",
				r.Str("source"), b.Str("source"), r.Raw)
		}
	}
}

// assertCalledThroughSBC checks natsbc is the remote target on both sides
// of the call: the phone's INVITE carries natsbc's outside address as
// Contact, the caller's 200 natsbc's inside address.
func assertCalledThroughSBC(t *testing.T, l *Lab) {
	t.Helper()
	assertContactHost(t, l, "phone", "INVITE ", EdgeOutIP, "outside")
	assertContactHost(t, l, "caller", "SIP/2.0 200", EdgeInIP, "inside")
}
