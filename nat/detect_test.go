package nat

import (
	"net/netip"
	"slices"
	"testing"
)

func TestDetect(t *testing.T) {
	natSrc := netip.MustParseAddrPort("203.0.113.1:40123")
	cases := []struct {
		name  string
		obs   Observation
		want  []Check
		nated bool
		text  string
	}{
		{
			name: "public UA not NATed",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "198.51.100.7", ViaPort: 5060, ContactHost: "198.51.100.7", ContactPort: 5060, SDPAddrs: sdpAddrs("198.51.100.7")},
			text: "no NAT",
		},
		{
			name: "absent ports mean 5060",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "198.51.100.7", ContactHost: "198.51.100.7"},
			text: "no NAT",
		},
		{
			name: "classic NATed phone",
			obs: Observation{Transport: "udp", Source: natSrc,
				ViaHost: "192.168.1.10", ViaPort: 5060, ContactHost: "192.168.1.10", ContactPort: 5060, SDPAddrs: sdpAddrs("192.168.1.10")},
			want:  []Check{CheckContactPrivate, CheckViaHost, CheckViaPort, CheckSDPPrivate, CheckContactPort},
			nated: true,
			text:  "NAT (contact-private, via-host-differs, via-port-differs, sdp-private, contact-port-differs)",
		},
		{
			name: "unNATed inside host with private address",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("10.0.0.10:5060"),
				ViaHost: "10.0.0.10", ViaPort: 5060, ContactHost: "10.0.0.10", ContactPort: 5060, SDPAddrs: sdpAddrs("10.0.0.10")},
			text: "no NAT",
		},
		{
			name: "contact private only",
			obs: Observation{Transport: "tcp", Source: natSrc,
				ViaHost: "203.0.113.1", ViaPort: 5060, ContactHost: "192.168.1.10"},
			want:  []Check{CheckContactPrivate},
			nated: true,
			text:  "NAT (contact-private)",
		},
		{
			name: "CGNAT contact",
			obs: Observation{Transport: "tcp", Source: natSrc,
				ViaHost: "203.0.113.1", ContactHost: "100.64.3.4"},
			want:  []Check{CheckContactPrivate},
			nated: true,
		},
		{
			// RFC 7118 §5.2: a browser's Contact and Via name nothing.
			name: "WebSocket client's .invalid Contact",
			obs: Observation{Transport: "wss", Source: natSrc,
				ViaHost: "df7jal23ls0d.invalid", ContactHost: "df7jal23ls0d.invalid"},
			want:  []Check{CheckContactUnroutable},
			nated: true,
			text:  "NAT (contact-unroutable)",
		},
		{
			name: "via host name is no evidence",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "phone.example.com", ViaPort: 5060, ContactHost: "phone.example.com"},
			text: "no NAT",
		},
		{
			name: "via IPv6 literal in brackets equal to source",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("[2001:db8::7]:5060"),
				ViaHost: "[2001:db8::7]", ViaPort: 5060},
			text: "no NAT",
		},
		{
			name: "via host differs",
			obs:  Observation{Transport: "tcp", Source: natSrc, ViaHost: "198.51.100.99"},
			want: []Check{CheckViaHost}, nated: true,
		},
		{
			name: "via port differs on udp",
			obs:  Observation{Transport: "udp", Source: natSrc, ViaHost: "203.0.113.1", ViaPort: 5060},
			want: []Check{CheckViaPort}, nated: true, text: "NAT (via-port-differs)",
		},
		{
			name: "via port ignored on tcp",
			obs:  Observation{Transport: "tcp", Source: natSrc, ViaHost: "203.0.113.1", ViaPort: 5060, ContactHost: "203.0.113.1"},
			text: "no NAT",
		},
		{
			name: "transport case does not matter",
			obs:  Observation{Transport: "UDP", Source: natSrc, ViaHost: "203.0.113.1", ViaPort: 5060},
			want: []Check{CheckViaPort}, nated: true,
		},
		{
			name: "contact port differs alone is weak",
			obs: Observation{Transport: "udp", Source: natSrc, ViaHost: "203.0.113.1", ViaPort: 40123,
				ContactHost: "203.0.113.1", ContactPort: 5062},
			want: []Check{CheckContactPort}, text: "no NAT (weak: contact-port-differs)",
		},
		{
			name: "contact port ignored on tcp",
			obs:  Observation{Transport: "tcp", Source: natSrc, ContactHost: "203.0.113.1", ContactPort: 5062},
			text: "no NAT",
		},
		{
			name: "sdp public differs is weak",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "198.51.100.7", ContactHost: "198.51.100.7", SDPAddrs: sdpAddrs("198.51.100.200")},
			want: []Check{CheckSDPDiffers}, text: "no NAT (weak: sdp-differs)",
		},
		{
			name: "sdp private is strong",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "198.51.100.7", ContactHost: "198.51.100.7", SDPAddrs: sdpAddrs("172.16.5.5")},
			want: []Check{CheckSDPPrivate}, nated: true,
		},
		{
			name: "sdp hold address is neither",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "198.51.100.7", ContactHost: "198.51.100.7", SDPAddrs: sdpAddrs("0.0.0.0")},
			text: "no NAT",
		},
		{
			name: "a private address of any stream is strong",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "198.51.100.7", ContactHost: "198.51.100.7", SDPAddrs: sdpAddrs("198.51.100.7", "192.168.1.10")},
			want: []Check{CheckSDPPrivate}, nated: true,
		},
		{
			name: "IPv4-mapped SDP address equals the source",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("198.51.100.7:5060"),
				ViaHost: "198.51.100.7", ContactHost: "198.51.100.7", SDPAddrs: sdpAddrs("::ffff:198.51.100.7")},
			text: "no NAT",
		},
		{
			name: "weak and strong together",
			obs: Observation{Transport: "udp", Source: natSrc, ViaHost: "203.0.113.1", ViaPort: 40123,
				ContactHost: "203.0.113.1", ContactPort: 5060, SDPAddrs: sdpAddrs("198.51.100.200")},
			want: []Check{CheckSDPDiffers, CheckContactPort}, text: "no NAT (weak: sdp-differs, contact-port-differs)",
		},
		{
			name: "IPv4-mapped source compares with IPv4 via",
			obs: Observation{Transport: "udp", Source: netip.MustParseAddrPort("[::ffff:198.51.100.7]:5060"),
				ViaHost: "198.51.100.7", ViaPort: 5060},
			text: "no NAT",
		},
		{
			name: "invalid source gives empty verdict",
			obs:  Observation{Transport: "udp", ViaHost: "192.168.1.10", ContactHost: "192.168.1.10"},
			text: "no NAT",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Detect(c.obs)
			if !slices.Equal(v.Checks, c.want) {
				t.Fatalf("checks = %v, want %v", v.Checks, c.want)
			}
			if v.NATed() != c.nated {
				t.Errorf("NATed() = %v, want %v", v.NATed(), c.nated)
			}
			if c.text != "" && v.String() != c.text {
				t.Errorf("String() = %q, want %q", v.String(), c.text)
			}
		})
	}
}

func TestCheckStrength(t *testing.T) {
	strong := []Check{CheckContactPrivate, CheckViaHost, CheckViaPort, CheckSDPPrivate}
	weak := []Check{CheckSDPDiffers, CheckContactPort}
	for _, c := range strong {
		if !c.Strong() || !(Verdict{Checks: []Check{c}}).NATed() {
			t.Errorf("%s should be strong", c)
		}
	}
	for _, c := range weak {
		if c.Strong() || (Verdict{Checks: []Check{c}}).NATed() {
			t.Errorf("%s should be weak", c)
		}
	}
}

func sdpAddrs(addrs ...string) []netip.Addr {
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}
