package configs

import (
	"time"

	"github.com/natsbc/natsbc/ingress"
)

// checkSecurity: the shield's numbers must make sense together.
func (k *checker) checkSecurity(s *SecurityConfig) {
	for _, v := range []struct {
		path string
		n    int
	}{{"security.rate", s.Rate}, {"security.burst", s.Burst}, {"security.peer_rate", s.PeerRate},
		{"security.peer_burst", s.PeerBurst}, {"security.ban_after", s.BanAfter}, {"security.unproven_credit", s.UnprovenCredit}} {
		if v.n < 0 {
			k.fail(v.path, "%d is negative (0 turns it off)", v.n)
		}
	}
	// A bucket smaller than one request lets nothing through.
	if s.Rate > 0 && s.Burst < 1 {
		k.fail("security.burst", "%d lets no request through at rate %d: at least 1", s.Burst, s.Rate)
	}
	if s.PeerRate > 0 && s.PeerBurst < 1 {
		k.fail("security.peer_burst", "%d lets no request through at peer_rate %d: at least 1", s.PeerBurst, s.PeerRate)
	}
	if s.BanTime < time.Second || s.BanTime > 30*24*time.Hour {
		k.fail("security.ban_time", "%v must be at least 1s and at most 720h", s.BanTime)
	}
	if s.MaxSources < 1 {
		k.fail("security.max_sources", "%d: at least 1", s.MaxSources)
	}
	if s.AuthFailures < 0 {
		k.fail("security.auth_failures", "%d is negative (0 turns it off)", s.AuthFailures)
	}
	if s.AuthFailures > 0 && (s.AuthWindow < time.Second || s.AuthWindow > 24*time.Hour) {
		k.fail("security.auth_window", "%v must be at least 1s and at most 24h", s.AuthWindow)
	}
	if s.TCPMaxConnections < 0 || s.TCPMaxPerSource < 0 {
		k.fail("security.tcp_max_connections", "%d/%d: negative (0 means no cap)", s.TCPMaxConnections, s.TCPMaxPerSource)
	}
	// A header block may take a round trip or two; an idle connection
	// must outlive a phone's keepalive interval.
	if s.TCPHeaderTimeout < 0 || s.TCPHeaderTimeout > 0 && s.TCPHeaderTimeout < time.Second {
		k.fail("security.tcp_header_timeout", "%v: at least 1s (0 turns it off)", s.TCPHeaderTimeout)
	}
	if s.TCPIdleTimeout < 0 || s.TCPIdleTimeout > 0 && s.TCPIdleTimeout < 30*time.Second {
		k.fail("security.tcp_idle_timeout", "%v: at least 30s (0 turns it off)", s.TCPIdleTimeout)
	}
	if h := s.RealSourceHeader; h != "" && !ingress.IsToken(h) {
		k.fail("security.real_source_header", "%q is not a header name (RFC 3261 token: letters, digits, -.!%%*_+`'~)", h)
	}
}
