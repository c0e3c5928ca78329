package nat

import (
	"net/netip"
	"testing"
)

func TestIsPrivate(t *testing.T) {
	cases := []struct {
		addr string
		want bool
	}{
		{"10.0.0.1", true},
		{"10.255.255.255", true},
		{"172.16.0.1", true},
		{"172.31.255.254", true},
		{"172.32.0.1", false},
		{"172.15.255.255", false},
		{"192.168.1.10", true},
		{"192.169.0.1", false},
		{"100.64.0.1", true},
		{"100.127.255.254", true},
		{"100.128.0.1", false},
		{"100.63.255.255", false},
		{"192.0.0.1", true},
		{"192.0.0.7", true},
		{"192.0.0.8", false},
		{"169.254.10.1", true},
		{"fd00::1", true},
		{"fc00::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"::ffff:192.168.1.10", true},
		{"::ffff:203.0.113.5", false},
		{"203.0.113.5", false},
		{"8.8.8.8", false},
		{"2001:db8::1", false},
		{"127.0.0.1", false},
		{"0.0.0.0", false},
	}
	for _, c := range cases {
		if got := IsPrivate(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("IsPrivate(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
	if IsPrivate(netip.Addr{}) {
		t.Error("zero Addr reported private")
	}
}

func TestParseIPLiteral(t *testing.T) {
	cases := []struct {
		host string
		want string // "" = not an IP literal
	}{
		{"192.168.1.10", "192.168.1.10"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"pbx.example.com", ""},
		{"", ""},
		{"[", ""},
		{"[]", ""},
	}
	for _, c := range cases {
		got, ok := parseIPLiteral(c.host)
		if c.want == "" {
			if ok {
				t.Errorf("parseIPLiteral(%q) = %v, want not an IP", c.host, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(c.want) {
			t.Errorf("parseIPLiteral(%q) = %v,%v want %s", c.host, got, ok, c.want)
		}
	}
}
