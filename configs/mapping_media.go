package configs

import (
	"time"

	"github.com/natsbc/natsbc/media"
)

// Media maps the `media:` section onto the relay's settings. anchor false
// means media.Passthrough: SDP passes untouched and nothing is relayed (cfg
// is still filled, for logs). Listen and Logger keep media.DefaultConfig's
// values for the caller to replace.
func (c *Config) Media() (anchor bool, cfg media.Config) {
	cfg = media.DefaultConfig()
	m := c.Relay
	cfg.PortMin, cfg.PortMax = m.PortMin, m.PortMax
	cfg.ListenIP = m.ListenIP
	cfg.Drain = m.Drain
	cfg.Timeout = m.Timeout
	cfg.HoldTimeout = m.HoldTimeout
	cfg.LatchWindow = m.LatchWindow
	cfg.MaxStreams = m.MaxStreams
	return m.Anchor, cfg
}

// NATRefresh is how often sockets advertised as stun:HOST:PORT re-learn
// their public address.
func (c *Config) NATRefresh() time.Duration { return c.NAT.STUNRefresh }
