package nat

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPublicAddressStartLearnsTheAddress(t *testing.T) {
	server := startTestSTUNServer(t, answerHonestly)
	for _, name := range []string{server.addr().String(), "stun:" + server.addr().String()} {
		p, err := NewPublicAddress(PublicAddressConfig{Server: name}) // default Dial
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Addr().IsValid() {
			t.Error("address known before Start")
		}
		if err := p.Start(t.Context()); err != nil {
			t.Fatalf("%s: Start: %v", name, err)
		}
		if got := p.Addr(); got != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("%s: Addr = %v, want 127.0.0.1", name, got)
		}
		p.Close()
		p.Close() // idempotent
	}
}

func TestPublicAddressStartFailsClearly(t *testing.T) {
	server := startTestSTUNServer(t, func([]byte, netip.AddrPort) []byte { return nil })
	p, err := NewPublicAddress(PublicAddressConfig{Server: "stun:" + server.addr().String(), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Start(t.Context())
	want := "cannot learn public address from stun:" + server.addr().String() + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Start = %v, want an error starting %q", err, want)
	}
	if p.Addr().IsValid() {
		t.Error("an address after a failed Start")
	}
}

// OnChange fires when the server starts answering another mapping, and
// not for a refresh that finds the same address.
func TestPublicAddressOnChange(t *testing.T) {
	fake := &fakeMapping{mapped: netip.MustParseAddrPort("192.0.2.1:1000"), answered: make(chan netip.AddrPort, 8)}
	server := startTestSTUNServer(t, fake.answer)
	changes := make(chan netip.Addr, 8)
	p, err := NewPublicAddress(PublicAddressConfig{
		Server:   server.addr().String(),
		Dial:     func() (net.PacketConn, error) { return net.ListenPacket("udp4", "127.0.0.1:0") },
		OnChange: func(a netip.Addr) { changes <- a },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	<-fake.answered
	if got := p.Addr(); got != netip.MustParseAddr("192.0.2.1") {
		t.Fatalf("Addr = %v after Start", got)
	}

	fake.set(netip.MustParseAddrPort("192.0.2.1:2000")) // same IP, other port: no change
	p.Refresh()
	<-fake.answered
	fake.set(netip.MustParseAddrPort("198.51.100.7:1000"))
	p.Refresh()
	<-fake.answered
	select {
	case got := <-changes:
		if got != netip.MustParseAddr("198.51.100.7") {
			t.Fatalf("OnChange(%v): a refresh without a new IP reported a change", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnChange not called for a new mapping")
	}
	if got := p.Addr(); got != netip.MustParseAddr("198.51.100.7") {
		t.Errorf("Addr = %v after the change", got)
	}
}

// The interval alone, without Refresh, picks up a change.
func TestPublicAddressRefreshesOnInterval(t *testing.T) {
	fake := &fakeMapping{mapped: netip.MustParseAddrPort("192.0.2.1:1000")}
	server := startTestSTUNServer(t, fake.answer)
	changes := make(chan netip.Addr, 1)
	p, err := NewPublicAddress(PublicAddressConfig{
		Server:   server.addr().String(),
		Interval: 20 * time.Millisecond,
		OnChange: func(a netip.Addr) {
			select {
			case changes <- a:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fake.set(netip.MustParseAddrPort("198.51.100.7:1000"))
	select {
	case got := <-changes:
		if got != netip.MustParseAddr("198.51.100.7") {
			t.Fatalf("OnChange(%v)", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no refresh on the interval")
	}
}

func TestPublicAddressCloseWithoutStart(t *testing.T) {
	p, err := NewPublicAddress(PublicAddressConfig{Server: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := p.Start(t.Context()); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestParseSTUNServer(t *testing.T) {
	cases := []struct {
		in   string
		host string
		port uint16
		ok   bool
	}{
		{"stun.example.net:3479", "stun.example.net", 3479, true},
		{"stun:stun.example.net", "stun.example.net", 3478, true},
		{"stun:192.0.2.1:19302", "192.0.2.1", 19302, true},
		{"[2001:db8::1]:3478", "2001:db8::1", 3478, true},
		{"stun:[2001:db8::1]", "2001:db8::1", 3478, true},
		{"", "", 0, false},
		{"stun:", "", 0, false},
		{"host:0", "", 0, false},
		{"host:99999", "", 0, false},
		{"host:port", "", 0, false},
	}
	for _, c := range cases {
		host, port, err := parseSTUNServer(c.in)
		if (err == nil) != c.ok || host != c.host || port != c.port {
			t.Errorf("parseSTUNServer(%q) = %q, %d, %v", c.in, host, port, err)
		}
	}
}
