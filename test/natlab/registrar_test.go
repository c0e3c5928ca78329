//go:build linux

package natlab

import (
	"strings"
	"testing"
)

// registrarLogSample is the shape of the registrar's log: Kamailio's own
// lines end in LF, the logged SIP message's lines in CRLF.
const registrarLogSample = " 1(12) INFO: <core> [main.c:1]: started\n" +
	" 1(12) NOTICE: <script>: natlab-received request from 10.0.0.5:5060\n" +
	"REGISTER sip:203.0.113.5:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1\r\n" +
	"Call-ID: 1-2@192.168.1.10\r\n" +
	"Contact: <sip:tok@10.0.0.5:5060>\r\n" +
	"\r\n" +
	"\n" +
	" 2(13) NOTICE: <script>: natlab-received reply from 10.0.0.5:5060\n" +
	"SIP/2.0 200 OK\r\n" +
	"m: <sip:alice@192.168.1.10:5060>\r\n" +
	"Content-Length: 30\r\n" +
	"\r\n" +
	"c=IN IP4 192.168.1.10\r\n" +
	"\n" +
	" 2(13) INFO: <core> [x.c:2]: 192.168.1.10 in Kamailio's own words\n"

// TestParseReceived: both messages are found with their source, bodies and
// Kamailio's own lines are left out, and only the addressing header (the
// compact Contact) counts as a leak, not the opaque Call-ID or the SDP.
func TestParseReceived(t *testing.T) {
	msgs := parseReceived(registrarLogSample)
	if len(msgs) != 2 {
		t.Fatalf("parsed %d messages, want 2: %+v", len(msgs), msgs)
	}
	if msgs[0].From != "10.0.0.5:5060" || !strings.HasPrefix(msgs[0].Headers, "REGISTER ") {
		t.Errorf("first message %+v", msgs[0])
	}
	if strings.Contains(msgs[1].Headers, "c=IN") || strings.Contains(msgs[1].Headers, "own words") {
		t.Errorf("body or log line taken as a header: %q", msgs[1].Headers)
	}
	leaks := addressingLeaks(msgs, "192.168.")
	if len(leaks) != 1 || !strings.Contains(leaks[0], "m: <sip:alice@192.168.1.10:5060>") {
		t.Errorf("leaks %q, want only the reply's Contact", leaks)
	}
}

// TestAorUser covers the AoR spellings natsbc's log lines may use.
func TestAorUser(t *testing.T) {
	for in, want := range map[string]string{
		"sip:alice@203.0.113.5":      "alice",
		"<sip:phone7@203.0.113.5>":   "phone7",
		"phone12@203.0.113.5":        "phone12",
		"sip:alice@203.0.113.5:5060": "alice",
		"<sip:bob@example.com;x=y>":  "bob",
	} {
		if got := aorUser(in); got != want {
			t.Errorf("aorUser(%q) = %q, want %q", in, got, want)
		}
	}
}
