package ingress

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
)

// pipeListener hands out the server end of one in-memory connection: its
// writes block until the client reads, as a TCP socket's do once a peer
// that stopped reading has filled its buffers.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5066} }

// pongWatch tells when the server starts writing a Pong.
type pongWatch struct {
	net.Conn
	once    sync.Once
	writing chan struct{}
}

func (c *pongWatch) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == 0x8a { // FIN + Pong
		c.once.Do(func() { close(c.writing) })
	}
	return c.Conn.Write(p)
}

// stuckClient upgrades over a pipe served by sipgo through the filter,
// then never reads again.
func stuckClient(t *testing.T, cfg WSConfig) (*WebSocketListener, net.Conn, *pongWatch) {
	t.Helper()
	server, client := net.Pipe()
	watch := &pongWatch{Conn: server, writing: make(chan struct{})}
	pl := &pipeListener{conns: make(chan net.Conn, 1), closed: make(chan struct{})}
	pl.conns <- watch
	ln := NewWebSocketListener(pl, cfg)
	tl := sip.NewTransportLayer(net.DefaultResolver, sip.NewParser(), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tl.ServeWS(ln)
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		_ = tl.Close()
		_ = client.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dialer := ws.Dialer{Protocols: []string{"sip"}, NetDial: func(context.Context, string, string) (net.Conn, error) { return client, nil }}
	if _, _, _, err := dialer.Dial(ctx, "ws://natsbc.invalid/"); err != nil {
		t.Fatalf("dial: %v", err)
	}
	return ln, client, watch
}

// sendPing writes one ping; false when the server no longer takes it
// within the deadline.
func sendPing(c net.Conn) error {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return ws.WriteFrame(c, ws.MaskFrame(ws.NewPingFrame([]byte("are you there"))))
}

// A client that pings and never reads neither stalls the read side nor
// keeps Close (natsbc's Shutdown) waiting.
func TestWebSocketStuckReaderDoesNotHoldClose(t *testing.T) {
	ln, client, watch := stuckClient(t, WSConfig{PingInterval: time.Hour})
	for i := range 200 {
		if err := sendPing(client); err != nil {
			t.Fatalf("ping %d not taken (%v): the read side waits on its pong", i, err)
		}
	}
	select {
	case <-watch.writing:
	case <-time.After(5 * time.Second):
		t.Fatal("no pong written")
	}
	closed := make(chan struct{})
	go func() {
		_ = ln.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked behind a pong the client never reads")
	}
	if n := ln.Open(); n != 0 {
		t.Errorf("%d connections held after Close", n)
	}
}

// A pong the client never reads fails at the control write timeout, and
// the connection ends.
func TestWebSocketControlWriteTimeout(t *testing.T) {
	_, client, watch := stuckClient(t, WSConfig{PingInterval: time.Hour, ControlWriteTimeout: 50 * time.Millisecond})
	if err := sendPing(client); err != nil {
		t.Fatal(err)
	}
	<-watch.writing
	start := time.Now()
	var err error
	for err == nil && time.Since(start) < 5*time.Second {
		err = sendPing(client)
	}
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("client's pings after an unread pong: %v; want the connection closed", err)
	}
}

// The upgrade request has an absolute deadline: a client dribbling it a
// byte at a time, each within the idle timeout, is cut when it passes; a
// client that upgraded is then timed by the idle rule alone.
func TestWebSocketSlowUpgradeCut(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const upgrade = 200 * time.Millisecond
	guard := NewGuardedListener(tcp, TCPConfig{IdleTimeout: time.Second, UpgradeTimeout: upgrade}, nil, Endpoints{}, nil)
	ln := NewWebSocketListener(guard, WSConfig{PingInterval: 50 * time.Millisecond})
	tl := sip.NewTransportLayer(net.DefaultResolver, sip.NewParser(), nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tl.ServeWS(ln)
	}()
	defer func() {
		_ = ln.Close()
		<-done
		_ = tl.Close()
	}()

	live := dialWS(t, ln.Addr().String(), "sip")
	slow, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	cut := make(chan time.Time, 1)
	go func() {
		_, _ = io.Copy(io.Discard, slow)
		cut <- time.Now()
	}()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		_, _ = io.WriteString(slow, "GET / HTTP/1.1\r\nHost: natsbc.invalid\r\nX-Slow: ")
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := slow.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	liveOutlastsCut(t, live, guard, start, upgrade, cut, "the dribbling client")
}
