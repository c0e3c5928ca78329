package configs

import (
	"slices"
	"strings"
	"testing"
)

func TestDNSServers(t *testing.T) {
	c, err := parseWith(t, "sip:\n  dns_servers: [\"127.0.0.1:5353\", \"[::1]:53\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.DNSServers(); !slices.Equal(got, []string{"127.0.0.1:5353", "[::1]:53"}) {
		t.Errorf("DNSServers() = %v", got)
	}
	c, err = parseWith(t, "log:\n  level: info\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.DNSServers(); got != nil {
		t.Errorf("default DNSServers() = %v, want nil (resolv.conf)", got)
	}
	_, err = parseWith(t, "sip:\n  dns_servers: [ns.example.com:53]\n")
	if err == nil || !strings.Contains(err.Error(), `sip.dns_servers[0]: "ns.example.com:53": "ns.example.com" is not an IP address`) {
		t.Errorf("host name: err = %v", err)
	}
}
