package ingress

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestHeaderTextClean(t *testing.T) {
	cases := []struct {
		name  string
		pkt   string
		clean bool
	}{
		{"plain request", ingressInvite, true},
		{"folded header", strings.Replace(ingressInvite, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nSubject: a\r\n b\r\n", 1), true},
		{"LF and NUL in the body only", ingressInvite + "v=0\nx\x00", true},
		{"bare LF in a header", strings.Replace(ingressInvite, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nSubject: a\nb\r\n", 1), false},
		{"NUL in a header", strings.Replace(ingressInvite, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nSubject: a\x00b\r\n", 1), false},
		{"bare CR in a header", strings.Replace(ingressInvite, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nSubject: a\rb\r\n", 1), false},
		{"LF first", "\n" + ingressInvite, false},
		{"no end of headers", "INVITE sip:bob@198.51.100.7 SIP/2.0\r\nVia: x\r\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := headerTextClean([]byte(c.pkt)); got != c.clean {
				t.Fatalf("headerTextClean = %v, want %v", got, c.clean)
			}
		})
	}
}

// A header section the guard calls clean must pass the full header check
// on what sipgo parses of it: the guard relies on that to skip the check.
// FuzzDatagramGuard holds the same on arbitrary bytes.
func TestHeaderTextCleanImpliesCheckPasses(t *testing.T) {
	for _, pkt := range []string{ingressInvite, strings.Replace(ingressInvite, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nSubject: a\r\n\tb\r\n", 1)} {
		if !headerTextClean([]byte(pkt)) {
			t.Fatalf("not clean:\n%s", pkt)
		}
		msg, err := sip.ParseMessage([]byte(pkt))
		if err != nil {
			t.Fatal(err)
		}
		if rej := checkHeaderText(msg.(*sip.Request)); rej != nil {
			t.Fatalf("clean datagram fails checkHeaderText: %v", rej)
		}
	}
}
