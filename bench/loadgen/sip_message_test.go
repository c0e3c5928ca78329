package loadgen

import (
	"slices"
	"strings"
	"testing"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParseResponseWithRouteListAndCompactHeaders(t *testing.T) {
	m, err := parseSIP(crlf(`SIP/2.0 200 OK
v: SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bKx;rport=5062
Record-Route: <sip:10.0.0.1;lr>, "p,2" <sip:10.0.0.2;lr;x=a,b>
Record-Route: <sip:10.0.0.3;lr>
f: <sip:loadgen@127.0.0.10>;tag=a1
t: "Bench" <sip:bench-3@127.0.0.20:5080>;tag=b9
i: call-1@h
CSeq: 1 INVITE
m: <sip:bench@127.0.0.20:5080;transport=udp>;expires=60
c: application/sdp
l: 4

v=0
trailing`))
	if err != nil {
		t.Fatalf("parseSIP: %v", err)
	}
	if m.request || m.status != 200 || m.cseq != 1 || m.cseqMethod != "INVITE" || m.callID != "call-1@h" {
		t.Fatalf("start line or CSeq wrong: %+v", m)
	}
	wantRR := []string{"<sip:10.0.0.1;lr>", `"p,2" <sip:10.0.0.2;lr;x=a,b>`, "<sip:10.0.0.3;lr>"}
	if !slices.Equal(m.recordRoute, wantRR) {
		t.Errorf("Record-Route = %q, want %q", m.recordRoute, wantRR)
	}
	if m.contact != "sip:bench@127.0.0.20:5080;transport=udp" {
		t.Errorf("contact = %q", m.contact)
	}
	if tagOf(m.to) != "b9" || tagOf(m.from) != "a1" {
		t.Errorf("tags %q %q", tagOf(m.to), tagOf(m.from))
	}
	if string(m.body) != "v=0\r" {
		t.Errorf("body %q: Content-Length must cut it to 4 bytes", m.body)
	}
}

func TestParseRequestKeepsEveryViaInOrder(t *testing.T) {
	m, err := parseSIP(crlf(`INVITE sip:bench-7@127.0.0.20:5080 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2
Via: SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bK1,
 SIP/2.0/UDP 10.9.9.9;branch=z9hG4bK0
From: <sip:a@h>;tag=1
To: <sip:bench-7@127.0.0.20:5080>
Call-ID: c
CSeq: 10 INVITE
Content-Length: 0

`))
	if err != nil {
		t.Fatalf("parseSIP: %v", err)
	}
	if !m.request || m.method != "INVITE" || m.ruri != "sip:bench-7@127.0.0.20:5080" {
		t.Fatalf("request line: %+v", m)
	}
	want := []string{"SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2",
		"SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bK1, SIP/2.0/UDP 10.9.9.9;branch=z9hG4bK0"}
	if !slices.Equal(m.vias, want) {
		t.Errorf("vias = %q, want %q (folded line joined)", m.vias, want)
	}
}

func TestParseRejectsWhatIsNotSIP(t *testing.T) {
	for _, in := range []string{"", "hello", "SIP/2.0 abc OK\r\n\r\n", "INVITE sip:x HTTP/1.1\r\n\r\n",
		"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n", "SIP/2.0 200 OK\r\nVia: a\r\nCall-ID: x\r\nCSeq: x INVITE\r\n\r\n"} {
		if _, err := parseSIP([]byte(in)); err == nil {
			t.Errorf("parseSIP(%q) accepted", in)
		}
	}
}

func TestTagOfIgnoresTagInsideURI(t *testing.T) {
	if got := tagOf("<sip:x@h;tag=inside>;tag=outside"); got != "outside" {
		t.Errorf("tagOf = %q, want outside", got)
	}
	if got := tagOf("<sip:x@h;tag=inside>"); got != "" {
		t.Errorf("tagOf = %q, want none", got)
	}
}

func TestParseSIPURI(t *testing.T) {
	cases := map[string]sipURI{
		"sip:bench-1@127.0.0.20:5080":       {user: "bench-1", host: "127.0.0.20", port: 5080},
		"sip:10.0.0.1;lr":                   {host: "10.0.0.1", lr: true},
		"sip:u:pw@[::1]:5070;transport=udp": {user: "u", host: "::1", port: 5070},
		"sip:[2001:db8::1];lr=on?h=v":       {host: "2001:db8::1", lr: true},
	}
	for in, want := range cases {
		got, err := parseSIPURI(in)
		if err != nil || got != want {
			t.Errorf("parseSIPURI(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"tel:123", "sip:", "sip:h:99999", "sip:[::1"} {
		if _, err := parseSIPURI(bad); err == nil {
			t.Errorf("parseSIPURI(%q) accepted", bad)
		}
	}
	u, _ := parseSIPURI("sip:127.0.0.1")
	if a, err := u.addr(); err != nil || a.String() != "127.0.0.1:5060" {
		t.Errorf("default port: %v, %v", a, err)
	}
}

func TestCallIndexFromUser(t *testing.T) {
	for user, want := range map[string]int{"bench-0": 0, "bench-1999": 1999} {
		if n, ok := callIndexFromUser(user); !ok || n != want {
			t.Errorf("%q: %d %v", user, n, ok)
		}
	}
	for _, user := range []string{"bench-", "bench--1", "alice", "bench-1x"} {
		if _, ok := callIndexFromUser(user); ok {
			t.Errorf("%q accepted", user)
		}
	}
}
