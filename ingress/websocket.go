package ingress

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// WSConfig governs the WebSocket connections of a ws or wss socket
// (RFC 7118 over RFC 6455).
type WSConfig struct {
	// PingInterval is how often natsbc pings each connection (RFC 6455
	// §5.5.2); the peer's pongs keep a live connection from idling out
	// (the idle timeout is the GuardedListener's beneath). 0: 30 s.
	PingInterval time.Duration
	// MaxMessage bounds one SIP message, its fragments put together
	// (max_message_size). 0: 65535.
	MaxMessage int
	// ControlWriteTimeout bounds the write of each frame natsbc writes
	// itself (pings, pongs, closes): a peer that stops reading loses its
	// connection instead of holding a goroutine. 0: 10 s.
	ControlWriteTimeout time.Duration
	// AllowedOrigins are the web origins ("https://app.example.com") whose
	// pages may open a WebSocket: an upgrade from another gets 403, one
	// without Origin (not a browser) passes. Empty: any origin.
	AllowedOrigins []string
	Logger         *slog.Logger
}

// WebSocketListener is the net.Listener given to sipgo's ServeWS/ServeWSS.
// sipgo answers the HTTP upgrade, but reads WebSocket frames naively: it
// takes a control frame's payload for the next frame's header, drops
// continuation and binary frames, and never pings. Each connection it
// accepts is therefore a filter between sipgo and the peer:
//
//   - the upgrade request reaches sipgo only when it asks for the "sip"
//     subprotocol (RFC 7118 §4); others get 400 here;
//   - a Ping is answered with a Pong (RFC 6455 §5.5.2), a Pong is taken,
//     a Close is answered and ends the connection; sipgo sees no control
//     frame at all;
//   - a fragmented or binary message reaches sipgo as one text frame
//     (RFC 7118 §5: either may carry SIP);
//   - every PingInterval natsbc pings the peer, between sipgo's frames.
type WebSocketListener struct {
	net.Listener
	cfg WSConfig
	log *slog.Logger
	lim *LogLimiter

	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	closed bool
}

// NewWebSocketListener wraps ln.
func NewWebSocketListener(ln net.Listener, cfg WSConfig) *WebSocketListener {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 65535
	}
	if cfg.ControlWriteTimeout <= 0 {
		cfg.ControlWriteTimeout = defaultControlWriteTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &WebSocketListener{Listener: ln, cfg: cfg, log: log, lim: NewLogLimiter(10), conns: map[*wsConn]struct{}{}}
}

// Accept returns the next connection, filtered.
func (l *WebSocketListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	wc := newWSConn(c, l.cfg.MaxMessage, l.refused)
	wc.writeTimeout = l.cfg.ControlWriteTimeout
	wc.origins = l.cfg.AllowedOrigins
	wc.onClose = func() {
		l.mu.Lock()
		delete(l.conns, wc)
		l.mu.Unlock()
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.conns[wc] = struct{}{}
	l.mu.Unlock()
	go wc.pinger(l.cfg.PingInterval)
	return wc, nil
}

// Close stops accepting, closes every connection and waits for their
// pingers.
func (l *WebSocketListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	l.closed = true
	conns := make([]*wsConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	return err
}

// Open is the number of connections held now.
func (l *WebSocketListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// refused logs, at a bounded rate, an upgrade refused or a connection
// failed for breaking RFC 6455.
func (l *WebSocketListener) refused(src net.Addr, why string) {
	if ok, held := l.lim.Allow(); ok {
		l.log.Info("WebSocket connection closed", "src", src.String(), "why", why, "suppressed", held)
	}
}

// Errors that end a WebSocket connection (RFC 6455 §7.4.1 status codes
// are sent with them where one applies).
var (
	errWSNotSIP   = errors.New("WebSocket upgrade without the sip subprotocol (RFC 7118 §4)")
	errWSOrigin   = errors.New("WebSocket upgrade from an origin not allowed (RFC 6455 §10.2)")
	errWSProtocol = errors.New("WebSocket protocol error")
	errWSTooLarge = errors.New("WebSocket message larger than max_message_size")
)

// isWSClose reports whether err is one the filter ended a connection with
// (and logged).
func isWSClose(err error) bool {
	return errors.Is(err, errWSNotSIP) || errors.Is(err, errWSOrigin) || errors.Is(err, errWSProtocol) || errors.Is(err, errWSTooLarge)
}

// wsConn is one filtered connection. Read runs on sipgo's read goroutine
// only; writes come from sipgo's writers, the read side (the Close echo)
// and the pinger (pings, and the pongs the read side hands it), serialised
// by wmu at frame boundaries.
type wsConn struct {
	net.Conn
	br         *bufio.Reader
	maxMessage int
	refused    func(net.Addr, string)
	origins    []string // allowed Origin values; empty: any

	// Read side.
	headDone bool
	pending  []byte // bytes for sipgo: the upgrade request, then one frame
	msg      []byte // data message being put together from fragments
	inMsg    bool
	msgText  bool // the message being put together is text (§8.1: UTF-8)

	// Write side.
	wmu      sync.Mutex
	cond     *sync.Cond
	out      frameTracker
	upgraded bool   // sipgo wrote "101 Switching Protocols"
	respTail []byte // the upgrade response so far (until its empty line)
	closed   bool

	// Write deadlines: sipgo's own (SetDeadline, SetWriteDeadline), and
	// natsbc's while one of its frames waits or is written.
	dmu          sync.Mutex
	userWD       time.Time
	ctrlWriters  int
	ctrlWD       time.Time
	writeTimeout time.Duration

	pong       chan []byte // the Ping to answer, handed to the pinger
	done       chan struct{}
	pingerDone chan struct{}
	closeOnce  sync.Once
	onClose    func()
}

func newWSConn(c net.Conn, maxMessage int, refused func(net.Addr, string)) *wsConn {
	wc := &wsConn{Conn: c, br: bufio.NewReaderSize(c, 4096), maxMessage: maxMessage, refused: refused,
		writeTimeout: defaultControlWriteTimeout, pong: make(chan []byte, 1),
		done: make(chan struct{}), pingerDone: make(chan struct{})}
	wc.cond = sync.NewCond(&wc.wmu)
	return wc
}

// Close closes the connection and waits for its pinger. The socket is
// closed first: that ends a write blocked on a peer that stopped reading,
// which holds wmu.
func (c *wsConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.done)
		err = c.Conn.Close()
		c.wmu.Lock()
		c.closed = true
		c.cond.Broadcast()
		c.wmu.Unlock()
		<-c.pingerDone
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}
