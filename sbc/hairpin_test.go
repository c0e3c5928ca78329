package sbc

import (
	"net/netip"
	"testing"

	"github.com/natsbc/natsbc/nat"
)

// A message that came back through the PBX names natsbc's own relay
// address in its Contact and SDP: the NAT checks must not call that a NAT;
// a phone's own private addresses still count.
func TestNATChecksSkipNatsbcsOwnAddresses(t *testing.T) {
	s := &Server{}
	own := netip.MustParseAddr("10.0.0.5")
	s.noteRelayAddr(own)
	pbx := netip.MustParseAddrPort("10.0.0.10:5060")

	hairpin := nat.Observation{Transport: "udp", Source: pbx, ViaHost: "10.0.0.10", ViaPort: 5060,
		ContactHost: "10.0.0.5", ContactPort: 5060, SDPAddrs: []netip.Addr{own}}
	if v := nat.Detect(hairpin); !v.NATed() {
		t.Fatalf("the raw observation must look NATed for this test to mean anything: %v", v)
	}
	if v := nat.Detect(s.withoutOwnAddrs(hairpin)); v.NATed() {
		t.Errorf("natsbc's own Contact and SDP address judged a NAT: %v", v)
	}

	phone := hairpin
	phone.ContactHost, phone.SDPAddrs = "192.168.1.10", []netip.Addr{netip.MustParseAddr("192.168.1.10"), own}
	if v := nat.Detect(s.withoutOwnAddrs(phone)); !v.NATed() {
		t.Errorf("a private Contact that is not natsbc's lost its verdict: %v", v)
	}
}
