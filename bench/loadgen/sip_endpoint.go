package loadgen

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"
)

// Timers are RFC 3261's T1 and T2 (§17.1.1.1); zero values take the RFC
// defaults, 500 ms and 4 s.
type Timers struct {
	T1, T2 time.Duration
}

func (t Timers) withDefaults() Timers {
	if t.T1 <= 0 {
		t.T1 = 500 * time.Millisecond
	}
	if t.T2 <= 0 {
		t.T2 = 4 * time.Second
	}
	return t
}

// endpoint is what the UAC and the UAS share: one UDP socket, one reader
// goroutine, one goroutine driving retransmissions, and one lock that the
// message handler and the timers run under. The handler may send.
type endpoint struct {
	conn    *net.UDPConn
	local   netip.AddrPort
	timers  Timers
	handle  func(m *sipMessage, src netip.AddrPort, now time.Time)
	mu      sync.Mutex
	pending []*retransmit
	badMsgs uint64
	sendErr error
	stop    chan struct{}
	wg      sync.WaitGroup
}

// sweepEvery is how often retransmission timers are looked at: a tenth of
// the default T1, far below any interval the RFC schedule produces.
const sweepEvery = 20 * time.Millisecond

func newEndpoint(conn *net.UDPConn, timers Timers) *endpoint {
	return &endpoint{conn: conn, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		timers: timers.withDefaults(), stop: make(chan struct{})}
}

func (e *endpoint) start(handle func(m *sipMessage, src netip.AddrPort, now time.Time)) {
	e.handle = handle
	e.wg.Go(e.readLoop)
	e.wg.Go(e.sweepLoop)
}

// close stops both goroutines and waits for them. The socket stays open:
// it belongs to the caller.
func (e *endpoint) close() error {
	close(e.stop)
	err := e.conn.SetReadDeadline(time.Now())
	e.wg.Wait()
	return errors.Join(err, e.conn.SetReadDeadline(time.Time{}))
}

func (e *endpoint) readLoop() {
	buf := make([]byte, 65535)
	for {
		n, src, err := e.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error surfacing on the socket
		}
		m, err := parseSIP(buf[:n])
		e.mu.Lock()
		if err != nil {
			e.badMsgs++
		} else {
			e.handle(m, netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), time.Now())
		}
		e.mu.Unlock()
	}
}

func (e *endpoint) sweepLoop() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.mu.Lock()
			e.sweep(now)
			e.mu.Unlock()
		}
	}
}

// sweep resends what is due and forgets retransmissions that ended.
func (e *endpoint) sweep(now time.Time) {
	e.pending = slices.DeleteFunc(e.pending, func(r *retransmit) bool {
		resend, expired := r.due(now)
		if resend {
			e.send(r.msg, r.dest)
		}
		if expired && r.onGiveUp != nil {
			r.onGiveUp()
		}
		if r.active {
			return false
		}
		r.queued = false
		return true
	})
}

// retransmit starts r's schedule and has the sweeper drive it.
func (e *endpoint) retransmit(r *retransmit) {
	if !r.queued {
		r.queued = true
		e.pending = append(e.pending, r)
	}
}

// send writes one datagram; the first error is kept for the report (UDP
// errors are rare and a lost message is retransmitted anyway).
func (e *endpoint) send(msg []byte, dest netip.AddrPort) {
	if _, err := e.conn.WriteToUDPAddrPort(msg, dest); err != nil && e.sendErr == nil {
		e.sendErr = err
	}
}
