//go:build linux

package natlab

import (
	"testing"
	"time"
)

// These tests prove the registration scenarios and the Kamailio registrar
// without natsbc: a phone on the inside registers straight to Kamailio and
// is called through it, so a failure of a registration scenario elsewhere
// is natsbc's, not the lab's.

// insidePhone is s moved next to the registrar: no NAT, no natsbc.
func insidePhone(s Sipp) Sipp {
	s.NS, s.IP, s.Remote = NSPBX, InsidePhoneIP, PBXIP+":5060"
	return s
}

// TestLabRegistrarCall: a phone registers (UDP, TCP, or answering a digest
// challenge), the registrar stores its Contact, a caller calls it through
// the registrar, the phone answers, the call holds and the caller's BYE
// reaches it (phone_register_until_called.xml with phone_answers.xml).
func TestLabRegistrarCall(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		tcp      bool
		password string
	}{
		{"udp", false, ""},
		{"tcp", true, ""},
		{"digest", false, "s3cret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: c.password})
			s := insidePhone(registeredPhone("alice", time.Second))
			s.TCP = c.tcp
			if c.password != "" {
				s.Args = []string{"-au", "alice", "-ap", c.password}
			}
			phone := l.StartSipp(t, "phone", s)
			contacts := reg.AwaitContacts(t, "alice", 5*time.Second)
			if h := URIHost(contacts[0]); len(contacts) != 1 || h != InsidePhoneIP {
				t.Errorf("registrar holds %v for alice, want one contact at %s", contacts, InsidePhoneIP)
			}
			caller := l.StartSipp(t, "caller", callerOf("alice", 5060, 3*time.Second))
			MustSucceed(t, caller, 30*time.Second)
			MustSucceed(t, phone, 10*time.Second)
			if c.password != "" {
				msgs, err := l.ReadSippTrace("phone")
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := FirstReceived(msgs, "SIP/2.0 401"); !ok {
					t.Errorf("the registrar never challenged the phone")
				}
			}
		})
	}
}

// TestLabRegistrarUnregister: the un-registering phone leaves no binding.
func TestLabRegistrarUnregister(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	phone := l.StartSipp(t, "phone", insidePhone(Sipp{Scenario: "phone_unregister.xml", OOC: "phone_answers.xml",
		Port: 5060, Service: "alice", Hold: 3 * time.Second}))
	reg.AwaitContacts(t, "alice", 5*time.Second)
	reg.AwaitNoContacts(t, "alice", 5*time.Second)
	MustSucceed(t, phone, 10*time.Second)
}

// TestLabRegistrarManyPhones: one sipp run registers 50 distinct phones,
// each on its own socket, and keeps them registered; a call to one of them
// is answered by the out-of-call scenario on that phone's socket.
func TestLabRegistrarManyPhones(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	const phones = 50
	many := l.StartSipp(t, "phones", insidePhone(Sipp{Scenario: "phones_register_loop.xml", OOC: "phone_answers.xml",
		Port: 5060, Calls: phones, Rate: 50, PerCallSocket: true, Hold: time.Second,
		Args: []string{"-set", "run_ms", "8000"}}))
	if !poll(5*time.Second, func() bool { return reg.AoRCount(t) == phones }) {
		t.Fatalf("registrar holds %d AoRs, want %d", reg.AoRCount(t), phones)
	}
	caller := l.StartSipp(t, "caller", callerOf("phone7", 5060, 2*time.Second))
	MustSucceed(t, caller, 20*time.Second)
	MustSucceed(t, many, 30*time.Second)
}
