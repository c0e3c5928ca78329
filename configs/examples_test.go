package configs

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/natsbc/natsbc/certs/certstest"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/sbc"
)

func load(t *testing.T, path string) *Config {
	t.Helper()
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", path, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after Load(%s): %v", path, err)
	}
	return c
}

func mustPolicy(t *testing.T, c *Config) *policy.Policy {
	t.Helper()
	p, err := policy.New(c.Policy())
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	return p
}

func TestDefault(t *testing.T) {
	c := Default()
	if got, want := c.SBC(), sbc.DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("SBC() = %+v; want sbc.DefaultConfig() %+v", got, want)
	}
	anchor, mc := c.Media()
	if want := media.DefaultConfig(); !anchor || !sameMedia(mc, want) {
		t.Errorf("Media() = %v, %+v; want anchoring with media.DefaultConfig() %+v", anchor, mc, want)
	}
	if c.NATRefresh() != 5*time.Minute {
		t.Errorf("NATRefresh() = %v; want 5m", c.NATRefresh())
	}
	specs := c.Listen()
	want := netip.MustParseAddrPort("0.0.0.0:5060")
	if len(specs) != 2 || specs[0].Network != "udp" || specs[1].Network != "tcp" ||
		specs[0].Addr != want || specs[1].Addr != want || specs[0].Advertise.IsValid() {
		t.Errorf("Listen() = %+v; want udp and tcp on %s", specs, want)
	}
	if c.Routes != nil {
		t.Errorf("Routes = %#v; want nil so the defaults apply", c.Routes)
	}
	p := mustPolicy(t, c)
	pbx := p.Classify(netip.MustParseAddr("127.0.0.1"))
	if pbx.Name != "pbx" || pbx.Role != policy.RolePBX {
		t.Errorf("Classify(127.0.0.1) = %+v; want the pbx", pbx)
	}
	// Default routes: a phone's request goes to the PBX, the PBX's to the R-URI.
	tgt, err := p.Route(p.Classify(netip.MustParseAddr("203.0.113.9")), policy.RequestURI{Host: "x"})
	if err != nil || tgt.Kind != policy.TargetPeer || tgt.Host != "127.0.0.1" || tgt.Port != 5080 {
		t.Errorf("phone route = %+v, %v; want the pbx at 127.0.0.1:5080", tgt, err)
	}
	tgt, err = p.Route(pbx, policy.RequestURI{Host: "192.0.2.1", Port: 5062})
	if err != nil || tgt.Kind != policy.TargetRequestURI || tgt.Port != 5062 {
		t.Errorf("pbx route = %+v, %v; want the Request-URI", tgt, err)
	}
	if c.LogLevel().String() != "INFO" || c.LogJSON() {
		t.Errorf("log = %v json=%v; want INFO text", c.LogLevel(), c.LogJSON())
	}
}

func TestExamplePBXFront(t *testing.T) {
	c := load(t, "examples/pbx-front.yaml")
	if c.Limits.MaxCalls != 200 || c.SBC().MaxCalls != 200 || c.SBC().DrainTimeout != 2*time.Minute {
		t.Errorf("limits = %+v, drain %v", c.Limits, c.SBC().DrainTimeout)
	}
	if !c.LogJSON() {
		t.Error("want JSON logs")
	}
	specs := c.Listen()
	if len(specs) != 3 || specs[2].Name != "inside" || specs[2].Network != "udp" ||
		specs[2].Addr != netip.MustParseAddrPort("10.0.0.5:5060") {
		t.Errorf("Listen() = %+v; want outside udp+tcp and inside udp", specs)
	}
	p := mustPolicy(t, c)
	peer := p.Classify(netip.MustParseAddr("10.0.0.10"))
	if fix, _ := policy.ContactFix(peer, false, true); fix || peer.Name != "pbx" {
		t.Errorf("the PBX (%q) would get its Contact fixed", peer.Name)
	}
	phone := p.Classify(netip.MustParseAddr("198.51.100.77"))
	if fix, _ := policy.ContactFix(phone, false, true); !fix || phone.Known() {
		t.Errorf("a NATed roaming phone (%q) would keep its private Contact", phone.Name)
	}
	if phone.RelaxedLatch() || phone.KeepICE {
		t.Errorf("an unknown phone (%+v) would latch loosely or keep ICE", phone)
	}
	s := c.SBC()
	if s.Registrations.NATExpires != time.Minute || s.Registrations.TokenSecret != nil ||
		s.Keepalive.Method != sbc.KeepaliveOptions || s.Keepalive.Interval != 15*time.Second {
		t.Errorf("registrations %+v, keepalive %+v", s.Registrations, s.Keepalive)
	}
	// 200 calls with audio and video take 800 pairs; the range must hold them.
	anchor, m := c.Media()
	if pairs := (m.PortMax - m.PortMin + 1) / 2; !anchor || pairs < 200*2*2 {
		t.Errorf("media anchor=%v with %d pairs; want anchoring and >= 800 pairs", anchor, pairs)
	}
}

func TestExampleEnterpriseEdge(t *testing.T) {
	c := load(t, "examples/enterprise-edge.yaml")
	p := mustPolicy(t, c)
	proxy := p.Classify(netip.MustParseAddr("172.16.5.11"))
	if proxy.Name != "proxy" || proxy.Role != policy.RoleProxy || proxy.NAT != policy.NATNever {
		t.Errorf("Classify(172.16.5.11) = %+v; want the proxy", proxy)
	}
	phone := p.Classify(netip.MustParseAddr("192.168.20.33"))
	tgt, err := p.Route(phone, policy.RequestURI{Host: "ignored"})
	if err != nil || tgt.Peer.Name != "proxy" || tgt.Transport != "tcp" || tgt.Port != 5060 {
		t.Errorf("phone route = %+v, %v; want the proxy over tcp", tgt, err)
	}
	if c.SIP.UserAgent != "natsbc-edge" || len(c.Listen()) != 4 {
		t.Errorf("user agent %q, %d sockets", c.SIP.UserAgent, len(c.Listen()))
	}
	if ka := c.SBC().Keepalive; ka.Method != sbc.KeepaliveCRLF || ka.Interval != 20*time.Second {
		t.Errorf("keepalive = %+v; want crlf every 20s", ka)
	}
	if anchor, _ := c.Media(); !anchor {
		t.Error("media not anchored")
	}
}

func TestExampleCarrierInterconnect(t *testing.T) {
	c := load(t, "examples/carrier-interconnect.yaml")
	specs := c.Listen()
	if len(specs) != 2 || specs[0].Advertise != netip.MustParseAddr("198.51.100.20") || specs[1].Network != "tcp" {
		t.Errorf("Listen() = %+v; want carriers udp advertised as 198.51.100.20, core tcp", specs)
	}
	p := mustPolicy(t, c)
	b := p.Classify(netip.MustParseAddr("198.18.7.40"))
	if fix, rule := policy.ContactFix(b, true, false); !fix || rule != "peer carrier-b nat=always" {
		t.Errorf("carrier-b: fix=%v rule=%q; want nat=always fix", fix, rule)
	}
	a := p.Classify(netip.MustParseAddr("203.0.113.20"))
	if fix, _ := policy.ContactFix(a, false, true); fix || a.Role != policy.RoleTrunk {
		t.Errorf("carrier-a (%+v) would be fixed", a)
	}
	if !a.RelaxedLatch() || b.RelaxedLatch() {
		t.Errorf("latching carrier-a %q, carrier-b %q; want relaxed, strict", a.Latch, b.Latch)
	}
	if _, m := c.Media(); m.Timeout != 2*time.Minute || m.HoldTimeout != 4*time.Hour || m.PortMax != 39999 {
		t.Errorf("media = %+v", m)
	}
	tgt, err := p.Route(a, policy.RequestURI{Host: "x"})
	if err != nil || tgt.Peer.Name != "core" || tgt.Rule != `route 1: from "carrier-a" to core` {
		t.Errorf("carrier-a route = %+v, %v", tgt, err)
	}
	core, _ := p.Peer("core")
	tgt, err = p.Route(core, policy.RequestURI{Host: "198.18.7.40"})
	if err != nil || tgt.Kind != policy.TargetRequestURI || tgt.Host != "198.18.7.40" {
		t.Errorf("core route = %+v, %v; want the Request-URI", tgt, err)
	}
}

// sameMedia compares the settings of two media configs (functions and
// loggers cannot be compared).
func sameMedia(a, b media.Config) bool {
	a.Listen, b.Listen, a.Logger, b.Logger = nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

func policyURI(host string) policy.RequestURI { return policy.RequestURI{Host: host} }

// The WebRTC gateway example: browsers over WSS with DTLS-SRTP, SRTP
// phones over TLS with SDES, a plain-RTP PBX. Its certificate files are
// relative to the file, so the test puts the example and a test
// certificate in a directory of its own.
func TestExampleWebRTCGateway(t *testing.T) {
	dir := t.TempDir()
	body, err := os.ReadFile("examples/webrtc-gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "webrtc-gateway.yaml")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	tlsDir := filepath.Join(dir, "tls")
	if err := os.Mkdir(tlsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	certstest.NewCA(t, tlsDir, "ca").Issue(t, tlsDir, "web", "sip.example.com")
	c := load(t, path)
	bySocket := map[string]sbc.ListenSpec{}
	for _, s := range c.Listen() {
		bySocket[s.Name+"/"+s.Network] = s
	}
	web, sips := bySocket["web/wss"], bySocket["sips/tls"]
	if web.SRTP != "dtls" || sips.SRTP != "sdes" || web.TLS.CertFile != filepath.Join(tlsDir, "web.pem") {
		t.Errorf("web %+v, sips %+v; want wss with dtls and its certificate, tls with sdes", web, sips)
	}
	if _, ok := bySocket["inside/udp"]; !ok {
		t.Errorf("no inside UDP socket in %v", bySocket)
	}
	pbx := mustPolicy(t, c).Classify(netip.MustParseAddr("10.0.0.10"))
	if pbx.Name != "pbx" || pbx.SRTP != "none" || c.SBC().MediaSRTP != "passthrough" {
		t.Errorf("pbx %+v, default %q; want plain RTP towards the PBX, passthrough elsewhere", pbx, c.SBC().MediaSRTP)
	}
}
