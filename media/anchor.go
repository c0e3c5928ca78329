package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsbc/natsbc/secmedia"
)

// maxBindTries bounds how many pairs one allocation tries when ports are
// held by other programs, so a bad ListenIP fails fast instead of walking
// the whole range.
const maxBindTries = 16

// RelayAnchor relays every call's media through natsbc's own ports.
type RelayAnchor struct {
	cfg   Config
	tune  atomic.Pointer[Tuning] // what new sessions take (anchor_tuning.go)
	pool  *portPool
	epoch time.Time // the anchor clock counts from here (monotonic)
	log   *slog.Logger

	mu       sync.Mutex
	closed   bool
	sessions map[*relaySession]struct{}
	// engine serves the streams of real UDP sockets; started with the
	// first one, nil where it cannot run.
	engine      *packetEngine
	engineTried bool
	// watchers holds each session's timeout watch, and the timeout
	// callback it ends with, so Close waits for them.
	watchers sync.WaitGroup

	// cert is natsbc's DTLS identity, made for the first DTLS leg.
	certOnce sync.Once
	cert     *secmedia.Certificate
	certErr  error
}

// certificate is natsbc's DTLS certificate (RFC 5763 §5: self-signed, one
// per process; peers trust it by the fingerprint in natsbc's SDP).
func (a *RelayAnchor) certificate() (*secmedia.Certificate, error) {
	a.certOnce.Do(func() { a.cert, a.certErr = secmedia.NewCertificate() })
	return a.cert, a.certErr
}

// fingerprint is the a=fingerprint value of natsbc's certificate.
func (a *RelayAnchor) fingerprint() (string, error) {
	c, err := a.certificate()
	if err != nil {
		return "", err
	}
	return c.Fingerprint(), nil
}

var _ Anchor = (*RelayAnchor)(nil)

// NewRelayAnchor checks cfg (zero fields take DefaultConfig's values).
func NewRelayAnchor(cfg Config) (*RelayAnchor, error) {
	cfg = cfg.withDefaults()
	if cfg.Timeout <= 0 || cfg.HoldTimeout <= 0 || cfg.LatchWindow <= 0 || cfg.Drain < 0 {
		return nil, errors.New("media: timeouts and latch window must be positive")
	}
	pool, err := newPortPool(cfg.PortMin, cfg.PortMax, cfg.Drain)
	if err != nil {
		return nil, err
	}
	a := &RelayAnchor{
		cfg: cfg, pool: pool, epoch: time.Now(), log: cfg.Logger,
		sessions: map[*relaySession]struct{}{},
	}
	t := tuningOf(cfg)
	a.tune.Store(&t)
	return a, nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.PortMin == 0 && c.PortMax == 0 {
		c.PortMin, c.PortMax = d.PortMin, d.PortMax
	}
	if c.Drain == 0 {
		c.Drain = d.Drain
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.HoldTimeout == 0 {
		c.HoldTimeout = d.HoldTimeout
	}
	if c.LatchWindow == 0 {
		c.LatchWindow = d.LatchWindow
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = d.MaxStreams
	}
	if !c.ListenIP.IsValid() {
		c.ListenIP = d.ListenIP
	}
	if c.Listen == nil {
		c.Listen = d.Listen
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}

// NewSession starts the media of one call; ports are taken when its SDP is
// rewritten.
func (a *RelayAnchor) NewSession(callID string, onTimeout func(reason string)) (Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("media: anchor closed")
	}
	s := newRelaySession(a, callID, onTimeout)
	a.sessions[s] = struct{}{}
	a.watchers.Add(1)
	go s.watch()
	return s, nil
}

// Close ends every session and waits for all their goroutines.
func (a *RelayAnchor) Close() error {
	a.mu.Lock()
	a.closed = true
	sessions := make([]*relaySession, 0, len(a.sessions))
	for s := range a.sessions {
		sessions = append(sessions, s)
	}
	a.mu.Unlock()
	for _, s := range sessions {
		_ = s.Close()
	}
	a.watchers.Wait()
	a.mu.Lock()
	engine := a.engine
	a.engine = nil
	a.mu.Unlock()
	if engine != nil {
		engine.close()
	}
	return nil
}

// packetEngine starts the engine on first use; nil when it cannot run
// (sockets then get a goroutine each).
func (a *RelayAnchor) packetEngine() *packetEngine {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.engineTried {
		return a.engine
	}
	a.engineTried = true
	e, err := newPacketEngine(a.log)
	if err != nil {
		a.log.Warn("relaying with a goroutine per socket", "err", err)
		return nil
	}
	a.engine = e
	return e
}

func (a *RelayAnchor) forget(s *relaySession) {
	a.mu.Lock()
	delete(a.sessions, s)
	a.mu.Unlock()
}

// clock is the anchor clock the packet path and the timeout watch share:
// nanoseconds since the anchor started, monotonic.
func (a *RelayAnchor) clock() int64 { return int64(time.Since(a.epoch)) }

// openSide takes a pair from the pool and binds both its sockets. Pairs
// that will not bind (another program holds a port) go back to drain and
// the next pair is tried.
func (a *RelayAnchor) openSide(leg Leg) (*side, error) {
	var lastErr error
	for range maxBindTries {
		port, ok := a.pool.take(time.Now())
		if !ok {
			if lastErr != nil {
				return nil, fmt.Errorf("%w (%d-%d; last bind: %v)", ErrNoPorts, a.cfg.PortMin, a.cfg.PortMax, lastErr)
			}
			return nil, fmt.Errorf("%w (%d-%d)", ErrNoPorts, a.cfg.PortMin, a.cfg.PortMax)
		}
		rtp, err := a.cfg.Listen("udp", netip.AddrPortFrom(a.cfg.ListenIP, uint16(port)))
		if err != nil {
			a.pool.put(port, time.Now())
			lastErr = err
			continue
		}
		rtcp, err := a.cfg.Listen("udp", netip.AddrPortFrom(a.cfg.ListenIP, uint16(port+1)))
		if err != nil {
			_ = rtp.Close()
			a.pool.put(port, time.Now())
			lastErr = err
			continue
		}
		sd := newSide(leg, port, asUDPConn(rtp), asUDPConn(rtcp))
		if _, ok := rtp.(*net.UDPConn); ok {
			sd.engine = a.packetEngine()
		}
		return sd, nil
	}
	return nil, fmt.Errorf("%w: %d pairs in a row would not bind, last: %v", ErrNoPorts, maxBindTries, lastErr)
}

// freeSide returns s's pair to the pool once its sockets are closed.
func (a *RelayAnchor) freeSide(s *side) { a.pool.put(s.port, time.Now()) }

// PortPairs counts the relay's port pairs: free (resting included) and
// all of media.ports. It implements PortCounter.
func (a *RelayAnchor) PortPairs() (free, total int) { return a.pool.free(), a.pool.pairs() }
