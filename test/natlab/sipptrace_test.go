//go:build linux

package natlab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestURIHost covers the header shapes the lab reads (no root needed).
func TestURIHost(t *testing.T) {
	for in, want := range map[string]string{
		`<sip:10.0.0.5:5060>`:                              "10.0.0.5",
		`"x" <sip:user@203.0.113.5:5060;transport=udp>`:    "203.0.113.5",
		`sip:carrier-user@10.0.0.99:5070`:                  "10.0.0.99",
		`<sip:10.0.0.5;lr>`:                                "10.0.0.5",
		`SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK.x;rport`: "10.0.0.5",
		`SIP/2.0/TCP 10.0.0.20;branch=z9hG4bK.y`:           "10.0.0.20",
	} {
		if got := URIHost(in); got != want {
			t.Errorf("URIHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTracedMessageHeader(t *testing.T) {
	m := TracedMessage{Text: "INVITE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP 1.2.3.4\r\nContact: <sip:x@5.6.7.8>\r\n\r\nm=audio\r\n"}
	if got := m.Header("via"); got != "SIP/2.0/UDP 1.2.3.4" {
		t.Errorf("compact Via: %q", got)
	}
	if got := m.Header("CONTACT"); got != "<sip:x@5.6.7.8>" {
		t.Errorf("Contact: %q", got)
	}
	if got := m.Header("m"); got != "" {
		t.Errorf("body line read as header: %q", got)
	}
}

// TestReadSippTraceStampsAndBody reads sipp's trace layout: the time stamp
// on the dashed line, the direction, the message and its body.
func TestReadSippTraceStampsAndBody(t *testing.T) {
	l := &Lab{Dir: t.TempDir()}
	trace := "----------------------------------------------- 2026-11-23 22:29:51.783641\n" +
		"UDP message sent (40 bytes):\n\n" +
		"INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nv=0\r\ns=x\r\n\n" +
		"----------------------------------------------- 2026-11-23 22:29:51.900000\n" +
		"UDP message received [20] bytes :\n\n" +
		"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n\n"
	if err := os.WriteFile(filepath.Join(l.Dir, "x_messages.log"), []byte(trace), 0o644); err != nil {
		t.Fatal(err)
	}
	msgs, err := l.ReadSippTrace("x")
	if err != nil || len(msgs) != 2 {
		t.Fatalf("ReadSippTrace = %d messages, %v; want 2", len(msgs), err)
	}
	want := time.Date(2026, 11, 23, 22, 29, 51, 783641000, time.Local)
	if !msgs[0].At.Equal(want) || msgs[0].Received || !msgs[1].Received {
		t.Errorf("first message at %v received %v, second received %v; want %v, false, true",
			msgs[0].At, msgs[0].Received, msgs[1].Received, want)
	}
	if got := msgs[0].Body(); !strings.HasPrefix(got, "v=0\ns=x\n") {
		t.Errorf("Body = %q, want the SDP lines", got)
	}
	if !complete(msgs[0]) || !complete(msgs[1]) {
		t.Errorf("complete messages read as cut")
	}
	if cut := (TracedMessage{Text: "INVITE x SIP/2.0\r\nContent-Length: 100\r\n\r\nv=0\r\n"}); complete(cut) {
		t.Errorf("a message 96 bytes short read as complete")
	}
}
