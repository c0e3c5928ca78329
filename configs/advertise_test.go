package configs

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseAdvertise(t *testing.T) {
	tests := []struct {
		in       string
		wantIP   string
		wantSTUN string
		err      string
	}{
		{in: "198.51.100.7", wantIP: "198.51.100.7"},
		{in: "[2001:db8::7]", wantIP: "2001:db8::7"},
		{in: "stun:stun.example.net", wantSTUN: "stun.example.net:3478"},
		{in: "stun:stun.example.net:19302", wantSTUN: "stun.example.net:19302"},
		{in: "stun:192.0.2.9", wantSTUN: "192.0.2.9:3478"},
		{in: "stun:[2001:db8::9]", wantSTUN: "[2001:db8::9]:3478"},
		{in: "stun:[2001:db8::9]:3479", wantSTUN: "[2001:db8::9]:3479"},
		{in: "stun:", err: `"stun:": no STUN server: write stun:HOST or stun:HOST:PORT`},
		{in: "stun:host:", err: `port "" is not in 1..65535`},
		{in: "stun:host:65536", err: `port "65536" is not in 1..65535`},
		{in: "stun:2001:db8::9", err: "an IPv6 STUN server needs brackets: stun:[2001:db8::9]"},
		{in: "stun:bad_host", err: `"bad_host" is not an IP address or a host name`},
		{in: "stun:-x.example", err: `"-x.example" is not an IP address or a host name`},
		{in: "stun::3478", err: `"" is not an IP address or a host name`},
		{in: "stun:[::1", err: "is not HOST or HOST:PORT"},
		{in: "public", err: `"public" is not an IP address or stun:HOST[:PORT]`},
		{in: "STUN:host", err: "is not an IP address or stun:HOST[:PORT]"},
	}
	for _, tt := range tests {
		ip, stun, err := parseAdvertise(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseAdvertise(%q) error = %v; want %q", tt.in, err, tt.err)
			}
			continue
		}
		var wantIP netip.Addr
		if tt.wantIP != "" {
			wantIP = netip.MustParseAddr(tt.wantIP)
		}
		if err != nil || ip != wantIP || stun != tt.wantSTUN {
			t.Errorf("parseAdvertise(%q) = %v, %q, %v; want %v, %q", tt.in, ip, stun, err, wantIP, tt.wantSTUN)
		}
	}
}

// The listen entry carries the STUN server to sbc; an IP and a server on
// one socket is a contradiction only a program can write.
func TestListenAdvertiseSTUN(t *testing.T) {
	c, err := Parse("t.yaml", []byte("listen:\n  - name: out\n    address: 0.0.0.0:5060\n    transport: udp\n    advertise: stun:stun.example.net\n"))
	if err != nil {
		t.Fatal(err)
	}
	specs := c.Listen()
	if len(specs) != 1 || specs[0].AdvertiseSTUN != "stun.example.net:3478" || specs[0].Advertise.IsValid() {
		t.Errorf("Listen() = %+v; want the STUN server only", specs)
	}
	c.Sockets[0].Advertise = netip.MustParseAddr("198.51.100.7")
	want := "t.yaml:5:16: listen[0].advertise: give an IP or a stun: server, not both"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v; want %s", err, want)
	}
}
