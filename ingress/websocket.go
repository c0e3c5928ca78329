package ingress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
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

// defaultControlWriteTimeout bounds natsbc's own frame writes.
const defaultControlWriteTimeout = 10 * time.Second

// maxHandshake bounds the HTTP upgrade request natsbc reads.
const maxHandshake = 8 << 10

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

// Read hands sipgo the upgrade request, then data frames only.
func (c *wsConn) Read(b []byte) (int, error) {
	for len(c.pending) == 0 {
		var err error
		if !c.headDone {
			err = c.readHandshake()
		} else {
			err = c.readFrame()
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(b, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// readHandshake reads the HTTP upgrade request (RFC 6455 §4.1) up to its
// empty line, and passes it on when it asks for the sip subprotocol.
func (c *wsConn) readHandshake() error {
	var head []byte
	for {
		line, err := c.br.ReadSlice('\n')
		head = append(head, line...)
		if len(head) > maxHandshake {
			c.refuse("431 Request Header Fields Too Large", "upgrade request too large")
			return errWSProtocol
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			return err
		}
		if bytes.Equal(line, []byte("\r\n")) || bytes.Equal(line, []byte("\n")) {
			break
		}
	}
	if !asksForSIP(head) {
		c.refuse("400 Bad Request", "no sip subprotocol")
		return errWSNotSIP
	}
	if !originAllowed(head, c.origins) {
		c.refuse("403 Forbidden", "origin not allowed")
		return errWSOrigin
	}
	c.headDone = true
	c.pending = head
	// The guard beneath held the request to an absolute deadline; from
	// here its idle timeout governs.
	if g, ok := c.Conn.(interface{ upgradeRead() }); ok {
		g.upgradeRead()
	}
	return nil
}

// headerValues returns the values of the header fields called name in an
// upgrade request, trimmed.
func headerValues(head []byte, name string) []string {
	var values []string
	for _, line := range strings.Split(string(head), "\n") {
		n, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			values = append(values, strings.TrimSpace(value))
		}
	}
	return values
}

// asksForSIP reports whether an upgrade request lists "sip" in its
// Sec-WebSocket-Protocol header(s) (RFC 6455 §4.1 item 10; RFC 7118 §4.1).
func asksForSIP(head []byte) bool {
	for _, value := range headerValues(head, "Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(value, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "sip") {
				return true
			}
		}
	}
	return false
}

// originAllowed reports whether the upgrade may proceed. RFC 6455 §10.2:
// a browser sends the Origin of the page that opens the WebSocket, so a
// server refuses pages it does not serve (cross-site WebSocket
// hijacking); a client that is not a browser sends none and is let in.
// Origins compare case-insensitively (RFC 6454 §6.2: scheme and host are
// lower-cased when serialised).
func originAllowed(head []byte, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	values := headerValues(head, "Origin")
	switch len(values) {
	case 0:
		return true
	case 1:
		for _, a := range allowed {
			if strings.EqualFold(values[0], a) {
				return true
			}
		}
	}
	return false // not listed, or more than one Origin
}

// refuse answers an upgrade natsbc does not pass to sipgo.
func (c *wsConn) refuse(status, why string) {
	c.refused(c.RemoteAddr(), why)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _ = io.WriteString(c.Conn, "HTTP/1.1 "+status+"\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

// readFrame reads one frame. A control frame is answered here; the last
// frame of a data message leaves the whole message in pending, as one
// masked text frame (sipgo's reader wants client frames masked; the mask
// is zero, the payload already clear).
func (c *wsConn) readFrame() error {
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		return err
	}
	// RFC 6455 §5.1: a server MUST close a connection on an unmasked
	// client frame; §5.2: RSV bits without a negotiated extension, and
	// reserved opcodes, fail the connection; §5.5: control frames are at
	// most 125 bytes and not fragmented.
	switch {
	case !h.Masked:
		return c.fail(ws.StatusProtocolError, errWSProtocol, "unmasked client frame")
	case h.Rsv != 0, h.OpCode.IsReserved():
		return c.fail(ws.StatusProtocolError, errWSProtocol, "reserved bits or opcode")
	case h.OpCode.IsControl() && (h.Length > 125 || !h.Fin):
		return c.fail(ws.StatusProtocolError, errWSProtocol, "control frame fragmented or over 125 bytes")
	// Compared with the room left, not as a sum: a 63-bit length (§5.2)
	// added to what is held would wrap negative and pass.
	case !h.OpCode.IsControl() && h.Length > int64(c.maxMessage-len(c.msg)):
		return c.fail(ws.StatusMessageTooBig, errWSTooLarge, "message larger than max_message_size")
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return err
	}
	ws.Cipher(payload, h.Mask, 0)

	switch h.OpCode {
	case ws.OpPing:
		// §5.5.3: the Pong carries the Ping's application data. The
		// pinger writes it: the read side never waits on a peer that
		// stopped reading.
		c.queuePong(payload)
		return nil
	case ws.OpPong:
		return nil // its arrival kept the connection from idling out
	case ws.OpClose:
		// §5.5.1: answer with a Close (echoing the status code), then
		// the TCP connection ends.
		echo := payload
		if len(echo) > 2 {
			echo = echo[:2]
		}
		_ = c.writeControl(ws.OpClose, echo)
		return io.EOF
	case ws.OpContinuation:
		if !c.inMsg {
			return c.fail(ws.StatusProtocolError, errWSProtocol, "continuation without a message")
		}
	default: // text or binary: a new message
		if c.inMsg {
			return c.fail(ws.StatusProtocolError, errWSProtocol, "new message inside a fragmented one")
		}
		c.inMsg, c.msg = true, c.msg[:0]
	}
	c.msg = append(c.msg, payload...)
	if !h.Fin {
		return nil
	}
	c.inMsg = false
	out := ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Length: int64(len(c.msg))}
	var buf bytes.Buffer
	buf.Grow(ws.HeaderSize(out) + len(c.msg))
	_ = ws.WriteHeader(&buf, out)
	buf.Write(c.msg)
	c.pending = buf.Bytes()
	c.msg = nil
	return nil
}

// fail ends the connection with a Close frame of code (§7.1.7).
func (c *wsConn) fail(code ws.StatusCode, err error, why string) error {
	c.refused(c.RemoteAddr(), why)
	_ = c.writeControl(ws.OpClose, ws.NewCloseFrameBody(code, ""))
	return err
}

// Write is sipgo's: the upgrade response, then frames (tracked).
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if !c.upgraded {
		c.trackResponse(p)
	} else {
		c.out.feed(p)
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		// A frame cut in the middle leaves no boundary to write at: the
		// connection is over.
		c.closed = true
		_ = c.Conn.Close()
	}
	if !c.out.inFrame() || c.closed {
		c.cond.Broadcast()
	}
	return n, err
}

// trackResponse notes the end of sipgo's upgrade response: frames follow
// it only when it said 101 (RFC 6455 §4.2.2).
func (c *wsConn) trackResponse(p []byte) {
	c.respTail = append(c.respTail, p...)
	if i := bytes.Index(c.respTail, []byte("\r\n\r\n")); i >= 0 {
		c.upgraded = bytes.HasPrefix(c.respTail, []byte("HTTP/1.1 101"))
		rest := c.respTail[i+4:]
		c.respTail = nil
		if c.upgraded {
			c.out.feed(rest)
		}
		c.cond.Broadcast()
	} else if len(c.respTail) > maxHandshake {
		c.respTail = c.respTail[len(c.respTail)-3:]
	}
}

// writeControl writes one control frame of natsbc's own, at a frame
// boundary of sipgo's stream. Server frames are not masked (§5.1).
func (c *wsConn) writeControl(op ws.OpCode, payload []byte) error {
	frame, err := ws.CompileFrame(ws.NewFrame(op, true, payload))
	if err != nil {
		return err
	}
	// The deadline is set before waiting: a write of sipgo's stuck on a
	// peer that stopped reading fails with it, and the wait ends.
	c.armControlDeadline()
	defer c.disarmControlDeadline()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for !c.closed && c.upgraded && c.out.inFrame() {
		c.cond.Wait()
	}
	if c.closed {
		return net.ErrClosed
	}
	if !c.upgraded {
		return fmt.Errorf("%w: control frame before the upgrade", errWSProtocol)
	}
	if _, err := c.Conn.Write(frame); err != nil {
		c.closed = true
		_ = c.Conn.Close()
		c.cond.Broadcast()
		return err
	}
	return nil
}

// queuePong hands the pinger a Pong to write. §5.5.3: an endpoint "MAY
// elect to send a Pong frame for only the most recently processed Ping
// frame", so one still waiting is replaced. Only the read side calls it.
func (c *wsConn) queuePong(payload []byte) {
	for {
		select {
		case c.pong <- payload:
			return
		default:
		}
		select {
		case <-c.pong:
		default:
		}
	}
}

// pinger pings the peer every interval once the upgrade is done, and
// writes the Pongs the read side queues, until the connection closes.
func (c *wsConn) pinger(interval time.Duration) {
	defer close(c.pingerDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case p := <-c.pong:
			_ = c.writeControl(ws.OpPong, p)
		case <-t.C:
			c.wmu.Lock()
			up := c.upgraded
			c.wmu.Unlock()
			if up {
				_ = c.writeControl(ws.OpPing, nil)
			}
		}
	}
}

// armControlDeadline bounds a control frame's write; the write deadline
// of sipgo, if sooner, still holds.
func (c *wsConn) armControlDeadline() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.ctrlWriters++
	c.ctrlWD = time.Now().Add(c.writeTimeout)
	c.applyWriteDeadline()
}

// disarmControlDeadline gives sipgo back its own write deadline once no
// control frame is on its way.
func (c *wsConn) disarmControlDeadline() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.ctrlWriters--
	c.applyWriteDeadline()
}

// applyWriteDeadline sets the sooner of sipgo's deadline and natsbc's.
// dmu is held.
func (c *wsConn) applyWriteDeadline() {
	d := c.userWD
	if c.ctrlWriters > 0 && (d.IsZero() || c.ctrlWD.Before(d)) {
		d = c.ctrlWD
	}
	_ = c.Conn.SetWriteDeadline(d)
}

// SetWriteDeadline is sipgo's write deadline, kept beneath natsbc's own.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.userWD = t
	c.applyWriteDeadline()
	return nil
}

// SetDeadline sets sipgo's read and write deadlines.
func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
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
