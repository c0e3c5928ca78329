package sbc

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

func TestBLegRequestURI(t *testing.T) {
	pbx := policy.Peer{Name: "pbx", Address: "10.0.0.10:5060", Domains: []string{"pbx.example.com"},
		Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.8/29")}}
	toPBX := policy.Target{Kind: policy.TargetPeer, Peer: pbx, Host: "10.0.0.10", Port: 5060}
	anyDomain := pbx
	anyDomain.Domains = []string{"*"}
	tests := []struct {
		name   string
		ruri   string
		target policy.Target
		want   string
	}{
		{"routed by the R-URI: kept", "sip:bob@phone.example.com:5070;transport=tcp",
			policy.Target{Kind: policy.TargetRequestURI, Host: "phone.example.com"}, "sip:bob@phone.example.com:5070;transport=tcp"},
		{"names the peer's domain: kept (digest uri)", "sip:1000@pbx.example.com", toPBX, "sip:1000@pbx.example.com"},
		{"names the peer's address: kept", "sip:1000@10.0.0.10:5060", toPBX, "sip:1000@10.0.0.10:5060"},
		{"names an address of the peer's networks: kept", "sip:1000@10.0.0.11", toPBX, "sip:1000@10.0.0.11"},
		{"peer domains: *: kept", "sip:1000@sbc.example.net", policy.Target{Kind: policy.TargetPeer, Peer: anyDomain, Host: "10.0.0.10", Port: 5060},
			"sip:1000@sbc.example.net"},
		{"names natsbc: pointed at the peer, user=phone kept, transport dropped", "sip:+4930123@203.0.113.5;user=phone;transport=udp", toPBX,
			"sip:+4930123@10.0.0.10:5060;user=phone"},
		{"tel: kept whole (RFC 3966)", "tel:+4930123;phone-context=+49", toPBX, "tel:+4930123;phone-context=+49"},
		{"fixed address by name: kept", "sip:1000@gw.example.com",
			policy.Target{Kind: policy.TargetAddress, Host: "gw.example.com", Port: 5060}, "sip:1000@gw.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u sip.Uri
			if err := sip.ParseUri(tt.ruri, &u); err != nil {
				t.Fatal(err)
			}
			if got := bLegRequestURI(u, tt.target); got.String() != tt.want {
				t.Errorf("got %s, want %s", got.String(), tt.want)
			}
		})
	}
}
