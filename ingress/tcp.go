package ingress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// TCPConfig bounds what TCP connections may cost (0 in any field: no bound).
type TCPConfig struct {
	// MaxConnections in total and MaxPerSource from one address: over
	// them a new connection is closed at once.
	MaxConnections, MaxPerSource int
	// IdleTimeout closes a connection that carried nothing this long.
	IdleTimeout time.Duration
	// HeaderTimeout closes a connection whose message started but whose
	// header block (up to the empty line) did not end within it: a
	// slowloris sender trickling bytes keeps no connection for long.
	HeaderTimeout time.Duration
	// UpgradeTimeout, for a WebSocket socket, bounds the HTTP upgrade
	// request from the connection's first read to its empty line, however
	// the bytes trickle in; then IdleTimeout alone governs. The WebSocket
	// filter above says when the request is read (upgradeRead). 0: none.
	UpgradeTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake of a connection of a TLS
	// listener (the listener wrapped hands out *tls.Conn). 0: 10 s.
	HandshakeTimeout time.Duration
}

// defaultHandshakeTimeout bounds a TLS handshake when nothing else does.
const defaultHandshakeTimeout = 10 * time.Second

// GuardedListener is the net.Listener given to sipgo's ServeTCP: it drops
// connections from sources the shield refuses, caps connections, and
// hands out connections that end when idle or too slow.
type GuardedListener struct {
	net.Listener
	cfg       TCPConfig
	shield    *Shield
	endpoints Endpoints
	log       *slog.Logger

	mu      sync.Mutex
	total   int
	bySrc   map[netip.Addr]int
	refused atomic.Uint64
	cut     atomic.Uint64
	// hsLog bounds the lines of failed TLS handshakes: a scanner fails
	// them by the thousand.
	hsLog *LogLimiter
}

// NewGuardedListener wraps ln; shield may be nil.
func NewGuardedListener(ln net.Listener, cfg TCPConfig, shield *Shield, endpoints Endpoints, log *slog.Logger) *GuardedListener {
	if log == nil {
		log = slog.Default()
	}
	return &GuardedListener{Listener: ln, cfg: cfg, shield: shield, endpoints: endpoints, log: log, bySrc: map[netip.Addr]int{},
		hsLog: NewLogLimiter(10)}
}

// Accept returns the next connection natsbc keeps.
func (l *GuardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := addrPortOf(c.RemoteAddr()).Addr().Unmap()
		if l.shield != nil && l.shield.Admit(src, l.endpoints) != Pass {
			l.refused.Add(1)
			_ = c.Close()
			continue
		}
		if !l.take(src) {
			l.refused.Add(1)
			_ = c.Close()
			continue
		}
		return &guardedConn{Conn: c, l: l, src: src}, nil
	}
}

// take counts a new connection from src; false when over a cap.
func (l *GuardedListener) take(src netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxConnections > 0 && l.total >= l.cfg.MaxConnections ||
		l.cfg.MaxPerSource > 0 && l.bySrc[src] >= l.cfg.MaxPerSource {
		return false
	}
	l.total++
	l.bySrc[src]++
	return true
}

func (l *GuardedListener) release(src netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.bySrc[src]--; l.bySrc[src] <= 0 {
		delete(l.bySrc, src)
	}
}

// TCPStats counts what a guarded listener refused and cut.
type TCPStats struct {
	Open    int    // connections held now
	Refused uint64 // closed at accept (shield or caps)
	Cut     uint64 // closed idle, too slow, or when its source was banned
}

// Stats returns the counters.
func (l *GuardedListener) Stats() TCPStats {
	l.mu.Lock()
	open := l.total
	l.mu.Unlock()
	return TCPStats{Open: open, Refused: l.refused.Load(), Cut: l.cut.Load()}
}

// guardedConn ends itself when idle or when a message's header block
// takes too long.
type guardedConn struct {
	net.Conn
	l         *GuardedListener
	src       netip.Addr
	started   time.Time // first byte of a header block not yet ended; zero: none pending
	tail      []byte    // the last bytes read, to find "\r\n\r\n" across reads
	closeOnce sync.Once
	shook     bool // the TLS handshake (if any) is done
	// upgradeBy is when the WebSocket upgrade request must have been read
	// (zero: not started, or no upgrade pending); upgraded: it was.
	upgradeBy time.Time
	upgraded  bool
}

// upgradeRead ends the upgrade deadline: the WebSocket filter read the
// upgrade request's empty line.
func (c *guardedConn) upgradeRead() {
	c.upgraded, c.upgradeBy = true, time.Time{}
}

// upgradePending reports whether the connection still owes its upgrade
// request; the first call starts the clock.
func (c *guardedConn) upgradePending(now time.Time) bool {
	if c.l.cfg.UpgradeTimeout <= 0 || c.upgraded {
		return false
	}
	if c.upgradeBy.IsZero() {
		c.upgradeBy = now.Add(c.l.cfg.UpgradeTimeout)
	}
	return true
}

// errBanned ends the connection of a source banned while it was open.
var errBanned = errors.New("source banned")

// isGuardClose reports whether err ended a read of a guarded connection
// (banned source, idle, slow header block): already logged here.
func isGuardClose(err error) bool {
	return errors.Is(err, errBanned) || errors.Is(err, errTooSlow) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, errHandshake) || isWSClose(err)
}

// errTooSlow reports a connection cut for a slow header block.
var errTooSlow = errors.New("SIP header block not complete in time")

// errHandshake ends a TLS connection whose handshake failed or took too
// long.
var errHandshake = errors.New("TLS handshake failed")

// handshake runs the TLS handshake of a connection of a TLS listener on
// the first read, bounded in time: the listener accepts at once (caps and
// shield first), the handshake's cost falls on the read goroutine.
func (c *guardedConn) handshake() error {
	type handshaker interface {
		HandshakeContext(context.Context) error
	}
	hs, ok := c.Conn.(handshaker)
	if !ok || c.shook {
		return nil
	}
	c.shook = true
	d := c.l.cfg.HandshakeTimeout
	if d <= 0 {
		d = defaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := hs.HandshakeContext(ctx); err != nil {
		c.l.cut.Add(1)
		if ok, held := c.l.hsLog.Allow(); ok {
			c.l.log.Info("TLS connection closed", "src", c.RemoteAddr().String(), "why", "handshake failed",
				"error", err.Error(), "suppressed", held)
		}
		return fmt.Errorf("%w: %v", errHandshake, err)
	}
	return nil
}

func (c *guardedConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	now := time.Now()
	var deadline time.Time
	if d := c.l.cfg.IdleTimeout; d > 0 {
		deadline = now.Add(d)
	}
	if d := c.l.cfg.HeaderTimeout; d > 0 && !c.started.IsZero() {
		if hd := c.started.Add(d); deadline.IsZero() || hd.Before(deadline) {
			deadline = hd
		}
	}
	// An absolute bound, not renewed by each byte: a client dribbling its
	// upgrade request would otherwise hold the connection for ever.
	upgrading := c.upgradePending(now)
	if upgrading && (deadline.IsZero() || c.upgradeBy.Before(deadline)) {
		deadline = c.upgradeBy
	}
	_ = c.Conn.SetReadDeadline(deadline)
	n, err := c.Conn.Read(b)
	if n > 0 && c.l.shield != nil && c.l.shield.banned(c.src) {
		// Banned by an earlier request of this connection (a scanner's
		// User-Agent, its rate, failed digests) or another of its source:
		// what it sends now is dropped with the connection.
		c.l.cut.Add(1)
		c.l.log.Info("TCP connection closed", "src", c.RemoteAddr().String(), "why", "source banned")
		return 0, errBanned
	}
	if n > 0 {
		c.track(b[:n], now)
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.l.cut.Add(1)
		why := "idle"
		switch {
		case upgrading:
			why, err = "WebSocket upgrade request too slow", errTooSlow
		case !c.started.IsZero():
			why, err = "header block too slow", errTooSlow
		}
		c.l.log.Info("TCP connection closed", "src", c.RemoteAddr().String(), "why", why)
	}
	return n, err
}

// track follows header blocks: a block starts with its first byte and
// ends at its empty line (RFC 3261 §7). Bodies are not framed here: a
// body is bounded by max_message_size.
func (c *guardedConn) track(p []byte, now time.Time) {
	buf := append(c.tail, p...)
	for len(buf) > 0 {
		if c.started.IsZero() {
			// CRLF keepalives between messages start nothing.
			i := 0
			for i < len(buf) && (buf[i] == '\r' || buf[i] == '\n') {
				i++
			}
			if i == len(buf) {
				buf = buf[:0]
				break
			}
			buf = buf[i:]
			c.started = now
		}
		end := bytes.Index(buf, []byte("\r\n\r\n"))
		if end < 0 {
			break
		}
		c.started = time.Time{}
		buf = buf[end+4:]
		// The body after it is not scanned for headers: skip what was read.
		buf = buf[:0]
	}
	if len(buf) > 3 {
		buf = buf[len(buf)-3:]
	}
	c.tail = append(c.tail[:0], buf...)
}

func (c *guardedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.l.release(c.src) })
	return err
}
