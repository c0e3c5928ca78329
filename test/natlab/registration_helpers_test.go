//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// Addresses of the registration scenarios, all on the inside (pbx
// namespace) next to the registrar at PBXIP.
const (
	CallerIP      = CalleeIP // the PBX-side caller of a registered phone
	InsidePhoneIP = ProxyIP  // a phone registering straight to the registrar (self-checks)
)

// registrarPeer is natsbc's config for the registration scenarios: the
// Kamailio registrar as peer "pbx" for the whole inside network. The
// default routes apply: requests from the pbx go to their Request-URI
// (natsbc's token Contact), everything else to the pbx.
const registrarPeer = `peers:
  - name: pbx
    networks: [10.0.0.0/24]
    address: ` + PBXIP + `:5060
    transport: udp
    role: pbx
`

// registeredPhone is a phone behind the NAT that registers as user through
// natsbc, refreshes, and answers OPTIONS and one call (held for hold).
func registeredPhone(user string, hold time.Duration) Sipp {
	return Sipp{Scenario: "phone_register_until_called.xml", OOC: "phone_answers.xml",
		NS: NSLan, IP: PhoneIP, Port: 5060, Remote: EdgeOutIP + ":5060", Service: user, Hold: hold}
}

// callerOf is a PBX-side caller on port that calls user through the
// registrar and hangs up after hold.
func callerOf(user string, port int, hold time.Duration) Sipp {
	return Sipp{Scenario: "phone_call.xml", NS: NSPBX, IP: CallerIP, Port: port,
		Remote: PBXIP + ":5060", Service: user, Hold: hold}
}

// awaitBinding waits for natsbc's "binding registered" line of the AoR
// whose user part is user.
func awaitBinding(t *testing.T, n *Natsbc, user string, timeout time.Duration) LogEntry {
	t.Helper()
	e, ok := n.Log.WaitFunc(timeout, func(e LogEntry) bool {
		return e.Msg() == "binding registered" && aorUser(e.Str("aor")) == user
	})
	if !ok {
		t.Fatalf("natsbc did not log \"binding registered\" for %s within %v", user, timeout)
	}
	return e
}

// awaitRemoved waits for natsbc's "binding removed" line of the AoR with
// user part user and checks its reason.
func awaitRemoved(t *testing.T, n *Natsbc, user, reason string, timeout time.Duration) LogEntry {
	t.Helper()
	e, ok := n.Log.WaitFunc(timeout, func(e LogEntry) bool {
		return e.Msg() == "binding removed" && aorUser(e.Str("aor")) == user
	})
	if !ok {
		t.Fatalf("natsbc did not log \"binding removed\" for %s within %v", user, timeout)
	}
	if got := e.Str("reason"); got != reason {
		t.Errorf("binding of %s removed with reason %q, want %q: %s", user, got, reason, e.Raw)
	}
	return e
}

// aorUser is the user part of an AoR as natsbc logs it ("sip:alice@host",
// "<sip:alice@host>" or a bare "alice@host").
func aorUser(aor string) string {
	aor = strings.TrimPrefix(strings.Trim(aor, "<>"), "sip:")
	user, _, _ := strings.Cut(aor, "@")
	return user
}

// assertPublicContacts checks that every contact the registrar holds is
// natsbc's inside address: the phone's private one never reached it.
func assertPublicContacts(t *testing.T, contacts []string) {
	t.Helper()
	for _, c := range contacts {
		if h := URIHost(c); h != EdgeInIP {
			t.Errorf("registrar holds contact %q: host %q, want natsbc's inside %s", c, h, EdgeInIP)
		}
	}
}
