//go:build linux

package natlab

import "testing"

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
