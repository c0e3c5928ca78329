package configs

import (
	"cmp"
	"encoding/hex"
	"io"
	"log/slog"
	"slices"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/sbc"
)

// SBC maps the file onto the signalling settings.
func (c *Config) SBC() sbc.Config {
	return sbc.Config{
		T1:                     c.SIP.T1,
		T2:                     c.SIP.T2,
		T4:                     c.SIP.T4,
		TimerC:                 c.SIP.TimerC,
		DrainTimeout:           c.Shutdown.DrainTimeout,
		MaxMessageSize:         c.SIP.MaxMessageSize,
		MaxCalls:               c.Limits.MaxCalls,
		MaxCallsPerSource:      c.Limits.MaxCallsPerSource,
		MaxTransactions:        c.Limits.MaxTransactions,
		MaxRelayPairsPerSource: c.Limits.MaxRelayPairsPerSource,
		EndpointLatch:          cmp.Or(c.Relay.Latching, policy.LatchStrict),
		MediaSRTP:              c.Relay.SRTP,
		UserAgent:              c.SIP.UserAgent,
		RealSourceHeader:       c.Security.RealSourceHeader,
		SessionExpires:         c.SIP.SessionExpires,
		MinSE:                  c.SIP.MinSE,
		Disable100rel:          !c.SIP.Rel100,
		Registrations: sbc.RegistrationConfig{
			NATExpires:           c.Registrations.NATExpires,
			TokenSecret:          c.TokenSecret(),
			MaxPerSource:         c.Registrations.MaxPerSource,
			MaxInFlightPerSource: c.Registrations.MaxInFlightPerSource,
			AnswerQualify:        c.Registrations.AnswerQualify,
		},
		Keepalive: sbc.KeepaliveConfig{
			Method:    c.Keepalive.Method,
			Interval:  c.Keepalive.Interval,
			MaxMissed: c.Keepalive.MaxMissed,
		},
		PeerTLS: c.peerTLSByName(),
	}
}

// peerTLSByName is each tls peer's `tls:` by peer name (nil: none).
func (c *Config) peerTLSByName() map[string]certs.Client {
	var out map[string]certs.Client
	for i, p := range c.Peers {
		if t := c.peerTLS(i); t != nil {
			if out == nil {
				out = map[string]certs.Client{}
			}
			out[p.Name] = *t
		}
	}
	return out
}

// StateFile is registrations.state_file: the registrations' file, "" for
// memory only.
func (c *Config) StateFile() string { return c.Registrations.StateFile }

// TokenSecret is registrations.token_secret as bytes; nil (a random key
// per start) when unset. Validate has checked it is hex.
func (c *Config) TokenSecret() []byte {
	if c.Registrations.TokenSecret == "" {
		return nil
	}
	key, err := hex.DecodeString(c.Registrations.TokenSecret)
	if err != nil {
		return nil
	}
	return key
}

// Listen gives one socket per network: a `both` entry becomes a UDP and a
// TCP spec with the same name, UDP first; tls, ws and wss are one each.
func (c *Config) Listen() []sbc.ListenSpec {
	var specs []sbc.ListenSpec
	for _, l := range c.Sockets {
		for _, network := range l.networks() {
			specs = append(specs, sbc.ListenSpec{
				Name:           l.Name,
				Network:        network,
				Addr:           l.Address,
				Advertise:      l.Advertise,
				AdvertiseSTUN:  l.AdvertiseSTUN,
				Endpoints:      ingress.Endpoints{Restricted: l.Endpoints.Restricted, Nets: slices.Clone(l.Endpoints.Nets)},
				TLS:            l.TLS,
				IdleTimeout:    l.IdleTimeout,
				PingInterval:   l.PingInterval,
				AllowedOrigins: slices.Clone(l.AllowedOrigins),
				SRTP:           l.SRTP,
			})
		}
	}
	return specs
}

// Policy maps peers, routes and limits onto policy.Config. The slices are
// copies: the Policy built from them cannot be changed through c.
func (c *Config) Policy() policy.Config {
	peers := make([]policy.Peer, len(c.Peers))
	for i, p := range c.Peers {
		p.Networks = slices.Clone(p.Networks)
		peers[i] = p
	}
	return policy.Config{Peers: peers, Routes: slices.Clone(c.Routes), MaxCalls: c.Limits.MaxCalls}
}

// LogLevel is log.level as a slog level.
func (c *Config) LogLevel() slog.Level {
	switch c.Log.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// LogJSON reports whether log.format is json.
func (c *Config) LogJSON() bool { return c.Log.Format == "json" }

// LogHandler builds the slog handler log.format asks for, at level (a
// *slog.LevelVar, so that a reload can change log.level).
func (c *Config) LogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if c.LogJSON() {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// Shield maps `security:` onto the ingress shield's settings; sbc adds
// who the peers are.
func (c *Config) Shield() ingress.ShieldConfig {
	s := c.Security
	return ingress.ShieldConfig{
		Deny: slices.Clone(s.Deny), Allow: slices.Clone(s.Allow),
		Rate: float64(s.Rate), Burst: s.Burst, PeerRate: float64(s.PeerRate), PeerBurst: s.PeerBurst,
		BanAfter: s.BanAfter, BanTime: s.BanTime, Scanners: slices.Clone(s.Scanners), MaxSources: s.MaxSources,
		AuthFailures: s.AuthFailures, AuthWindow: s.AuthWindow, UnprovenCredit: s.UnprovenCredit,
	}
}

// TCPLimits maps the TCP keys of `security:`.
func (c *Config) TCPLimits() ingress.TCPConfig {
	s := c.Security
	return ingress.TCPConfig{MaxConnections: s.TCPMaxConnections, MaxPerSource: s.TCPMaxPerSource,
		IdleTimeout: s.TCPIdleTimeout, HeaderTimeout: s.TCPHeaderTimeout}
}
