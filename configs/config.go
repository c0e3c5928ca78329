// Package configs reads natsbc's YAML configuration: strict decoding with
// line:column errors, validation that reports every problem at once, the
// embedded default, command-line overrides, and the mapping onto the
// Config structs of the packages that do the work.
package configs

import (
	"net/netip"
	"time"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/policy"
)

// Config is the whole configuration file. Build it with Parse, Load or
// Default; a zero Config is not valid.
type Config struct {
	Log      LogConfig
	SIP      SIPConfig
	Shutdown ShutdownConfig
	Limits   LimitsConfig
	// Registrations, Keepalive and NAT govern phones registering through
	// natsbc and how natsbc learns its own public address.
	Registrations RegistrationsConfig
	Keepalive     KeepaliveConfig
	NAT           NATConfig
	// Relay is the file's `media:` section (the method Media maps it).
	Relay MediaConfig
	// Admin is the metrics/pprof endpoint (off unless admin.listen is set).
	Admin AdminConfig
	// Sockets is the file's `listen:` list (the method Listen maps it).
	Sockets []ListenEntry
	Peers   []policy.Peer
	// PeerTLS is each peer's `tls:` mapping, by the position of the peer
	// in Peers (nil, or shorter than Peers: none).
	PeerTLS []*certs.Client
	// Routes is the file's `routes:`; nil (key absent) means
	// policy.DefaultRoutes, an empty list means no routes at all.
	Routes []policy.Route
	// Security is the file's `security:` (the method Shield maps it).
	Security SecurityConfig
	// CDR is the file's `cdr:`: where call records go.
	CDR CDRConfig
	// Diagnosis is the file's `diagnosis:`: how many ended calls natsbc
	// keeps the messages of (0: none).
	Diagnosis DiagnosisConfig
	// HEP is the file's `hep:`: the Homer/sngrep collector natsbc copies
	// its SIP messages to (off unless hep.address is set).
	HEP HEPConfig

	// file names the source in errors; pos maps a value's path
	// ("peers[1].role") to where it was written.
	file string
	pos  map[string]position
}

// LogConfig is the `log:` section.
type LogConfig struct {
	Level  string // debug|info|warn|error
	Format string // text|json
}

// SIPConfig is the `sip:` section.
type SIPConfig struct {
	T1, T2, T4     time.Duration
	TimerC         time.Duration
	MaxMessageSize int
	UserAgent      string
	// SessionExpires and MinSE are the session timer knobs (RFC 4028).
	SessionExpires, MinSE time.Duration
	Rel100                bool // sip.100rel: RFC 3262 reliable provisionals (default true)
	// DNSServers are asked for RFC 3263 look-ups; none: /etc/resolv.conf.
	DNSServers []netip.AddrPort
}

// ShutdownConfig is the `shutdown:` section.
type ShutdownConfig struct {
	DrainTimeout time.Duration
}

// LimitsConfig is the `limits:` section.
type LimitsConfig struct {
	MaxCalls int // 0: no bound
	// MaxCallsPerSource bounds the calls from one address that is not a
	// configured peer (0: no bound).
	MaxCallsPerSource int
	// MaxTransactions bounds the new requests handled at once (0: no
	// bound); over it natsbc sheds new work with 503 Retry-After.
	MaxTransactions int
	// MaxRelayPairsPerSource bounds the relay port pairs the calls of one
	// non-peer address hold (0: no bound).
	MaxRelayPairsPerSource int
}

// RegistrationsConfig is the `registrations:` section.
type RegistrationsConfig struct {
	NATExpires time.Duration
	// TokenSecret is hex text ("" for a random key per start); the mapping
	// decodes it.
	TokenSecret string
	// StateFile keeps the bindings and the token key across restarts
	// (registrar/store); "" keeps them in memory only.
	StateFile string
	// MaxPerSource bounds the bindings of one source address that is not a
	// configured peer (0: no bound).
	MaxPerSource int
	// MaxInFlightPerSource bounds the REGISTERs of one non-peer address
	// waiting for the PBX (0: no bound).
	MaxInFlightPerSource int
	// AnswerQualify: natsbc answers the PBX's OPTIONS to a NATed phone it
	// keeps alive itself; false forwards every OPTIONS to the phone.
	AnswerQualify bool
}

// KeepaliveConfig is the `keepalive:` section.
type KeepaliveConfig struct {
	Method    string // options|crlf
	Interval  time.Duration
	MaxMissed int
}

// NATConfig is the `nat:` section.
type NATConfig struct {
	// STUNRefresh is how often a socket advertised as stun:HOST:PORT
	// re-learns its public address.
	STUNRefresh time.Duration
}

// MediaConfig is the `media:` section.
type MediaConfig struct {
	// Anchor false passes SDP untouched and relays nothing.
	Anchor           bool
	PortMin, PortMax int
	ListenIP         netip.Addr
	Drain            time.Duration
	Timeout          time.Duration
	HoldTimeout      time.Duration
	LatchWindow      time.Duration
	// MaxStreams bounds the m= lines of one SDP (more: 488, no port taken).
	MaxStreams int
	// Latching is how the media of sources that are not configured peers
	// (phones) latches: strict ("" too) or srtp-auth.
	Latching string
	// SRTP is the media security of legs whose peer and socket name none:
	// none, sdes, dtls or passthrough ("" too, the default).
	SRTP string
}

// ListenEntry is one item of `listen:`.
type ListenEntry struct {
	Name    string
	Address netip.AddrPort
	// Transport is "udp", "tcp", "both" ("" means both), "tls", "ws" or
	// "wss".
	Transport string
	// Advertise, when valid, replaces the local IP in Via/Contact.
	Advertise netip.Addr
	// AdvertiseSTUN ("host:port"), when set instead, is the STUN server
	// natsbc asks for the public IP to advertise.
	AdvertiseSTUN string
	// Endpoints are the sources other than peers that may use the socket
	// (zero: any).
	Endpoints ingress.Endpoints
	// TLS is the `tls:` mapping of a tls or wss socket; TLSSet says it was
	// written at all.
	TLS    certs.Server
	TLSSet bool
	// IdleTimeout and PingInterval are the WebSocket knobs of a ws or wss
	// socket; WSKnobs names those written (wrong on other transports).
	IdleTimeout, PingInterval time.Duration
	WSKnobs                   []string
	// AllowedOrigins are the web origins whose pages may open a WebSocket
	// on a ws or wss socket (nil: any; a list given empty is an error).
	AllowedOrigins []string
	// SRTP is the media security of legs on this socket whose peer names
	// none (media.srtp's values; "": media.srtp).
	SRTP string
}

// peerTLS is the `tls:` mapping of Peers[i], nil when it has none.
func (c *Config) peerTLS(i int) *certs.Client {
	if i < len(c.PeerTLS) {
		return c.PeerTLS[i]
	}
	return nil
}

// CDRConfig is the `cdr:` section.
type CDRConfig struct {
	// Path is the file call records are appended to, one JSON line per
	// ended call; "-" is standard output, "" (the default) keeps none.
	Path string
}

// DiagnosisConfig is the `diagnosis:` section.
type DiagnosisConfig struct {
	KeepCalls int
}

// HEPConfig is the `hep:` section (HEP v3, hep/).
type HEPConfig struct {
	// Address is udp:IP:PORT, tcp:IP:PORT or IP:PORT (UDP); "" is off.
	Address   string
	CaptureID uint32
	Password  string
}

// SecurityConfig is the `security:` section: who may send, how much, and
// for how long a source is banned (ingress.ShieldConfig).
type SecurityConfig struct {
	Deny, Allow         []netip.Prefix
	Rate, Burst         int // requests per second per source, bucket size; 0 rate: off
	PeerRate, PeerBurst int // the same for peers; 0 rate: peers unlimited
	BanAfter            int // requests over the rate in a row that ban the source; 0: never
	BanTime             time.Duration
	Scanners            []string // User-Agent fragments
	MaxSources          int
	// AuthFailures challenged requests with credentials within AuthWindow
	// ban the source (0: never); RealSourceHeader names the header that
	// tells the PBX the real source ("": none).
	AuthFailures int
	AuthWindow   time.Duration
	// UnprovenCredit: bytes natsbc may send a UDP source beyond what it
	// received from it until the source is proven (0: no bound).
	UnprovenCredit   int
	RealSourceHeader string
	// TCP connections: in total, per source address (0: no cap), and how
	// long one may be idle or take for a header block.
	TCPMaxConnections, TCPMaxPerSource int
	TCPIdleTimeout, TCPHeaderTimeout   time.Duration
}

// position is where a value came from: a line and column of the file, or
// a command-line flag.
type position struct {
	line, col int
	flag      string
}
