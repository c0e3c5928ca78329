package hep

import (
	"errors"
	"net"
	"sync"
	"time"
)

// sender is the state that only the sending goroutine (run) touches.
type sender struct {
	backoff    time.Duration
	redial     *time.Timer // fires when it is time to connect again
	lastWarn   time.Time
	suppressed int // warnings held back since lastWarn

	// watchers read the TCP connections: a collector sends nothing, so
	// a read that returns means the connection is gone, which a write
	// would only find out one packet too late.
	watchers  sync.WaitGroup
	dead      chan net.Conn // a watcher's connection ended
	stopWatch chan struct{} // run is ending: watchers need not report
}

var errPeerClosed = errors.New("the collector closed the connection")

// run is the sending goroutine: it writes queued packets, reconnects,
// and on Close flushes what is queued and ends with its watchers.
func (e *Exporter) run() {
	defer close(e.done)
	defer e.live.Add(-1)
	e.backoff = minBackoff
	e.dead = make(chan net.Conn)
	e.stopWatch = make(chan struct{})
	e.redial = time.NewTimer(0)
	e.redial.Stop()
	defer e.redial.Stop()

	e.connect()
	for {
		select {
		case bp := <-e.queue:
			e.write(bp)
		case c := <-e.dead:
			if c == e.current() {
				e.lost(errPeerClosed)
			}
		case <-e.redial.C:
			e.connect()
		case <-e.quit:
			e.flush()
			e.setConn(nil)
			close(e.stopWatch)
			e.watchers.Wait()
			return
		}
	}
}

// flush writes what is queued (write drops it once Close ran out of
// time). It does not connect: a collector that is down at Close stays
// down.
func (e *Exporter) flush() {
	for {
		select {
		case bp := <-e.queue:
			e.write(bp)
		default:
			return
		}
	}
}

// write sends one encoded packet, or drops it when there is no
// connection or Close gave up waiting.
func (e *Exporter) write(bp *[]byte) {
	c := e.current()
	if c == nil || e.ctx.Err() != nil {
		e.drop(bp)
		return
	}
	if e.network == "tcp" {
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	// UDP: one datagram per packet. TCP: the packets follow one another
	// on the stream; each carries its length in its header.
	_, err := c.Write(*bp)
	e.bufs.Put(bp)
	if err != nil {
		e.errs.Add(1)
		e.warn("hep: cannot send to the collector", err)
		// A TCP stream may now hold part of a packet: only a new
		// connection is sure to be in step. A UDP socket stays usable
		// (the error is usually an ICMP unreachable from earlier).
		if e.network == "tcp" {
			e.lost(nil)
		}
		return
	}
	e.sent.Add(1)
	e.backoff = minBackoff
}

func (e *Exporter) drop(bp *[]byte) {
	e.bufs.Put(bp)
	e.dropped.Add(1)
}

// connect dials the collector; on failure it tries again after the
// backoff, and packets are dropped meanwhile.
func (e *Exporter) connect() {
	c, err := e.dial(e.ctx, e.network, e.address)
	if err == nil && c == nil {
		err = errors.New("dial returned no connection")
	}
	if err != nil {
		e.errs.Add(1)
		e.warn("hep: cannot connect to the collector", err)
		e.retryLater()
		return
	}
	e.setConn(c)
	if e.network == "tcp" {
		e.watchers.Add(1)
		e.live.Add(1)
		go e.watch(c)
	}
}

// lost closes the current connection and schedules a new one. err, when
// not nil, is counted and logged.
func (e *Exporter) lost(err error) {
	if err != nil {
		e.errs.Add(1)
		e.warn("hep: lost the collector", err)
	}
	e.setConn(nil)
	e.retryLater()
}

func (e *Exporter) retryLater() {
	e.redial.Reset(e.backoff)
	e.backoff = min(2*e.backoff, maxBackoff)
}

// watch reads c until it fails and reports it to run.
func (e *Exporter) watch(c net.Conn) {
	defer e.watchers.Done()
	defer e.live.Add(-1)
	var buf [256]byte
	for {
		if _, err := c.Read(buf[:]); err != nil {
			break
		}
	}
	select {
	case e.dead <- c:
	case <-e.stopWatch:
	}
}

func (e *Exporter) current() net.Conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conn
}

// setConn replaces the connection, closing the old one.
func (e *Exporter) setConn(c net.Conn) {
	e.mu.Lock()
	old := e.conn
	e.conn = c
	e.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// warn logs at most once per warnEvery.
func (e *Exporter) warn(msg string, err error) {
	now := time.Now()
	if !e.lastWarn.IsZero() && now.Sub(e.lastWarn) < warnEvery {
		e.suppressed++
		return
	}
	e.log.Warn(msg, "collector", e.network+":"+e.address, "err", err, "suppressed", e.suppressed)
	e.lastWarn = now
	e.suppressed = 0
}
