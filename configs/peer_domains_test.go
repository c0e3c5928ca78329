package configs

import (
	"slices"
	"strings"
	"testing"
)

func TestPeerDomainsAndHostAddress(t *testing.T) {
	c, err := parseWith(t, "peers:\n  - name: pbx\n    networks: [10.0.0.10/32]\n    address: pbx.example.com\n    domains: [pbx.example.com, \"*\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy().Peers[0]
	if p.Address != "pbx.example.com" || !slices.Equal(p.Domains, []string{"pbx.example.com", "*"}) {
		t.Errorf("peer = %+v; want the address without port (RFC 3263 SRV) and both domains", p)
	}
	_, err = parseWith(t, "peers:\n  - name: pbx\n    networks: [10.0.0.10/32]\n    domains: [\"sip:pbx.example.com\"]\n")
	if err == nil || !strings.Contains(err.Error(), `peers[0].domains[0]: "sip:pbx.example.com" is not a host name`) {
		t.Errorf("bad domain: err = %v", err)
	}
}
