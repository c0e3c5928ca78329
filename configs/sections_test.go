package configs

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func parseWith(t *testing.T, section string) (*Config, error) {
	t.Helper()
	return Parse("t.yaml", []byte(section+"listen:\n  - address: 0.0.0.0:5060\n"))
}

// The relay takes RTP on even ports and RTCP on the odd one above (RFC
// 3550 §11); the lab's "two pairs" range must pass, one pair must not.
func TestMediaPortRanges(t *testing.T) {
	tests := []struct {
		ports    string
		min, max int
		err      string
	}{
		{ports: "20000-29999", min: 20000, max: 29999},
		{ports: "20000-20003", min: 20000, max: 20003},
		{ports: "1024-1027", min: 1024, max: 1027},
		{ports: "65532-65535", min: 65532, max: 65535},
		{ports: " 40000 - 40010", min: 40000, max: 40010},
		{ports: "20000-20002", err: "holds 1 port pair(s); at least 2 are needed"},
		{ports: "20000-20000", err: "holds 0 port pair(s)"},
		{ports: "30000-20000", err: "runs backwards"},
		{ports: "1000-2000", err: "is not within 1024-65535"},
		{ports: "60000-70000", err: "is not within 1024-65535"},
		{ports: "20001-20009", err: "starts at an odd port"},
		{ports: "-20000", err: "is not a port range like 20000-29999"},
		{ports: "20000-", err: "is not a port range"},
		{ports: "a-b", err: "is not a port range"},
	}
	for _, tt := range tests {
		c, err := parseWith(t, "media:\n  ports: \""+tt.ports+"\"\n")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ports %q: error = %v; want %q", tt.ports, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ports %q: %v", tt.ports, err)
			continue
		}
		if _, m := c.Media(); m.PortMin != tt.min || m.PortMax != tt.max {
			t.Errorf("ports %q: Media() range %d-%d; want %d-%d", tt.ports, m.PortMin, m.PortMax, tt.min, tt.max)
		}
	}
}

func TestMediaTimeouts(t *testing.T) {
	tests := []struct {
		yaml string
		err  string
	}{
		{yaml: "  timeout: 5s\n  hold_timeout: 5s\n"},
		{yaml: "  timeout: 1s\n  latch_window: 100ms\n  drain: 50ms\n"},
		{yaml: "  timeout: 500ms\n", err: "media.timeout: 500ms must be at least 1s"},
		{yaml: "  hold_timeout: 25h\n", err: "media.hold_timeout: 25h0m0s must be at least 1s and at most 24h0m0s"},
		{yaml: "  timeout: 10s\n  hold_timeout: 9s\n", err: "must not be shorter than media.timeout (10s)"},
		{yaml: "  latch_window: 0s\n", err: "media.latch_window: 0s must be more than 0"},
		{yaml: "  drain: 11m\n", err: "media.drain: 11m0s must be more than 0 and at most 10m0s"},
		{yaml: "  listen_ip: \"\"\n", err: `"" is not an IP address`},
		{yaml: "  max_streams: 32\n"},
		{yaml: "  max_streams: 0\n", err: "media.max_streams: 0 is out of range 1-32"},
		{yaml: "  max_streams: 33\n", err: "media.max_streams: 33 is out of range 1-32"},
	}
	for _, tt := range tests {
		_, err := parseWith(t, "media:\n"+tt.yaml)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("media:\n%s error = %v; want %q", tt.yaml, err, tt.err)
		}
	}
}

// anchor: false is the switch for media.Passthrough; everything else of
// the section is still mapped.
func TestMediaMapping(t *testing.T) {
	c, err := parseWith(t, "media:\n  anchor: false\n  ports: 40000-40999\n  listen_ip: 10.0.0.5\n  drain: 5s\n  timeout: 20s\n  hold_timeout: 1h\n  latch_window: 3s\n")
	if err != nil {
		t.Fatal(err)
	}
	anchor, m := c.Media()
	if anchor || m.PortMin != 40000 || m.PortMax != 40999 || m.ListenIP.String() != "10.0.0.5" ||
		m.Drain != 5*time.Second || m.Timeout != 20*time.Second || m.HoldTimeout != time.Hour || m.LatchWindow != 3*time.Second {
		t.Errorf("Media() = %v, %+v", anchor, m)
	}
	if m.Listen == nil || m.Logger == nil {
		t.Error("Media() left Listen or Logger nil; want media.DefaultConfig's")
	}
}

func TestRegistrationsAndKeepaliveMapping(t *testing.T) {
	secret := strings.Repeat("a5", 32)
	c, err := parseWith(t, "registrations:\n  nat_expires: 30s\n  token_secret: "+secret+"\nkeepalive:\n  method: crlf\n  interval: 100ms\n  max_missed: 5\nnat:\n  stun_refresh: 30s\n")
	if err != nil {
		t.Fatal(err)
	}
	s := c.SBC()
	if s.Registrations.NATExpires != 30*time.Second || !bytes.Equal(s.Registrations.TokenSecret, bytes.Repeat([]byte{0xa5}, 32)) {
		t.Errorf("Registrations = %+v", s.Registrations)
	}
	if s.Keepalive.Method != "crlf" || s.Keepalive.Interval != 100*time.Millisecond || s.Keepalive.MaxMissed != 5 {
		t.Errorf("Keepalive = %+v", s.Keepalive)
	}
	if c.NATRefresh() != 30*time.Second {
		t.Errorf("NATRefresh() = %v; want 30s", c.NATRefresh())
	}
	// No secret: nil, so sbc draws a random key at each start.
	if d := Default().SBC().Registrations.TokenSecret; d != nil {
		t.Errorf("default TokenSecret = %x; want nil", d)
	}
}

// A bad secret is named but never echoed: error text lands in logs.
func TestTokenSecretNotEchoed(t *testing.T) {
	for _, secret := range []string{"zz" + strings.Repeat("00", 20), "00112233"} {
		_, err := parseWith(t, "registrations:\n  token_secret: \""+secret+"\"\n")
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("token_secret %q: error = %v; want one that does not repeat it", secret, err)
		}
	}
}
