package ingress

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
)

// GuardConfig configures a GuardedPacketConn.
type GuardConfig struct {
	// MaxMessageSize bounds a SIP datagram (0: 65535). The reader's own
	// buffer (sipgo: sip.TransportBufferReadSize, 32 KiB unless
	// SetSipgoSizeLimits lifted it to 64 KiB) bounds it too, so nothing is
	// ever truncated on its way up.
	MaxMessageSize int
	// Logger receives the `malformed message` lines (nil: slog.Default()).
	Logger *slog.Logger
	// OnSTUN receives STUN messages (RFC 5389) arriving on the SIP socket.
	// pkt is a copy the callee may keep. It runs on the reading goroutine
	// and must not block. nil: STUN is dropped and counted.
	OnSTUN func(pkt []byte, from net.Addr)
	// ForceRport says whether a request from src whose Via sent-by differs
	// from src gets rport added (nil: always). See forceRport.
	ForceRport func(src netip.AddrPort) bool
	// LogsPerSecond bounds `malformed message` lines (0: 10).
	LogsPerSecond int
	// Shield (nil: none) decides which sources may send (Endpoints: which
	// non-peers may use this socket), rate-limits requests and bans.
	Shield    *Shield
	Endpoints Endpoints
	// Tap (nil: none) sees every datagram handed up and every one sent.
	Tap Tap
}

// GuardStats counts what a guard did with the datagrams it read.
type GuardStats struct {
	Passed      uint64 // handed to the reader (SIP and CRLF keepalives)
	Answered400 uint64 // answered by the guard itself (400, or 416/483/505/513)
	Dropped     uint64 // discarded without answer (includes STUN with no handler)
	STUN        uint64 // STUN messages seen
	LogsHeld    uint64 // `malformed message` lines suppressed by the rate limit
	Malformed   uint64 // answered or dropped as not SIP natsbc can take
}

// GuardedPacketConn is the net.PacketConn given to sipgo's ServeUDP: its
// ReadFrom only ever returns datagrams sipgo can parse and that pass
// CheckRequest/CheckResponse (plus CRLF keepalives). sipgo has no message
// validation and silently drops what it cannot parse; the guard answers
// what it can, drops the rest, and says so in the log.
type GuardedPacketConn struct {
	net.PacketConn
	cfg    GuardConfig
	log    *slog.Logger
	limit  *LogLimiter
	parser *sip.Parser

	mu  sync.Mutex // serialises readers around buf
	buf []byte

	passed, answered, dropped, stun, malformed atomic.Uint64
}

// MaxDatagram holds any UDP payload (65507 bytes for IPv4), so oversized
// messages are seen whole and not silently truncated by the kernel.
const MaxDatagram = 65536

// NewGuardedPacketConn wraps pc.
func NewGuardedPacketConn(pc net.PacketConn, cfg GuardConfig) *GuardedPacketConn {
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 65535
	}
	if cfg.LogsPerSecond <= 0 {
		cfg.LogsPerSecond = 10
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	parser := sip.NewParser()
	parser.MaxMessageLength = MaxDatagram
	return &GuardedPacketConn{
		PacketConn: pc,
		cfg:        cfg,
		log:        log,
		limit:      NewLogLimiter(cfg.LogsPerSecond),
		parser:     parser,
		buf:        make([]byte, MaxDatagram),
	}
}

// ReadFrom returns the next datagram that passes the guard. Errors of the
// underlying socket (closed, deadline) are returned as they are.
func (g *GuardedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		n, from, err := g.PacketConn.ReadFrom(g.buf)
		if err != nil {
			return 0, from, err
		}
		pkt := g.buf[:n]
		src := addrPortOf(from)
		// Before parsing: a dropped source costs no more than this.
		if g.cfg.Shield != nil && g.cfg.Shield.AdmitDatagram(src.Addr(), g.cfg.Endpoints, n) != Pass {
			g.dropped.Add(1)
			continue
		}
		limit := min(g.cfg.MaxMessageSize, len(b))
		d := decideDatagram(g.parser, pkt, src, limit)
		if d.action == guardPass && d.req != nil && !g.shieldPasses(d.req, src, from) {
			continue
		}
		switch d.action {
		case guardPass:
			g.passed.Add(1)
			tapped(g.cfg.Tap, true, "udp", g.PacketConn.LocalAddr(), src, pkt)
			if d.req != nil {
				// The re-serialised request is a few bytes longer: keep the
				// original rather than hand up a truncated one.
				if forced := forceRport(d.req, addrPortOf(from), g.cfg.ForceRport); forced != nil && len(forced) <= limit {
					pkt = forced
				}
			}
			return copy(b, pkt), from, nil
		case guardSTUN:
			g.stun.Add(1)
			if g.cfg.OnSTUN == nil {
				g.dropped.Add(1)
				continue
			}
			g.cfg.OnSTUN(append([]byte(nil), pkt...), from)
		case guardAnswer:
			// Count and log before sending, so whoever sees the answer
			// also sees its trace.
			g.answered.Add(1)
			g.malformed.Add(1)
			logMalformed(g.log, g.limit, addrString(from), d, pkt)
			// A failed write is worth no more than a debug line: the sender
			// retransmits or gives up either way.
			if _, werr := g.PacketConn.WriteTo(d.reply, from); werr != nil {
				g.log.Debug("malformed message answer not sent", "src", addrString(from), "error", werr)
			}
		default:
			g.dropped.Add(1)
			g.malformed.Add(1)
			logMalformed(g.log, g.limit, addrString(from), d, pkt)
		}
	}
}

// WriteTo sends what natsbc (sipgo) sends on this socket, unless its
// destination has not proven it receives what is sent to its address and
// has no credit left (Shield.MaySend): then the datagram is dropped as a
// lossy network would, and the sender's retransmissions or the peer's own
// retransmitted request carry on.
func (g *GuardedPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	dst := addrPortOf(addr)
	if g.cfg.Shield != nil && !g.cfg.Shield.MaySend(dst.Addr(), len(b)) {
		return len(b), nil
	}
	n, err := g.PacketConn.WriteTo(b, addr)
	if err == nil {
		tapped(g.cfg.Tap, false, "udp", g.PacketConn.LocalAddr(), dst, b)
	}
	return n, err
}

// Stats returns the counters so far.
func (g *GuardedPacketConn) Stats() GuardStats {
	return GuardStats{
		Passed:      g.passed.Load(),
		Answered400: g.answered.Load(),
		Dropped:     g.dropped.Load(),
		STUN:        g.stun.Load(),
		LogsHeld:    g.limit.suppressedTotal(),
		Malformed:   g.malformed.Load(),
	}
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func addrString(a net.Addr) string {
	if a == nil {
		return "unknown"
	}
	return a.String()
}

// shieldPasses asks the shield about a parsed request: false when it was
// dropped, or answered 503 (with Retry-After: the source's bucket refills
// in a second) by the guard itself.
func (g *GuardedPacketConn) shieldPasses(req *sip.Request, src netip.AddrPort, from net.Addr) bool {
	if g.cfg.Shield == nil {
		return true
	}
	switch g.cfg.Shield.RequestOf(src.Addr(), req) {
	case Pass:
		return true
	case Answer503:
		if req.IsAck() {
			break
		}
		res := sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		if to := res.To(); to != nil {
			if _, ok := to.Params.Get("tag"); !ok {
				to.Params.Add("tag", newTag())
			}
		}
		res.AppendHeader(sip.NewHeader("Retry-After", "1"))
		if _, err := g.PacketConn.WriteTo([]byte(res.String()), from); err != nil {
			g.log.Debug("503 not sent", "src", src.String(), "error", err)
		}
		g.answered.Add(1)
		return false
	}
	g.dropped.Add(1)
	return false
}
