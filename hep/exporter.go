package hep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures an Exporter.
type Config struct {
	// Address is the collector: "udp:IP:PORT", "tcp:IP:PORT", or
	// "IP:PORT", which means UDP (what Homer listens on by default).
	Address string
	// CaptureID and Password go into every packet (chunks 0x000c and
	// 0x000e); an empty Password is not sent.
	CaptureID uint32
	Password  string
	// QueueSize is how many packets wait for the collector before Send
	// drops; 0 means 4096.
	QueueSize int
	// Logger gets the write and connect failures; nil discards them.
	Logger *slog.Logger
	// Dial connects to the collector; nil means net.Dial (with a timeout,
	// and cancelled by Close). Tests inject their own.
	Dial func(network, address string) (net.Conn, error)
}

// Stats counts what became of the packets given to Send.
type Stats struct {
	// Sent is packets written to the collector.
	Sent uint64
	// Dropped is packets never written: the queue was full, there was no
	// connection, or the Exporter was closed.
	Dropped uint64
	// Errors is failed writes (their packets are lost), failed
	// connection attempts and connections the collector closed.
	Errors uint64
}

const (
	defaultQueueSize = 4096
	// flushWait bounds how long Close waits for the queue to drain.
	flushWait = time.Second
	// warnEvery keeps a dead collector from flooding the log: one
	// warning per period, with the count of the ones held back.
	warnEvery = 10 * time.Second
	// Reconnection backoff: doubled after every failure up to the
	// maximum, back to the minimum after a packet got through.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	// A TCP write that takes longer means a stuck collector; the
	// connection is dropped and made again.
	writeTimeout = 5 * time.Second
	dialTimeout  = 5 * time.Second
)

// Exporter sends packets to a HEP collector from one goroutine of its own,
// so that Send, called on the SIP path, never waits for the network: it
// encodes the packet, queues it, and drops it when the queue is full.
type Exporter struct {
	network, address string
	captureID        uint32
	password         string
	log              *slog.Logger
	dial             func(ctx context.Context, network, address string) (net.Conn, error)

	// queue holds encoded packets; bufs recycles their buffers so that
	// Send does not allocate once warm.
	queue chan *[]byte
	bufs  sync.Pool

	closed    atomic.Bool
	quit      chan struct{} // closed by Close: flush and stop
	ctx       context.Context
	abort     context.CancelFunc // the flush ran out of time: give up
	done      chan struct{}      // closed when every goroutine has ended
	closeOnce sync.Once
	closeErr  error

	// mu guards conn, so that Close can close a connection whose write
	// is stuck; only the sending goroutine replaces it.
	mu   sync.Mutex
	conn net.Conn

	sent, dropped, errs atomic.Uint64
	live                atomic.Int32 // goroutines running; tests check it

	sender // state of the sending goroutine, see sender.go
}

// NewExporter checks cfg and starts the sending goroutine. It does not
// wait for the collector: the first connection is made in the background,
// and until it is up packets are dropped.
func NewExporter(cfg Config) (*Exporter, error) {
	network, address, err := ParseAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	if cfg.QueueSize < 0 {
		return nil, fmt.Errorf("hep: queue size %d is negative", cfg.QueueSize)
	}
	size := cfg.QueueSize
	if size == 0 {
		size = defaultQueueSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{
		network:   network,
		address:   address,
		captureID: cfg.CaptureID,
		password:  cfg.Password,
		log:       log,
		queue:     make(chan *[]byte, size),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	e.bufs.New = func() any {
		b := make([]byte, 0, 2048) // a SIP message with room to spare
		return &b
	}
	if cfg.Dial != nil {
		e.dial = func(_ context.Context, network, address string) (net.Conn, error) {
			return cfg.Dial(network, address)
		}
	} else {
		d := &net.Dialer{Timeout: dialTimeout}
		e.dial = d.DialContext
	}
	e.ctx, e.abort = context.WithCancel(context.Background())
	e.live.Add(1)
	go e.run()
	return e, nil
}

// ParseAddress splits "udp:IP:PORT", "tcp:IP:PORT" or "IP:PORT" into a
// network and an address for net.Dial.
func ParseAddress(s string) (network, address string, err error) {
	network, address = "udp", s
	if n, a, ok := strings.Cut(s, ":"); ok && (n == "udp" || n == "tcp") {
		network, address = n, a
	}
	host, port, err := net.SplitHostPort(address)
	if err == nil && host == "" {
		err = errors.New("no host")
	}
	if err == nil {
		if p, perr := strconv.ParseUint(port, 10, 16); perr != nil || p == 0 {
			err = fmt.Errorf("bad port %q", port)
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("hep: collector address %q (want udp:IP:PORT, tcp:IP:PORT or IP:PORT): %w", s, err)
	}
	return network, address, nil
}

// Send queues p for the collector and returns at once. It sets p's capture
// id and password from the Config, and its time to now when zero; the
// payload is copied (encoded), so the caller may reuse it. When the queue
// is full or the Exporter closed, p is dropped and counted.
func (e *Exporter) Send(p Packet) {
	// Checking first saves encoding a packet that cannot be queued; the
	// select below is what decides.
	if e.closed.Load() || len(e.queue) == cap(e.queue) {
		e.dropped.Add(1)
		return
	}
	p.CaptureID = e.captureID
	p.Password = e.password
	if p.Time.IsZero() {
		p.Time = time.Now()
	}
	bp := e.bufs.Get().(*[]byte)
	*bp = Append((*bp)[:0], &p)
	select {
	case e.queue <- bp:
	default:
		e.bufs.Put(bp)
		e.dropped.Add(1)
	}
}

// Busy reports whether a packet sent now would be dropped (queue full or
// Exporter closed): a caller may skip the work of building it. The drop is
// counted here, as Send would have.
func (e *Exporter) Busy() bool {
	if e.closed.Load() || len(e.queue) == cap(e.queue) {
		e.dropped.Add(1)
		return true
	}
	return false
}

// Stats returns the counters so far.
func (e *Exporter) Stats() Stats {
	return Stats{Sent: e.sent.Load(), Dropped: e.dropped.Load(), Errors: e.errs.Load()}
}

// Close stops the Exporter: it gives the queued packets up to 1 s to reach
// the collector, then drops the rest, closes the connection and waits for
// its goroutines to end. It returns an error when packets were left
// behind. With a Config.Dial that hangs, Close waits for it to return.
func (e *Exporter) Close() error {
	e.closeOnce.Do(func() {
		defer e.abort()
		e.closed.Store(true)
		close(e.quit)
		t := time.NewTimer(flushWait)
		defer t.Stop()
		select {
		case <-e.done:
			return
		case <-t.C:
		}
		// Out of time: cancel a dial in progress and unblock a write
		// stuck on a collector that does not read.
		e.abort()
		e.mu.Lock()
		c := e.conn
		e.mu.Unlock()
		if c != nil {
			c.Close()
		}
		<-e.done
		e.closeErr = fmt.Errorf("hep: the collector did not take the queued packets within %v; the rest were dropped", flushWait)
	})
	return e.closeErr
}
