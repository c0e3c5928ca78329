// Package sbc is natsbc's signalling core: a back-to-back user agent that
// splits every call into an A-leg (towards the caller) and a B-leg (towards
// the callee), each a dialog of its own, so that each side only ever sees
// natsbc's addresses and every ACK and in-dialog request is routable.
package sbc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/diagnosis"
	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/nat"
	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/registrar"
)

// Policy is what the signalling core asks of the policy package.
type Policy interface {
	Classify(src netip.Addr) policy.Peer
	Route(from policy.Peer, ruri policy.RequestURI) (policy.Target, error)
}

// Options wires a Server. Listeners are opened by the caller and owned by
// the Server from New on: Shutdown closes them.
type Options struct {
	Config    Config
	Listeners []Listener
	Policy    Policy
	// Router tells which local address faces a destination
	// (nat.NewNetlinkRouter in production, a static table in tests).
	Router nat.Router
	Media  media.Anchor
	Logger *slog.Logger
	// STUNRefresh is how often sockets advertised via STUN re-learn their
	// public address (ListenSpec.AdvertiseSTUN); 0 takes nat's default.
	STUNRefresh time.Duration
	// Locator resolves host names of routes, Request-URIs and Record-Route
	// (RFC 3263); nil asks the DNS servers of /etc/resolv.conf.
	Locator Locator
	// WatchAddresses, when set, subscribes to local address changes
	// (nat.WatchAddresses in production): natsbc logs them and re-learns
	// its STUN-advertised addresses at once.
	WatchAddresses func(ctx context.Context, onChange func(nat.AddrEvent)) (stop func(), err error)
	// Security is the ingress shield: access lists, per-source rate
	// limits, bans (its Peer is filled from Policy). Zero: no limits.
	Security ingress.ShieldConfig
	// CallRecords, when set, gets one record per ended call (a cdr.Writer).
	CallRecords CallRecorder
	// TCP bounds the connections of the stream listeners (zero: none).
	TCP ingress.TCPConfig
	// Tap, when set, sees every SIP message natsbc receives or sends
	// (tap.go): HEP export, transport counters.
	Tap ingress.Tap
	// Diagnosis, when enabled, keeps the messages of natsbc's calls and
	// explains a call ended for a missing ACK (diagnosis.go).
	Diagnosis *diagnosis.Recorder
	// State keeps the registrations across restarts (registrar/store);
	// nil keeps them in memory only. New loads what it holds.
	State registrar.Disk
	// Certs holds the TLS files of the peers natsbc opens TLS connections
	// to (Config.PeerTLS); nil: a store of the Server's own.
	Certs *certs.Store
}

// Server is the B2BUA. Create it with New, run it with Start, stop it with
// Shutdown.
type Server struct {
	// cfg is the running configuration; Reload replaces it whole, so a
	// reader takes it once (conf) and sees one version.
	cfg    atomic.Pointer[Config]
	log    *slog.Logger
	policy *livePolicy
	router nat.Router
	media  media.Anchor
	// locator resolves host names per RFC 3263.
	locator Locator
	// relayAddrs are the addresses natsbc has written into SDP (hairpin.go).
	relayAddrs sync.Map // netip.Addr → struct{}

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	listeners []Listener
	sockets   []*socket
	calls     *callTable
	admit     *admission // call slots: limits.max_calls and the like
	inFlight  transactionGate
	regFlight *perSourceGate // REGISTERs awaiting the PBX, per source
	// limitLog bounds the lines of requests refused at a limit: a flood
	// meets the limits thousands of times a second.
	limitLog *ingress.LogLimiter
	pings    pingWaiters // keepalives awaiting their answer (keepalive_once.go)
	shield   *ingress.Shield
	records  CallRecorder // nil: no call records
	tap      ingress.Tap  // nil: none (tap.go)
	ops      *opsCounters
	diag     *diagnosis.Recorder // nil or disabled: nothing kept
	// sourceFor caches the local address towards a peer, for the tap of a
	// socket bound to every address (tap.go).
	sourceFor routeCache
	// parseErrors counts what sipgo could not parse (TCP framing, mostly).
	parseErrors ingress.ParseErrors
	counts      *callCounters
	tcpGuards   []*ingress.GuardedListener
	reg         *registrar.Registrar
	// stunSeen remembers the mapped addresses natsbc told phones over STUN
	// on its SIP sockets: the registration verdict compares Contacts to it.
	stunSeen    *nat.STUNMemory
	stunRefresh time.Duration
	watchAddrs  func(ctx context.Context, onChange func(nat.AddrEvent)) (stop func(), err error)
	stopWatch   func()
	// refusedTCP: next hops that refused a large request's TCP connection.
	refusedTCP *hopMemory
	// certs reads the tls peers' files; handoff gives sipgo the TLS
	// connections natsbc opens (nil without a TLS socket); tlsDials runs
	// one dial per destination (transport_stream.go).
	certs    *certs.Store
	ownCerts bool
	handoff  *handoff
	tlsDials dialGroup

	draining atomic.Bool
	// shuttingDown: Shutdown began; Undrain cannot take calls again.
	shuttingDown atomic.Bool
	// handlers tracks request handlers and call goroutines; serving tracks
	// the socket read loops. Shutdown waits for both.
	handlers sync.WaitGroup
	serving  sync.WaitGroup
	stopOnce sync.Once
	stopped  chan struct{}
	// base is cancelled when the Server stops: every transaction natsbc
	// starts derives its context from it.
	base       context.Context
	cancelBase context.CancelFunc
}

// conf is the running configuration.
func (s *Server) conf() *Config { return s.cfg.Load() }

// New builds a Server on the given sockets.
func New(opts Options) (*Server, error) {
	cfg := opts.Config.withDefaults()
	if opts.Policy == nil {
		return nil, errors.New("sbc: no policy")
	}
	if len(opts.Listeners) == 0 {
		return nil, errors.New("sbc: no listeners")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	anchor := opts.Media
	if anchor == nil {
		anchor = media.Passthrough{}
	}
	s := &Server{
		log:       log,
		policy:    newLivePolicy(opts.Policy),
		router:    opts.Router,
		media:     anchor,
		listeners: append([]Listener(nil), opts.Listeners...),
		calls:     newCallTable(),
		records:   opts.CallRecords,
		tap:       opts.Tap,
		ops:       newOpsCounters(),
		diag:      opts.Diagnosis,
		counts:    newCallCounters(),
		admit:     newAdmission(cfg.MaxCalls, cfg.MaxCallsPerSource, cfg.MaxRelayPairsPerSource),
		regFlight: newPerSourceGate(cfg.Registrations.MaxInFlightPerSource),
		limitLog:  ingress.NewLogLimiter(limitLinesPerSecond),
		reg: registrar.New(registrar.Config{NATExpires: cfg.Registrations.NATExpires, TokenSecret: cfg.Registrations.TokenSecret,
			MaxPerSource:      cfg.Registrations.MaxPerSource,
			KeepaliveInterval: cfg.Keepalive.Interval, MaxMissed: cfg.Keepalive.MaxMissed, Log: log, Disk: opts.State}),
		stunSeen:    nat.NewSTUNMemory(nat.STUNMemoryConfig{}),
		stunRefresh: opts.STUNRefresh,
		watchAddrs:  opts.WatchAddresses,
		locator:     opts.Locator,
		stopped:     make(chan struct{}),
		refusedTCP:  newHopMemory(),
		certs:       opts.Certs,
	}
	if s.certs == nil {
		s.certs, s.ownCerts = certs.NewStore(log), true
	}
	s.cfg.Store(&cfg)
	s.inFlight.max.Store(int64(cfg.MaxTransactions))
	s.base, s.cancelBase = context.WithCancel(context.Background())
	if s.locator == nil {
		s.locator = defaultLocator(log)
	}
	shieldCfg := opts.Security
	shieldCfg.Peer = func(a netip.Addr) bool { return s.policy.Classify(a).Name != "" }
	shieldCfg.Logger = log
	s.shield = ingress.NewShield(shieldCfg)
	for i, l := range opts.Listeners {
		sock, err := newSocket(l)
		if err != nil {
			return nil, err
		}
		s.sockets = append(s.sockets, sock)
		if l.Packet != nil {
			sock.packet = l.Packet
			// Garbage never reaches sipgo: the guard answers 400 or drops.
			s.listeners[i].Packet = ingress.NewGuardedPacketConn(l.Packet, ingress.GuardConfig{
				MaxMessageSize: cfg.MaxMessageSize,
				Logger:         log,
				Shield:         s.shield,
				Endpoints:      l.Spec.Endpoints,
				Tap:            wireTap{s},
				OnSTUN:         s.answerSTUN(l.Packet),
				ForceRport: func(src netip.AddrPort) bool {
					return s.policy.Classify(src.Addr()).NAT != policy.NATNever
				},
			})
		}
		if l.Stream != nil {
			// Connections are capped, and closed when idle or too slow.
			g := ingress.NewGuardedListener(l.Stream, s.streamLimits(opts.TCP, l.Spec), s.shield, l.Spec.Endpoints, log)
			s.listeners[i].Stream = g
			s.tcpGuards = append(s.tcpGuards, g)
			if isWebSocket(l.Spec.Network) {
				// Pings and pongs, and no control frame for sipgo to trip on.
				s.listeners[i].Stream = ingress.NewWebSocketListener(g, ingress.WSConfig{PingInterval: cmp.Or(l.Spec.PingInterval, defaultWSPing),
					MaxMessage: cfg.MaxMessageSize, AllowedOrigins: l.Spec.AllowedOrigins, Logger: log})
			}
			if l.Spec.Network == "tls" && s.handoff == nil {
				s.handoff = newHandoff(l.Stream.Addr())
			}
		}
	}

	served := func(transport string, local netip.AddrPort) bool { return s.boundSocket(transport, local) != nil }
	if err := s.reg.Restore(served); err != nil {
		return nil, err
	}

	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgenTLSConfig(sipgoTLSConfig()),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerUnhandledResponseHandler(s.onStrayResponse),
			sip.WithTransactionLayerLogger(log.With("component", "sipgo")),
		),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(slog.New(ingress.TransportLog(log.Handler(), &s.parseErrors)).With("component", "sipgo")),
			noDialTransports(),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sbc: user agent: %w", err)
	}
	s.ua = ua
	ua.TransportLayer().OnMessage(s.tapStreamResponse)
	if s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(log.With("component", "sipgo"))); err != nil {
		return nil, fmt.Errorf("sbc: server: %w", err)
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(log.With("component", "sipgo"))); err != nil {
		return nil, fmt.Errorf("sbc: client: %w", err)
	}
	s.routeHandlers()
	return s, nil
}

// Start serves every listener in the background. It first learns the
// addresses advertised via STUN (an error says which socket could not),
// and returns once every UDP socket is registered with sipgo and reading:
// before that, a request natsbc sends could not find its socket and sipgo
// would try to bind a new one on the same address.
func (s *Server) Start() error {
	if err := s.learnPublicAddresses(); err != nil {
		return err
	}
	if s.watchAddrs != nil {
		stop, err := s.watchAddrs(s.base, s.onAddressChange)
		s.stopWatch = stop
		if err != nil {
			// Without events natsbc still works: route lookups are live.
			s.log.Warn("local address changes not watched", "error", err)
		}
	}
	var ready []chan struct{}
	for i, l := range s.listeners {
		if l.Packet != nil {
			rc := &readingConn{PacketConn: l.Packet, reading: make(chan struct{})}
			s.listeners[i].Packet, l.Packet = rc, rc
			ready = append(ready, rc.reading)
		}
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			var err error
			switch l.Spec.Network {
			case "udp":
				err = s.srv.ServeUDP(l.Packet)
			case "tls":
				err = s.srv.ServeTLS(l.Stream)
			case "ws":
				err = s.srv.ServeWS(l.Stream)
			case "wss":
				err = s.srv.ServeWSS(l.Stream)
			default:
				err = s.srv.ServeTCP(l.Stream)
			}
			select {
			case <-s.stopped:
			default:
				if err != nil {
					s.log.Error("listener stopped", "listener", l.Spec.Name, "error", err)
				}
			}
		}()
	}
	if s.handoff != nil {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			_ = s.srv.ServeTLS(s.handoff)
		}()
	}
	for _, r := range ready {
		<-r
	}
	s.goTracked(func() { s.reg.Run(s.base, regHost{s}) })
	return nil
}

// readingConn tells when sipgo first reads from a socket: sipgo adds the
// socket to its connection pool just before.
type readingConn struct {
	net.PacketConn
	once    sync.Once
	reading chan struct{}
}

func (c *readingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.once.Do(func() { close(c.reading) })
	return c.PacketConn.ReadFrom(b)
}

// Sockets lists the served sockets ("name/network/ip:port") for logs.
func (s *Server) Sockets() []string {
	out := make([]string, 0, len(s.sockets))
	for _, sock := range s.sockets {
		out = append(out, sock.String())
	}
	return out
}

// ActiveCalls is the number of calls natsbc is carrying.
func (s *Server) ActiveCalls() int { return s.Stats().ActiveCalls }

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.T1 <= 0 {
		c.T1 = d.T1
	}
	if c.T2 <= 0 {
		c.T2 = d.T2
	}
	if c.T4 <= 0 {
		c.T4 = d.T4
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = d.DrainTimeout
	}
	if c.TimerC <= 0 {
		c.TimerC = d.TimerC
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = d.MaxMessageSize
	}
	if c.UserAgent == "" {
		c.UserAgent = d.UserAgent
	}
	if c.SessionExpires <= 0 {
		c.SessionExpires = d.SessionExpires
	}
	if c.MinSE <= 0 {
		c.MinSE = min(d.MinSE, c.SessionExpires)
	}
	if c.Registrations.NATExpires <= 0 {
		c.Registrations.NATExpires = d.Registrations.NATExpires
	}
	if c.Keepalive.Method == "" {
		c.Keepalive.Method = d.Keepalive.Method
	}
	if c.Keepalive.Interval <= 0 {
		c.Keepalive.Interval = d.Keepalive.Interval
	}
	if c.Keepalive.MaxMissed <= 0 {
		c.Keepalive.MaxMissed = d.Keepalive.MaxMissed
	}
	return c
}

// goTracked runs f in a goroutine that Shutdown waits for.
func (s *Server) goTracked(f func()) {
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		f()
	}()
}

// Shield is the ingress shield: its bans and counters, for the admin
// endpoint.
func (s *Server) Shield() *ingress.Shield { return s.shield }
