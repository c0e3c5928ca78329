package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func mustPolicy(t *testing.T, cfg Config) *Policy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestClassify(t *testing.T) {
	p := mustPolicy(t, Config{Peers: []Peer{
		{Name: "lan", Networks: prefixes("10.0.0.0/8")},
		{Name: "pbx", Networks: prefixes("10.0.0.10/32"), Address: "10.0.0.10:5060", Role: RolePBX},
		{Name: "proxies", Networks: prefixes("10.1.0.0/16", "2001:db8::/32"), Role: RoleProxy, NAT: NATNever},
		{Name: "v6host", Networks: prefixes("2001:db8::5/128")},
		{Name: "mapped", Networks: prefixes("::ffff:192.0.2.0/120")},
	}})
	tests := []struct {
		src      string
		wantName string
		wantRole Role
		wantNAT  NATMode
	}{
		{"10.0.0.10", "pbx", RolePBX, NATAuto},           // /32 beats /8
		{"10.0.0.11", "lan", RoleEndpoint, NATAuto},      // only /8 contains it
		{"10.1.2.3", "proxies", RoleProxy, NATNever},     // /16 beats /8
		{"::ffff:10.0.0.10", "pbx", RolePBX, NATAuto},    // v4-mapped source
		{"2001:db8::5", "v6host", RoleEndpoint, NATAuto}, // /128 beats /32
		{"2001:db8::6", "proxies", RoleProxy, NATNever},
		{"192.0.2.77", "mapped", RoleEndpoint, NATAuto}, // v4-mapped prefix unmapped
		{"fe80::1%eth0", "", RoleEndpoint, NATAuto},
		{"203.0.113.9", "", RoleEndpoint, NATAuto},
		{"11.0.0.1", "", RoleEndpoint, NATAuto},
	}
	for _, tt := range tests {
		got := p.Classify(netip.MustParseAddr(tt.src))
		if got.Name != tt.wantName || got.Role != tt.wantRole || got.NAT != tt.wantNAT {
			t.Errorf("Classify(%s) = %q/%s/%s; want %q/%s/%s", tt.src,
				got.Name, got.Role, got.NAT, tt.wantName, tt.wantRole, tt.wantNAT)
		}
		if got.Known() != (tt.wantName != "") {
			t.Errorf("Classify(%s).Known() = %v", tt.src, got.Known())
		}
	}
	if got := p.Classify(netip.Addr{}); got.Known() {
		t.Errorf("Classify(invalid) = %q; want unknown", got.Name)
	}
}

func TestPeerLookupAndDefaults(t *testing.T) {
	p := mustPolicy(t, Config{Peers: []Peer{{Name: "pbx", Address: "pbx.example:5080"}}, MaxCalls: 7})
	got, ok := p.Peer("pbx")
	if !ok || got.Role != RoleEndpoint || got.NAT != NATAuto || got.Transport != "udp" {
		t.Errorf("Peer(pbx) = %+v, %v; want defaults endpoint/auto/udp", got, ok)
	}
	if _, ok := p.Peer(""); ok {
		t.Error(`Peer("") found a peer`)
	}
	if _, ok := p.Peer("nope"); ok {
		t.Error(`Peer("nope") found a peer`)
	}
	if p.MaxCalls() != 7 {
		t.Errorf("MaxCalls = %d", p.MaxCalls())
	}
}

func TestRoute(t *testing.T) {
	peers := []Peer{
		{Name: "pbx", Networks: prefixes("10.0.0.10/32"), Address: "10.0.0.10:5060", Role: RolePBX},
		{Name: "carrier", Address: "[2001:db8::7]:5070", Transport: "tcp", Role: RoleTrunk},
		{Name: "core", Role: RoleProxy},
	}
	explicit := mustPolicy(t, Config{Peers: peers, Routes: []Route{
		{From: "carrier", To: "tcp:192.0.2.1:5062"},
		{From: "core", To: "192.0.2.2:5063"},
		{From: "pbx", To: "request-uri"},
		{From: "*", To: "pbx"},
	}})
	defaults := mustPolicy(t, Config{Peers: peers})
	pbx, _ := explicit.Peer("pbx")
	carrier, _ := explicit.Peer("carrier")
	core, _ := explicit.Peer("core")
	unknown := explicit.Classify(netip.MustParseAddr("198.51.100.1"))

	tests := []struct {
		name string
		p    *Policy
		from Peer
		ruri RequestURI
		want Target
	}{
		{"trunk to fixed tcp address", explicit, carrier, RequestURI{Host: "x"},
			Target{Kind: TargetAddress, Host: "192.0.2.1", Port: 5062, Transport: "tcp",
				Rule: `route 1: from "carrier" to tcp:192.0.2.1:5062`}},
		{"fixed address defaults to udp", explicit, core, RequestURI{},
			Target{Kind: TargetAddress, Host: "192.0.2.2", Port: 5063, Transport: "udp",
				Rule: `route 2: from "core" to 192.0.2.2:5063`}},
		{"pbx by request-uri, defaults", explicit, pbx, RequestURI{Host: "203.0.113.50"},
			Target{Kind: TargetRequestURI, Host: "203.0.113.50", Port: 0, Transport: "",
				Rule: `route 3: from "pbx" to request-uri`}},
		{"pbx by request-uri, explicit port and TCP", explicit, pbx,
			RequestURI{Host: "2001:db8::1", Port: 5080, Transport: "TCP"},
			Target{Kind: TargetRequestURI, Host: "2001:db8::1", Port: 5080, Transport: "tcp",
				Rule: `route 3: from "pbx" to request-uri`}},
		{"unknown source to peer", explicit, unknown, RequestURI{Host: "ignored"},
			Target{Kind: TargetPeer, Peer: pbx, Host: "10.0.0.10", Port: 5060, Transport: "udp",
				Rule: `route 4: from "*" to pbx`}},
		{"default routes: pbx follows the URI", defaults, pbx, RequestURI{Host: "phone.example", Port: 5062},
			Target{Kind: TargetRequestURI, Host: "phone.example", Port: 5062, Transport: "",
				Rule: `route 1: from "pbx" to request-uri`}},
		{"default routes: trunk goes to the pbx", defaults, carrier, RequestURI{Host: "x"},
			Target{Kind: TargetPeer, Peer: pbx, Host: "10.0.0.10", Port: 5060, Transport: "udp",
				Rule: `route 2: from "*" to pbx`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Route(tt.from, tt.ruri)
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			if got.Kind != tt.want.Kind || got.Host != tt.want.Host || got.Port != tt.want.Port ||
				got.Transport != tt.want.Transport || got.Rule != tt.want.Rule || got.Peer.Name != tt.want.Peer.Name {
				t.Errorf("Route =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestRouteErrors(t *testing.T) {
	peers := []Peer{
		{Name: "pbx", Address: "10.0.0.10:5060", Role: RolePBX},
		{Name: "phones", Networks: prefixes("192.168.0.0/16")},
	}
	p := mustPolicy(t, Config{Peers: peers, Routes: []Route{{From: "pbx", To: "request-uri"}}})
	pbx, _ := p.Peer("pbx")
	phones, _ := p.Peer("phones")
	tests := []struct {
		name string
		from Peer
		ruri RequestURI
		want error
		text string
	}{
		{"no route for a configured peer", phones, RequestURI{Host: "x"}, ErrNoRoute, "from peer phones"},
		{"no route for an unknown peer", Peer{}, RequestURI{Host: "x"}, ErrNoRoute, "from unknown peer"},
		{"R-URI without host", pbx, RequestURI{}, ErrBadRequestURI, "no host"},
		{"R-URI port out of range", pbx, RequestURI{Host: "h", Port: 70000}, ErrBadRequestURI, "70000"},
		{"R-URI transport sctp", pbx, RequestURI{Host: "h", Transport: "sctp"}, ErrBadRequestURI, `"sctp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Route(tt.from, tt.ruri)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Route error = %v; want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
	none := mustPolicy(t, Config{Peers: []Peer{{Name: "a"}}})
	if _, err := none.Route(Peer{}, RequestURI{Host: "x"}); !errors.Is(err, ErrNoRoute) {
		t.Errorf("no routes and no pbx peer: err = %v; want ErrNoRoute", err)
	}
}

func TestNewErrors(t *testing.T) {
	pbx := Peer{Name: "pbx", Address: "10.0.0.10:5060", Networks: prefixes("10.0.0.10/32")}
	tests := []struct {
		name string
		cfg  Config
		want []string // every fragment must appear
	}{
		{"duplicate peer name", Config{Peers: []Peer{pbx, pbx}},
			[]string{`peer 2: name "pbx" is used twice`}},
		{"empty name", Config{Peers: []Peer{{}}}, []string{"a name is required"}},
		{"reserved name", Config{Peers: []Peer{{Name: "*"}}}, []string{`"*" is reserved`}},
		{"name with colon", Config{Peers: []Peer{{Name: "a:b"}}}, []string{"may hold only"}},
		{"bad role", Config{Peers: []Peer{{Name: "gw", Role: "gateway"}}},
			[]string{`role "gateway" is not one of endpoint, pbx, proxy, trunk`}},
		{"bad nat", Config{Peers: []Peer{{Name: "gw", NAT: "yes"}}},
			[]string{`nat "yes" is not one of auto, always, never`}},
		{"bad transport", Config{Peers: []Peer{{Name: "gw", Transport: "sctp"}}},
			[]string{`transport "sctp" is not one of udp, tcp`}},
		{"bad address", Config{Peers: []Peer{{Name: "gw", Address: "gw example"}}},
			[]string{`address "gw example" is not an IP address or a host name`}},
		{"port zero", Config{Peers: []Peer{{Name: "gw", Address: "10.0.0.1:0"}}},
			[]string{`port "0" is not in 1..65535`}},
		{"invalid network", Config{Peers: []Peer{{Name: "gw", Networks: []netip.Prefix{{}}}}},
			[]string{"invalid network"}},
		{"network shared by two peers",
			Config{Peers: []Peer{pbx, {Name: "b", Networks: prefixes("10.0.0.10/32")}}},
			[]string{"network 10.0.0.10/32 already identifies peer pbx"}},
		{"route from unknown peer", Config{Peers: []Peer{pbx}, Routes: []Route{{From: "pxb", To: "pbx"}}},
			[]string{`route 1 (from "pxb" to pbx): from: no peer is named "pxb"`}},
		{"route to unknown peer", Config{Peers: []Peer{pbx}, Routes: []Route{{From: "*", To: "pxb"}}},
			[]string{`to: no peer is named "pxb"`}},
		{"route to peer without address",
			Config{Peers: []Peer{{Name: "core"}}, Routes: []Route{{From: "*", To: "core"}}},
			[]string{"peer core has no address"}},
		{"route to bad address", Config{Routes: []Route{{From: "*", To: "udp:host"}}},
			[]string{`"host" is not HOST:PORT`}},
		{"unreachable after catch-all", Config{Peers: []Peer{pbx},
			Routes: []Route{{From: "*", To: "pbx"}, {From: "pbx", To: "request-uri"}}},
			[]string{"route 2 (from \"pbx\" to request-uri) can never match: route 1 catches every source first"}},
		{"unreachable duplicate from", Config{Peers: []Peer{pbx},
			Routes: []Route{{From: "pbx", To: "request-uri"}, {From: "pbx", To: "pbx"}}},
			[]string{"route 2 (from \"pbx\" to pbx) can never match: route 1 has the same from"}},
		{"negative max calls", Config{MaxCalls: -1}, []string{"max calls -1 is negative"}},
		{"all problems at once", Config{Peers: []Peer{{Name: "x", Role: "boss"}, {Name: "y", NAT: "maybe"}},
			Routes: []Route{{From: "z", To: "x"}}, MaxCalls: -3},
			[]string{"boss", "maybe", `"z"`, "-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if err == nil {
				t.Fatalf("New succeeded: %+v", p)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks %q", err, w)
				}
			}
		})
	}
}
