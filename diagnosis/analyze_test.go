package diagnosis

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// A call as a capture between the caller and the far end holds it.
const (
	caller   = "203.0.113.7:5060"
	sbcAddr  = "198.51.100.1:5060"
	proxy    = "10.0.0.20:5060"
	natedOK  = "198.51.100.99:40000" // the callee's NAT
	privateC = "192.168.1.50:5060"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// callBuilder writes one call's messages, frame by frame.
type callBuilder struct {
	id    string
	msgs  []Message
	frame int
}

func newCall(id string) *callBuilder { return &callBuilder{id: id} }

// add appends a message sent at seconds after t0 from src to dst.
func (c *callBuilder) add(seconds float64, src, dst, text string) *callBuilder {
	c.frame++
	raw := strings.ReplaceAll(strings.TrimLeft(text, "\n"), "\n", "\r\n")
	raw = strings.ReplaceAll(raw, "CALLID", c.id)
	c.msgs = append(c.msgs, Message{Frame: c.frame, Time: t0.Add(time.Duration(seconds * float64(time.Second))),
		Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Transport: "udp", Raw: []byte(raw + "\r\n")})
	return c
}

func invite(ruri string) string {
	return `
INVITE sip:` + ruri + ` SIP/2.0
Via: SIP/2.0/UDP ` + caller + `;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: CALLID
CSeq: 1 INVITE
Contact: <sip:alice@` + caller + `>
Content-Length: 0
`
}

func response(code int, reason, method string, seq int, toTag string, extra ...string) string {
	to := "To: <sip:bob@example.com>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	return fmt.Sprintf(`
SIP/2.0 %d %s
Via: SIP/2.0/UDP %s;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
%s
Call-ID: CALLID
CSeq: %d %s
%sContent-Length: 0
`, code, reason, caller, to, seq, method, headerLines(extra))
}

func headerLines(hs []string) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h + "\n")
	}
	return b.String()
}

func request(method string, seq int, fromTag, toTag string) string {
	return fmt.Sprintf(`
%s sip:x@example.com SIP/2.0
Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s%d
From: <sip:alice@example.com>;tag=%s
To: <sip:bob@example.com>;tag=%s
Call-ID: CALLID
CSeq: %d %s
Content-Length: 0
`, method, caller, method, seq, fromTag, toTag, seq, method)
}

// retransmit adds copies of a 2xx at the RFC 3261 §13.3.1.4 intervals
// (T1 500 ms doubling to T2 4 s) up to 32 s.
func (c *callBuilder) retransmit(from, to, ok string, after float64) *callBuilder {
	interval := 0.5
	for t := 0.5; t < 32; t += interval {
		if t > after {
			c.add(t, from, to, ok)
		}
		interval = min(2*interval, 4)
	}
	return c
}

func report(t *testing.T, c *callBuilder) Report {
	t.Helper()
	rs := Analyze(c.msgs)
	if len(rs) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(rs), rs)
	}
	return rs[0]
}

// Each verdict and each cause of a lost ACK, from the messages alone.
func TestVerdicts(t *testing.T) {
	ok := response(200, "OK", "INVITE", 1, "b1", "Contact: <sip:bob@"+sbcAddr+">")
	tests := []struct {
		name    string
		call    *callBuilder
		verdict Verdict
		cause   Cause
		rule    string
	}{
		{"healthy call", newCall("ok").
			add(0, caller, sbcAddr, invite("bob@"+sbcAddr)).
			add(0.01, sbcAddr, caller, response(100, "Trying", "INVITE", 1, "")).
			add(2, sbcAddr, caller, ok).
			add(2.05, caller, sbcAddr, request("ACK", 1, "a1", "b1")).
			add(10, caller, sbcAddr, request("BYE", 2, "a1", "b1")).
			add(10.01, sbcAddr, caller, response(200, "OK", "BYE", 2, "b1")),
			OK, "", ""},
		{"no NAT handling: a private Contact from a NATed callee, then the 32 s BYE", newCall("nonat").
			add(0, caller, natedOK, invite("bob@"+natedOK)).
			add(2, natedOK, caller, response(200, "OK", "INVITE", 1, "b1", "Contact: <sip:bob@"+privateC+">")).
			add(2.01, caller, privateC, request("ACK", 1, "a1", "b1")).
			retransmit(natedOK, caller, response(200, "OK", "INVITE", 1, "b1", "Contact: <sip:bob@"+privateC+">"), 0).
			add(34, natedOK, caller, request("BYE", 1, "b1", "a1")),
			ByeAfter32, NoNATHandling, "is a private address that is not where the 2xx came from"},
		{"excessive NAT handling: the proxy's address in a proxied 2xx", newCall("excessive").
			add(0, caller, proxy, invite("bob@"+proxy)).
			add(2, proxy, caller, response(200, "OK", "INVITE", 1, "b1", "Record-Route: <sip:10.0.0.20;lr>", "Contact: <sip:bob@"+proxy+">")).
			add(2.01, caller, proxy, request("ACK", 1, "a1", "b1")).
			retransmit(proxy, caller, response(200, "OK", "INVITE", 1, "b1", "Record-Route: <sip:10.0.0.20;lr>", "Contact: <sip:bob@"+proxy+">"), 0.6),
			NoACK, ExcessiveNATHandling, "is the address of one of them"},
		{"ACK sent, not delivered", newCall("lost").
			add(0, caller, sbcAddr, invite("bob@"+sbcAddr)).
			add(2, sbcAddr, caller, ok).
			add(2.01, caller, sbcAddr, request("ACK", 1, "a1", "b1")).
			retransmit(sbcAddr, caller, ok, 0.6),
			NoACK, ACKNotDelivered, "retransmissions went on"},
		{"no ACK sent", newCall("silent").
			add(0, caller, sbcAddr, invite("bob@"+sbcAddr)).
			add(2, sbcAddr, caller, ok).
			retransmit(sbcAddr, caller, ok, 0).
			add(34, sbcAddr, caller, request("BYE", 1, "b1", "a1")),
			ByeAfter32, NoACKSent, "the caller never sent one"},
		{"cancelled", newCall("cancel").
			add(0, caller, sbcAddr, invite("bob@"+sbcAddr)).
			add(1, sbcAddr, caller, response(180, "Ringing", "INVITE", 1, "b1")).
			add(3, caller, sbcAddr, request("CANCEL", 1, "a1", "")).
			add(3.01, sbcAddr, caller, response(200, "OK", "CANCEL", 1, "")).
			add(3.02, sbcAddr, caller, response(487, "Request Terminated", "INVITE", 1, "b1")),
			Cancelled, "", ""},
		{"rejected", newCall("busy").
			add(0, caller, sbcAddr, invite("bob@"+sbcAddr)).
			add(1, sbcAddr, caller, response(486, "Busy Here", "INVITE", 1, "b1")),
			Rejected, "", "486 Busy Here"},
		{"a capture that starts mid-call", newCall("late").
			add(0, caller, sbcAddr, request("BYE", 2, "a1", "b1")).
			add(0.01, sbcAddr, caller, response(200, "OK", "BYE", 2, "b1")),
			Incomplete, "", "starts after the call was set up"},
		{"a capture that ends at the 2xx", newCall("short").
			add(0, caller, sbcAddr, invite("bob@"+sbcAddr)).
			add(2, sbcAddr, caller, ok),
			Incomplete, "", "ends right after the 2xx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report(t, tt.call)
			if r.Verdict != tt.verdict || r.Cause != tt.cause || !strings.Contains(r.Rule, tt.rule) {
				t.Fatalf("verdict %q cause %q rule %q; want %q %q with %q", r.Verdict, r.Cause, r.Rule, tt.verdict, tt.cause, tt.rule)
			}
			if r.Verdict.LostACK() && (len(r.Frames) < 2 || r.Evidence.Contact == "") {
				t.Errorf("a lost ACK without its frames or Contact: %+v", r)
			}
		})
	}
}

// Calls without an INVITE dialog (registrations, pings) get no report;
// what is not SIP is skipped.
func TestOnlyInviteDialogs(t *testing.T) {
	reg := newCall("reg").add(0, caller, sbcAddr, `
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP `+caller+`;branch=z9hG4bK-r
From: <sip:alice@example.com>;tag=r1
To: <sip:alice@example.com>
Call-ID: CALLID
CSeq: 1 REGISTER
Content-Length: 0
`)
	reg.msgs = append(reg.msgs, Message{Frame: 9, Time: t0, Raw: []byte("\x16\x03\x01 not SIP")})
	if rs := Analyze(reg.msgs); len(rs) != 0 {
		t.Fatalf("reports %+v, want none", rs)
	}
}

// The ladder has one column per address and one arrow per message, in
// the direction it went.
func TestLadder(t *testing.T) {
	c := newCall("ladder").
		add(0, caller, sbcAddr, invite("bob@"+sbcAddr)).
		add(2, sbcAddr, caller, response(200, "OK", "INVITE", 1, "b1", "Contact: <sip:bob@"+sbcAddr+">"))
	var b strings.Builder
	if err := WriteLadder(&b, report(t, c)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], caller) || !strings.Contains(lines[0], sbcAddr) {
		t.Fatalf("ladder:\n%s", b.String())
	}
	if !strings.Contains(lines[1], "-INVITE-") || !strings.HasSuffix(lines[1], ">|") || !strings.Contains(lines[2], "|<") || !strings.Contains(lines[2], "-200 INVITE-") {
		t.Fatalf("arrows:\n%s", b.String())
	}
}
