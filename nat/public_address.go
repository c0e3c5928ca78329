package nat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// PublicAddress defaults.
const (
	DefaultPublicAddressInterval = 5 * time.Minute
	// DefaultPublicAddressTimeout covers five requests of the RFC 5389
	// §7.2.1 schedule (0, 0.5, 1.5, 3.5, 7.5 s): enough for a lossy path,
	// short enough that start-up fails clearly.
	DefaultPublicAddressTimeout = 10 * time.Second
	// stunDefaultPort: RFC 5389 §9, RFC 7064 §3.1.
	stunDefaultPort = 3478
)

// PublicAddressConfig says where and how often natsbc asks for its public
// address.
type PublicAddressConfig struct {
	// Server is "host:port" or a stun URI "stun:host[:port]" (RFC 7064);
	// the port defaults to 3478. A host name is resolved (A records) at
	// every discovery.
	Server   string
	Interval time.Duration // between discoveries; default 5 min
	Timeout  time.Duration // for one discovery; default 10 s
	// Dial opens the socket one discovery uses; default an ephemeral UDP
	// socket. Behind a 1:1 NAT every socket maps to the same public IP.
	Dial     func() (net.PacketConn, error)
	Logger   *slog.Logger
	OnChange func(netip.Addr) // a later discovery found another address
}

// PublicAddress keeps natsbc's public IP as a STUN server sees it, for a
// natsbc behind a 1:1 NAT that must put that IP in Via/Contact.
type PublicAddress struct {
	cfg     PublicAddressConfig
	host    string
	port    uint16
	addr    atomic.Pointer[netip.Addr]
	refresh chan struct{}

	startOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{} // closed when the refresher ends
	closeOnce sync.Once
}

// NewPublicAddress checks cfg; nothing is sent before Start.
func NewPublicAddress(cfg PublicAddressConfig) (*PublicAddress, error) {
	host, port, err := parseSTUNServer(cfg.Server)
	if err != nil {
		return nil, err
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultPublicAddressInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultPublicAddressTimeout
	}
	if cfg.Dial == nil {
		cfg.Dial = func() (net.PacketConn, error) { return net.ListenPacket("udp", ":0") }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &PublicAddress{cfg: cfg, host: host, port: port, refresh: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// parseSTUNServer reads "host:port", "stun:host[:port]", "[v6]:port".
func parseSTUNServer(s string) (host string, port uint16, err error) {
	rest := strings.TrimPrefix(s, "stun:")
	if rest == "" {
		return "", 0, fmt.Errorf("stun server %q: empty", s)
	}
	h, p, splitErr := net.SplitHostPort(rest)
	if splitErr != nil {
		// No port: the whole thing is the host (brackets allowed for IPv6).
		h, p = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"), strconv.Itoa(stunDefaultPort)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 || h == "" || strings.ContainsAny(h, "[]") {
		return "", 0, fmt.Errorf("stun server %q: want host:port", s)
	}
	return h, uint16(n), nil
}

// serverName is how logs and errors name the server: stun:HOST:PORT.
func (p *PublicAddress) serverName() string {
	return "stun:" + net.JoinHostPort(p.host, strconv.Itoa(int(p.port)))
}

// Start learns the address once, synchronously, so a natsbc that cannot
// learn it fails at start-up; then refreshes it every Interval until ctx
// ends or Close. OnChange is called for later changes only: the first
// address is Addr() once Start returns nil.
func (p *PublicAddress) Start(ctx context.Context) error {
	err := errors.New("public address: already started")
	p.startOnce.Do(func() {
		err = nil
		first, derr := p.discover(ctx)
		if derr != nil {
			err = fmt.Errorf("cannot learn public address from %s: %w", p.serverName(), derr)
			close(p.done)
			return
		}
		p.addr.Store(&first)
		p.cfg.Logger.Info("public address learned", "addr", first, "server", p.serverName())
		runCtx, cancel := context.WithCancel(ctx)
		p.cancel = cancel
		go p.run(runCtx)
	})
	return err
}

// Addr is the last address learned; invalid before Start succeeds.
func (p *PublicAddress) Addr() netip.Addr {
	if a := p.addr.Load(); a != nil {
		return *a
	}
	return netip.Addr{}
}

// Refresh asks for a discovery now (e.g. a local address changed). It
// never blocks; requests made while one is pending merge.
func (p *PublicAddress) Refresh() {
	select {
	case p.refresh <- struct{}{}:
	default:
	}
}

// Close stops the refresher and waits for it, including a discovery or an
// OnChange call in progress.
func (p *PublicAddress) Close() {
	p.closeOnce.Do(func() {
		p.startOnce.Do(func() { close(p.done) }) // never started: nothing runs
		if p.cancel != nil {
			p.cancel()
		}
		<-p.done
	})
}

func (p *PublicAddress) run(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(p.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-p.refresh:
		}
		p.refreshOnce(ctx)
	}
}

func (p *PublicAddress) refreshOnce(ctx context.Context) {
	got, err := p.discover(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.cfg.Logger.Warn("public address refresh failed; keeping the last one",
				"addr", p.Addr(), "server", p.serverName(), "err", err)
		}
		return
	}
	old := p.Addr()
	if got == old {
		return
	}
	p.addr.Store(&got)
	p.cfg.Logger.Info("public address changed", "old", old, "new", got, "server", p.serverName())
	if p.cfg.OnChange != nil {
		p.cfg.OnChange(got)
	}
}

// discover resolves the server, opens a socket and runs Discover on it,
// all within Timeout.
func (p *PublicAddress) discover(ctx context.Context) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	server, err := p.resolve(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	conn, err := p.cfg.Dial()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("open socket: %w", err)
	}
	defer conn.Close()
	mapped, err := Discover(ctx, conn, server)
	if err != nil {
		return netip.Addr{}, err
	}
	return mapped.Addr(), nil
}

func (p *PublicAddress) resolve(ctx context.Context) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(p.host); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), p.port), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", p.host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve %s: %w", p.host, err)
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("resolve %s: no IPv4 address", p.host)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), p.port), nil
}
