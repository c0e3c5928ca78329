package sbc

import (
	"net/netip"
	"time"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/policy"
)

// Config holds the signalling knobs. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Timers per RFC 3261 §17.1.1.1 (T1, T2) and §17.1.2.2 (T4).
	T1, T2, T4 time.Duration
	// DrainTimeout is how long active calls may go on after SIGTERM before
	// natsbc ends them with BYE on both legs.
	DrainTimeout time.Duration
	// MaxMessageSize bounds an incoming SIP message; larger ones get 400
	// (or are dropped when they cannot be answered).
	MaxMessageSize int
	// MaxCalls bounds concurrent calls (0: no bound); over it INVITEs get
	// 503. MaxCallsPerSource bounds those from one address that is not a
	// configured peer (admission.go).
	MaxCalls, MaxCallsPerSource int
	// MaxRelayPairsPerSource bounds the relay port pairs the calls of one
	// non-peer source hold (0: no bound); over it 503.
	MaxRelayPairsPerSource int
	// MaxTransactions bounds the new (out-of-dialog) requests handled at
	// once (0: no bound); over it they get 503 Retry-After (inflight.go).
	MaxTransactions int
	// EndpointLatch is how the media of a leg whose source is not a
	// configured peer latches (media.latching: policy.LatchStrict or
	// policy.LatchSRTPAuth; "" is strict).
	EndpointLatch string
	// MediaSRTP is the media security of legs whose peer and socket name
	// none (media.srtp; media.ParseSecurityMode, "" is passthrough).
	MediaSRTP string
	// TimerC bounds how long an INVITE may ring without a final response
	// (RFC 3261 §16.6 item 11): then natsbc CANCELs the far leg and answers
	// the near leg 408.
	TimerC time.Duration
	// Disable100rel turns RFC 3262 off: 100rel is never offered and an
	// INVITE that requires it gets 420 (sip.100rel: false).
	Disable100rel bool
	// UserAgent is put in the Server/User-Agent header of what natsbc originates.
	UserAgent string
	// RealSourceHeader names the header in which natsbc tells the PBX a
	// request's real source ("" : none); real_source.go.
	RealSourceHeader string
	// SessionExpires is the session interval (RFC 4028) natsbc offers and
	// applies to every leg whose peer uses none; MinSE is the shortest one
	// it accepts (RFC 4028 §4 says 90 s; lower only for tests). See
	// session_timer.go.
	SessionExpires, MinSE time.Duration
	// Registrations and Keepalive govern phones registering through natsbc.
	Registrations RegistrationConfig
	Keepalive     KeepaliveConfig
	// PeerTLS is how natsbc connects to each peer of transport tls, by peer
	// name (a peer without an entry: system roots, no client certificate,
	// the name of its address checked).
	PeerTLS map[string]certs.Client
}

// RegistrationConfig governs the REGISTER relay.
type RegistrationConfig struct {
	// NATExpires is the longest registration interval granted to a phone
	// that needs keepalive (NATed), so its own refreshes keep its pinhole
	// open. The PBX still sees the interval the phone asked for.
	NATExpires time.Duration
	// TokenSecret keys the tokens in natsbc's Contact towards the PBX.
	// Empty: a random key per start. cmd passes the key kept in the state
	// file instead, so tokens the PBX holds survive a restart with the
	// bindings (Options.State).
	TokenSecret []byte
	// MaxPerSource bounds the bindings of one source address that is not
	// a configured peer (0: no bound); over it a REGISTER gets 503.
	MaxPerSource int
	// MaxInFlightPerSource bounds the REGISTERs of one non-peer source
	// waiting for the PBX's answer (0: no bound); over it 503.
	MaxInFlightPerSource int
	// AnswerQualify: natsbc answers an OPTIONS to the token of a binding
	// it keeps alive itself (NATed) instead of forwarding it to the phone.
	AnswerQualify bool
}

// KeepaliveConfig governs how natsbc keeps NATed phones' pinholes open
// (RFC 5626 §3.5, §4.4).
type KeepaliveConfig struct {
	// Method is KeepaliveOptions (a SIP OPTIONS that must be answered) or
	// KeepaliveCRLF (a bare "\r\n\r\n" datagram on UDP; TCP phones always
	// get OPTIONS).
	Method string
	// Interval between two keepalives of one binding.
	Interval time.Duration
	// MaxMissed unanswered OPTIONS in a row drop the binding.
	MaxMissed int
}

// Keepalive methods.
const (
	KeepaliveOptions = "options"
	KeepaliveCRLF    = "crlf"
)

// DefaultConfig returns the RFC 3261 timer defaults and safe limits.
func DefaultConfig() Config {
	return Config{
		T1:             500 * time.Millisecond,
		T2:             4 * time.Second,
		T4:             5 * time.Second,
		DrainTimeout:   30 * time.Second,
		MaxMessageSize: 65535,
		TimerC:         3 * time.Minute,
		UserAgent:      "natsbc",
		// Not filled in by withDefaults: "" turns it off.
		RealSourceHeader: "X-Real-Source",
		SessionExpires:   1800 * time.Second,
		MinSE:            90 * time.Second,
		MaxTransactions:  10000,
		// Two pairs per relayed stream (one per leg): 250 one-stream calls.
		MaxRelayPairsPerSource: 500,
		EndpointLatch:          policy.LatchStrict,
		MediaSRTP:              "passthrough",
		Registrations:          RegistrationConfig{NATExpires: 60 * time.Second, MaxPerSource: 100, MaxInFlightPerSource: 20},
		Keepalive:              KeepaliveConfig{Method: KeepaliveOptions, Interval: 15 * time.Second, MaxMissed: 3},
	}
}

// ListenSpec describes one SIP socket natsbc serves.
type ListenSpec struct {
	// Name identifies the socket in logs and config ("outside", "inside").
	Name string
	// Network is "udp", "tcp", "tls", "ws" or "wss".
	Network string
	// Addr is the local IP:port; the IP may be unspecified (0.0.0.0/::),
	// in which case natsbc advertises, per peer, the address of the
	// interface that faces it.
	Addr netip.AddrPort
	// Advertise, when valid, is put in Via/Contact/Record-Route instead of
	// the local IP (natsbc behind a 1:1 NAT).
	Advertise netip.Addr
	// AdvertiseSTUN ("host:port") has natsbc learn the address to advertise
	// from a STUN server, at start and then every Options.STUNRefresh.
	AdvertiseSTUN string
	// Endpoints are the sources other than configured peers that may use
	// this socket (UDP; ingress.Shield).
	Endpoints ingress.Endpoints
	// TLS is the certificate and client verification of a tls or wss
	// socket: cmd builds the TLS listener from it (sbc reads nothing of it).
	TLS certs.Server
	// IdleTimeout closes a ws/wss connection that carried nothing this
	// long; natsbc pings it every PingInterval (RFC 6455 §5.5.2), so a live
	// peer's pongs keep it. Zero: 120 s and 30 s.
	IdleTimeout, PingInterval time.Duration
	// AllowedOrigins are the web origins whose pages may open a WebSocket
	// on a ws/wss socket (RFC 6455 §10.2); empty: any.
	AllowedOrigins []string
	// SRTP is the media security of legs on this socket whose peer names
	// none (media.ParseSecurityMode; "": Config.MediaSRTP).
	SRTP string
}
