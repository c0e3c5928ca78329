//go:build linux

package natlab

import (
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestGarbageDuringCall (scenario e): while a call holds, the phone's
// network sends natsbc's outside port random bytes, a request without
// Call-ID, a truncated INVITE, an oversized datagram and an INVITE with
// Max-Forwards: 0. Each gets 400/483/513 or no answer at all; natsbc stays up,
// the call survives and ends with the phone's normal BYE, and an OPTIONS
// to natsbc afterwards is answered 200.
func TestGarbageDuringCall(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, strings.Replace(BaseConfig, "  t4: 5s\n", "  t4: 5s\n  max_message_size: 4096\n", 1)+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_call.xml"))
	n.Log.Await(t, 10*time.Second, "call answered", nil)

	conn := l.DialUDP(t, NSLan, EdgeOutIP+":5060")
	target := "sip:callee@" + EdgeOutIP + ":5060"

	random := make([]byte, 700)
	_, _ = rand.Read(random)
	invite := string(SIPRequest(conn, "INVITE", target, "natlab-trunc", 70))
	oversized := SIPRequest(conn, "OPTIONS", target, "natlab-big", 70,
		"X-Padding: "+strings.Repeat("x", 10000))
	cases := []struct {
		name    string
		payload []byte
		allowed map[int]bool // final responses that are a clear answer
	}{
		{"random bytes", random, map[int]bool{400: true}},
		{"no Call-ID", SIPRequest(conn, "OPTIONS", target, "", 70), map[int]bool{400: true}},
		{"truncated INVITE", []byte(invite[:len(invite)/2]), map[int]bool{400: true}},
		// RFC 3261 §21.5.14: 513 Message Too Large.
		{"oversized datagram", oversized, map[int]bool{513: true}},
		// RFC 3261 §16.3 step 3: nothing to forward with Max-Forwards 0.
		{"Max-Forwards 0", SIPRequest(conn, "INVITE", target, "natlab-mf0", 0), map[int]bool{400: true, 483: true}},
	}
	for _, c := range cases {
		if _, err := conn.Write(c.payload); err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
		// A bounded wait is the only way to observe "no answer".
		codes := ReadStatuses(conn, time.Second)
		t.Logf("%s (%d bytes): answers %v", c.name, len(c.payload), codes)
		for _, code := range codes {
			// A provisional 100 before the final answer is allowed for an INVITE.
			if code == 100 && strings.HasPrefix(string(c.payload), "INVITE") {
				continue
			}
			if !c.allowed[code] {
				t.Errorf("%s: natsbc answered %d, want one of %v or nothing", c.name, code, keys(c.allowed))
			}
		}
	}
	// The shared log contract: each refused or dropped input is logged.
	if got := len(n.Log.Find("malformed message", nil)); got < 4 {
		t.Errorf("natsbc logged %d \"malformed message\" lines for 4 malformed inputs", got)
	}
	if !optionsAnswered(t, conn, "sip:"+EdgeOutIP+":5060") {
		t.Errorf("natsbc did not answer OPTIONS 200 after the garbage")
	}

	assertHeldCall(t, n, phone, callee)
	n.AssertNoCrash(t)
}

// optionsAnswered sends OPTIONS to natsbc itself, retransmitting like a
// UDP client transaction (T1 doubling), and reports whether 200 came back.
func optionsAnswered(t *testing.T, c *net.UDPConn, ruri string) bool {
	t.Helper()
	req := SIPRequest(c, "OPTIONS", ruri, fmt.Sprintf("natlab-options-%d", time.Now().UnixNano()), 70)
	for wait := 500 * time.Millisecond; wait <= 4*time.Second; wait *= 2 {
		if _, err := c.Write(req); err != nil {
			t.Errorf("OPTIONS: %v", err)
			return false
		}
		for _, code := range ReadStatuses(c, wait) {
			if code == 200 {
				return true
			}
			if code >= 200 {
				t.Errorf("OPTIONS answered %d, want 200", code)
				return false
			}
		}
	}
	return false
}

func keys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}
