package ingress

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestForceRport(t *testing.T) {
	const natted = "203.0.113.1:40000"
	tests := []struct {
		name    string
		via     string
		src     string
		allowed bool
		want    bool
	}{
		{"NATed phone without rport", "192.168.1.10:5060", natted, true, true},
		{"same IP, other port (port-mapping NAT)", "203.0.113.1:5060", natted, true, true},
		{"sent-by is the source", "203.0.113.1:40000", natted, true, false},
		{"policy says nat: never", "192.168.1.10:5060", natted, false, false},
		{"already asked for rport", "192.168.1.10:5060;rport", natted, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustParse(t, `
OPTIONS sip:natsbc SIP/2.0
Via: SIP/2.0/UDP `+tt.via+`;branch=z9hG4bK.x
From: <sip:a@b>;tag=1
To: <sip:natsbc>
Call-ID: c
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`).(*sip.Request)
			out := forceRport(req, netip.MustParseAddrPort(tt.src), func(netip.AddrPort) bool { return tt.allowed })
			if (out != nil) != tt.want {
				t.Fatalf("rewritten = %v, want %v", out != nil, tt.want)
			}
			if out == nil {
				return
			}
			msg, err := sip.ParseMessage(out)
			if err != nil {
				t.Fatalf("rewritten request does not parse: %v", err)
			}
			if !msg.Via().Params.Has("rport") || !strings.Contains(string(out), "Call-ID: c") {
				t.Errorf("rport not added or request damaged:\n%s", out)
			}
		})
	}
}

// mustParse reads a message written with \n line ends.
func mustParse(t *testing.T, raw string) sip.Message {
	t.Helper()
	raw = strings.ReplaceAll(strings.TrimLeft(raw, "\n"), "\n", "\r\n")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	return msg
}
