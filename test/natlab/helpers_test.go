//go:build linux

package natlab

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pbxPeer is the PBX of scenario a: a configured peer on the inside.
const pbxPeer = `peers:
  - name: pbx
    networks: [` + PBXIP + `/32]
    address: ` + PBXIP + `:5060
    transport: udp
    role: pbx
`

// phoneCall is the phone's sipp run towards natsbc's outside socket.
func phoneCall(scenario string) Sipp {
	return Sipp{Scenario: scenario, NS: NSLan, IP: PhoneIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee"}
}

// calleeAt is a sipp UAS on an inside address.
func calleeAt(scenario, ip string) Sipp {
	return Sipp{Scenario: scenario, NS: NSPBX, IP: ip, Port: 5060}
}

// awaitEnded waits for natsbc's "call ended" line and checks its reason.
func awaitEnded(t *testing.T, n *Natsbc, reason string) LogEntry {
	t.Helper()
	e := n.Log.Await(t, 10*time.Second, "call ended", nil)
	if got := e.Str("reason"); got != reason {
		t.Errorf("call ended with reason %q, want %q: %s", got, reason, e.Raw)
	}
	if !e.Has("a_call_id") || !e.Has("b_call_id") {
		t.Errorf("call ended without a_call_id/b_call_id: %s", e.Raw)
	}
	return e
}

// assertOneCallEnded checks that exactly one call ended, so no second
// (ghost) call and no double teardown happened.
func assertOneCallEnded(t *testing.T, n *Natsbc) {
	t.Helper()
	if ended := n.Log.Find("call ended", nil); len(ended) != 1 {
		t.Errorf("natsbc logged %d \"call ended\" lines, want 1", len(ended))
	}
}

// assertHeldCall waits for the sipp runs of a call that side a hangs up
// after the hold (a, then b) to succeed, then checks natsbc's view of it:
// the call ended with a's BYE, no earlier than the hold after the answer
// (the sipp scenarios fail on an early BYE too), and it was the only call.
func assertHeldCall(t *testing.T, n *Natsbc, a, b *Proc) {
	t.Helper()
	MustSucceed(t, a, Hold+30*time.Second)
	MustSucceed(t, b, 15*time.Second)
	ended := awaitEnded(t, n, "bye-from-a")
	assertOneCallEnded(t, n)
	answered, ok := n.Log.Wait(0, "call answered", nil)
	if !ok {
		t.Errorf("natsbc never logged \"call answered\"")
		return
	}
	if d := ended.At.Sub(answered.At); d < Hold-time.Second {
		t.Errorf("call ended %v after it was answered, want at least the %v hold", d, Hold)
	}
}

// assertNATed checks that the phone's traffic of protocol proto really
// crossed the masquerading NAT (a conntrack entry with the public address).
func assertNATed(t *testing.T, l *Lab, proto string) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.NS(NSNAT), "conntrack", "-L", "-p", proto).CombinedOutput()
	if err != nil {
		t.Errorf("conntrack in nat namespace: %v\n%s", err, out)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "src="+PhoneIP) && strings.Contains(line, "dst="+NATPublicIP) {
			return
		}
	}
	t.Errorf("no %s NAT mapping for the phone in conntrack:\n%s", proto, out)
}

// assertSBCIsRemoteTarget checks DESIGN §3: towards each side natsbc is
// the remote target, with its own address on the socket facing that side.
// The phone's 200 carries natsbc's outside address as Contact; the
// callee's INVITE natsbc's inside address as Contact (and as top Via when
// it came straight from natsbc, not through a proxy).
func assertSBCIsRemoteTarget(t *testing.T, l *Lab, calleeName string, direct bool) {
	t.Helper()
	assertContactHost(t, l, "phone", "SIP/2.0 200", EdgeOutIP, "outside")
	inv, ok := assertContactHost(t, l, calleeName, "INVITE ", EdgeInIP, "inside")
	if h := URIHost(inv.Header("Via")); ok && direct && h != EdgeInIP {
		t.Errorf("%s's INVITE top Via %q: host %q, want natsbc's inside %s", calleeName, inv.Header("Via"), h, EdgeInIP)
	}
}

// assertContactHost checks that the first message whose start line begins
// with start in the trace of the sipp run called name carries a Contact
// with host want, natsbc's address on the side facing that run; ok is
// false when there is no such message.
func assertContactHost(t *testing.T, l *Lab, name, start, want, side string) (m TracedMessage, ok bool) {
	t.Helper()
	msgs, err := l.ReadSippTrace(name)
	if err != nil {
		t.Errorf("%s trace: %v", name, err)
		return m, false
	}
	if m, ok = FirstReceived(msgs, start); !ok {
		t.Errorf("%s trace has no %s", name, strings.TrimSpace(start))
		return m, false
	}
	if h := URIHost(m.Header("Contact")); h != want {
		t.Errorf("%s's %s Contact %q: host %q, want natsbc's %s %s", name, strings.TrimSpace(start), m.Header("Contact"), h, side, want)
	}
	return m, true
}
