package sbc

import (
	"testing"
	"time"

	"github.com/natsbc/natsbc/ingress"
)

// A WebSocket socket has no header-block timer, but its upgrade request
// is bounded by security.tcp_header_timeout, or 10 s when that is off.
func TestStreamLimitsBoundWebSocketUpgrade(t *testing.T) {
	s := &Server{}
	for _, c := range []struct {
		network      string
		header, want time.Duration
	}{
		{"ws", 3 * time.Second, 3 * time.Second},
		{"wss", 0, 10 * time.Second},
		{"tcp", 3 * time.Second, 0},
	} {
		got := s.streamLimits(ingress.TCPConfig{HeaderTimeout: c.header}, ListenSpec{Network: c.network})
		if got.UpgradeTimeout != c.want {
			t.Errorf("%s, header timeout %v: upgrade timeout %v; want %v", c.network, c.header, got.UpgradeTimeout, c.want)
		}
	}
}
