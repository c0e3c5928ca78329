package configs

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseListen(t *testing.T) {
	tests := []struct {
		in   string
		want []ListenEntry
		err  string
	}{
		{in: "0.0.0.0:5060", want: []ListenEntry{{Address: netip.MustParseAddrPort("0.0.0.0:5060"), Transport: "both"}}},
		{in: "udp:10.0.0.5:5060", want: []ListenEntry{{Address: netip.MustParseAddrPort("10.0.0.5:5060"), Transport: "udp"}}},
		{in: "tcp:[2001:db8::5]:5070", want: []ListenEntry{{Address: netip.MustParseAddrPort("[2001:db8::5]:5070"), Transport: "tcp"}}},
		{in: "udp:1.2.3.4:5060, tcp:[::]:5061", want: []ListenEntry{
			{Address: netip.MustParseAddrPort("1.2.3.4:5060"), Transport: "udp"},
			{Address: netip.MustParseAddrPort("[::]:5061"), Transport: "tcp"}}},
		{in: "", err: `"" is not IP:PORT`},
		{in: "5060", err: `"5060" is not IP:PORT`},
		{in: "sctp:1.2.3.4:5060", err: `"sctp:1.2.3.4" is not an IP address`},
		{in: "host.example:5060", err: `"host.example" is not an IP address`},
		{in: "1.2.3.4:0", err: "port 0 is not allowed"},
		{in: "1.2.3.4:65536", err: `port "65536" is not in 1..65535`},
		{in: "::1:5060", err: "an IPv6 address needs brackets"},
	}
	for _, tt := range tests {
		got, err := ParseListen(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseListen(%q) error = %v; want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("ParseListen(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], tt.want[i]) {
				t.Errorf("ParseListen(%q)[%d] = %+v; want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestApply(t *testing.T) {
	c := Default()
	err := c.Apply(Overrides{
		Listen:    []string{"udp:203.0.113.5:5060", "10.0.0.5:5060"},
		PBX:       "10.0.0.10:5070",
		Advertise: []string{"198.51.100.7", "10.0.0.5:5060=10.0.0.99"},
		LogFormat: "json",
		LogLevel:  "debug",
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	specs := c.Listen()
	if len(specs) != 3 {
		t.Fatalf("Listen() = %+v; want 3 specs", specs)
	}
	want := []struct{ name, network, addr, adv string }{
		{"listen1", "udp", "203.0.113.5:5060", "198.51.100.7"},
		{"listen2", "udp", "10.0.0.5:5060", "10.0.0.99"},
		{"listen2", "tcp", "10.0.0.5:5060", "10.0.0.99"},
	}
	for i, w := range want {
		s := specs[i]
		if s.Name != w.name || s.Network != w.network || s.Addr.String() != w.addr || s.Advertise.String() != w.adv {
			t.Errorf("spec %d = %+v; want %+v", i, s, w)
		}
	}
	if len(c.Peers) != 1 {
		t.Fatalf("peers = %+v; want the pbx replaced, not added", c.Peers)
	}
	pbx := c.Peers[0]
	if pbx.Name != "pbx" || pbx.Address != "10.0.0.10:5070" || len(pbx.Networks) != 1 ||
		pbx.Networks[0] != netip.MustParsePrefix("10.0.0.10/32") || pbx.Role != "pbx" {
		t.Errorf("pbx = %+v", pbx)
	}
	if !c.LogJSON() || c.LogLevel().String() != "DEBUG" {
		t.Errorf("log = %v json=%v", c.LogLevel(), c.LogJSON())
	}
}

func TestApplyByName(t *testing.T) {
	c, err := Load("examples/pbx-front.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Overrides{Advertise: []string{"outside=[2001:db8::7]"}, PBX: "pbx.internal:5060"}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := c.Sockets[0].Advertise; got != netip.MustParseAddr("2001:db8::7") {
		t.Errorf("outside advertise = %v", got)
	}
	if c.Sockets[1].Advertise.IsValid() {
		t.Errorf("inside advertise = %v; want none", c.Sockets[1].Advertise)
	}
	if c.Peers[0].Address != "pbx.internal:5060" || len(c.Peers[0].Networks) != 0 {
		t.Errorf("pbx by host name = %+v; want address kept, no networks", c.Peers[0])
	}
}

// --advertise stun:... replaces an IP given in the file and the other way
// round: a socket advertises one or the other.
func TestApplyAdvertiseSTUN(t *testing.T) {
	c, err := Load("examples/carrier-interconnect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Overrides{Advertise: []string{"carriers=stun:stun.example.net", "10.20.0.5:5060=stun:[2001:db8::3]:3479"}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	specs := c.Listen()
	if specs[0].Advertise.IsValid() || specs[0].AdvertiseSTUN != "stun.example.net:3478" {
		t.Errorf("carriers = %+v; want only stun.example.net:3478", specs[0])
	}
	if specs[1].AdvertiseSTUN != "[2001:db8::3]:3479" {
		t.Errorf("core = %+v; want [2001:db8::3]:3479", specs[1])
	}
	if err := c.Apply(Overrides{Advertise: []string{"carriers=198.51.100.21"}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if s := c.Listen()[0]; s.AdvertiseSTUN != "" || s.Advertise != netip.MustParseAddr("198.51.100.21") {
		t.Errorf("carriers = %+v; want the IP and no STUN server", s)
	}
}

func TestApplyAddsPBXAndDefaultRoutes(t *testing.T) {
	c, err := Parse("t.yaml", []byte("listen:\n  - address: 127.0.0.1:5060\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(Overrides{PBX: "[::1]:5080"}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	p := mustPolicy(t, c)
	tgt, err := p.Route(p.Classify(netip.MustParseAddr("192.0.2.1")), policyURI("x"))
	if err != nil || tgt.Host != "::1" || tgt.Port != 5080 {
		t.Errorf("route = %+v, %v; want the new pbx", tgt, err)
	}
	if got := p.Classify(netip.MustParseAddr("::1")); got.Name != "pbx" {
		t.Errorf("Classify(::1) = %q; want pbx", got.Name)
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Overrides
		want string
	}{
		{"bad listen", Overrides{Listen: []string{"nowhere"}},
			`--listen: "nowhere" is not IP:PORT (IPv6 in brackets: [::]:5060)`},
		{"bad pbx", Overrides{PBX: "10.0.0.1"},
			`--pbx: "10.0.0.1" is not HOST:PORT (IPv6 in brackets: [2001:db8::1]:5060)`},
		{"bad advertise ip", Overrides{Advertise: []string{"public"}},
			`--advertise: "public" is not an IP address or stun:HOST[:PORT]`},
		{"advertise stun without server", Overrides{Advertise: []string{"main=stun:"}},
			`--advertise: "stun:": no STUN server: write stun:HOST or stun:HOST:PORT`},
		{"advertise stun bad port", Overrides{Advertise: []string{"stun:stun.example.net:0"}},
			`--advertise: "stun:stun.example.net:0": port "0" is not in 1..65535`},
		{"advertise names no socket", Overrides{Advertise: []string{"web=1.2.3.4"}},
			`--advertise: "web=1.2.3.4": no listen socket is named or bound to "web"`},
		{"unspecified advertise", Overrides{Advertise: []string{"0.0.0.0"}},
			`--advertise: listen[0].advertise: 0.0.0.0 cannot be reached: give the public IP of this socket`},
		{"bad log level", Overrides{LogLevel: "loud"},
			`--log-level: log.level: "loud" is not one of debug, info, warn, error`},
		{"bad log format", Overrides{LogFormat: "xml"},
			`--log-format: log.format: "xml" is not one of text, json`},
		{"listens clash", Overrides{Listen: []string{"0.0.0.0:5060", "udp:10.0.0.1:5060"}},
			`--listen: listen[1].address: 10.0.0.1:5060 overlaps listen[0] (0.0.0.0:5060) on the same port and transport`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Default().Apply(tt.o)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Apply error =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
	// A file value a flag did not replace keeps its file position.
	c, err := Parse("f.yaml", []byte("listen:\n  - address: 127.0.0.1:5060\npeers:\n  - name: pbx\n    address: 10.0.0.10:5060\n  - name: b\n    networks: [10.0.0.10/32]\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Apply(Overrides{PBX: "10.0.0.10:5060"})
	want := "f.yaml:7:16: peers[1].networks[0]: 10.0.0.10/32 already identifies peers[0] (pbx)"
	if err == nil || err.Error() != want {
		t.Errorf("Apply error = %v; want %s", err, want)
	}
}
