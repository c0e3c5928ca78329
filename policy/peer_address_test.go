package policy

import "testing"

func TestSplitPeerAddress(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		bad  bool
	}{
		{in: "10.0.0.10:5060", host: "10.0.0.10", port: 5060},
		{in: "pbx.example.com:5080", host: "pbx.example.com", port: 5080},
		{in: "pbx.example.com", host: "pbx.example.com"}, // RFC 3263 finds the port
		{in: "10.0.0.10", host: "10.0.0.10"},
		{in: "2001:db8::1", host: "2001:db8::1"},
		{in: "[2001:db8::1]", host: "2001:db8::1"},
		{in: "[2001:db8::1]:5062", host: "2001:db8::1", port: 5062},
		{in: "pbx.example.com:0", bad: true},
		{in: "pbx example", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		host, port, err := SplitPeerAddress(tt.in)
		if tt.bad != (err != nil) || host != tt.host && !tt.bad || port != tt.port && !tt.bad {
			t.Errorf("SplitPeerAddress(%q) = %q, %d, %v", tt.in, host, port, err)
		}
	}
}

// A peer addressed by a host name alone leaves the transport to NAPTR
// (RFC 3263 §4.1) unless it sets one; with a port or an IP it is UDP.
func TestPeerTransportLeftToNAPTR(t *testing.T) {
	for _, tt := range []struct{ address, transport, want string }{
		{"pbx.example.com", "", ""},
		{"pbx.example.com", "tcp", "tcp"},
		{"pbx.example.com:5060", "", "udp"},
		{"10.0.0.10", "", "udp"},
	} {
		p, err := New(Config{
			Peers:  []Peer{{Name: "pbx", Address: tt.address, Transport: tt.transport}},
			Routes: []Route{{From: Any, To: "pbx"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Route(Peer{}, RequestURI{Host: "x"})
		if err != nil || got.Transport != tt.want {
			t.Errorf("address %q transport %q: target transport %q (%v), want %q", tt.address, tt.transport, got.Transport, err, tt.want)
		}
	}
}
