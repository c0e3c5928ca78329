package nat

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// silentConn is a PacketConn nobody ever answers: it records when each
// datagram was sent and honours read deadlines with timers, so in a
// synctest bubble the retransmission schedule runs on the fake clock.
type silentConn struct {
	mu       sync.Mutex
	sent     []time.Duration
	start    time.Time
	deadline time.Time
	changed  chan struct{} // closed when the deadline moves
	closed   chan struct{}
}

func newSilentConn() *silentConn {
	return &silentConn{start: time.Now(), changed: make(chan struct{}), closed: make(chan struct{})}
}

func (c *silentConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, time.Since(c.start))
	return len(b), nil
}

func (c *silentConn) ReadFrom([]byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		deadline, changed := c.deadline, c.changed
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			if !time.Now().Before(deadline) {
				return 0, nil, os.ErrDeadlineExceeded
			}
			timer := time.NewTimer(time.Until(deadline))
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		case <-changed:
		case <-c.closed:
			return 0, nil, net.ErrClosed
		}
	}
}

func (c *silentConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	close(c.changed)
	c.changed = make(chan struct{})
	return nil
}

func (c *silentConn) sendTimes() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

func (c *silentConn) Close() error                     { close(c.closed); return nil }
func (c *silentConn) LocalAddr() net.Addr              { return &net.UDPAddr{} }
func (c *silentConn) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *silentConn) SetWriteDeadline(time.Time) error { return nil }

// RFC 5389 §7.2.1: "requests would be sent at times 0 ms, 500 ms,
// 1500 ms, 3500 ms, 7500 ms, 15500 ms, and 31500 ms. If the client has not
// received a response after 39500 ms, the client will consider the
// transaction to have timed out."
func TestDiscoverRetransmissionSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := newSilentConn()
		defer conn.Close()
		start := time.Now()
		_, err := Discover(context.Background(), conn, netip.MustParseAddrPort("192.0.2.1:3478"))
		if !errors.Is(err, ErrSTUNNoAnswer) {
			t.Fatalf("Discover = %v, want ErrSTUNNoAnswer", err)
		}
		want := []time.Duration{0, 500, 1500, 3500, 7500, 15500, 31500}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if got := conn.sendTimes(); !slices.Equal(got, want) {
			t.Errorf("requests sent at %v, want %v", got, want)
		}
		if total := time.Since(start); total != 39500*time.Millisecond {
			t.Errorf("gave up after %v, want 39.5s", total)
		}
	})
}

// A ctx deadline cuts the schedule short, at the deadline itself.
func TestDiscoverStopsAtTheContextDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := newSilentConn()
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := Discover(ctx, conn, netip.MustParseAddrPort("192.0.2.1:3478"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Discover = %v, want DeadlineExceeded", err)
		}
		if took := time.Since(start); took != 2*time.Second {
			t.Errorf("returned after %v, want 2s", took)
		}
		if n := len(conn.sendTimes()); n != 3 {
			t.Errorf("%d requests in 2 s, want 3 (0, 0.5, 1.5 s)", n)
		}
	})
}
