package ingress

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// tcpRig is a guarded listener on loopback with a reader that, like
// sipgo, reads each connection until an error and then closes it.
type tcpRig struct {
	ln     *GuardedListener
	closed chan error // one per server-side connection that ended
}

func newTCPRig(t *testing.T, cfg TCPConfig) *tcpRig {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpRig{ln: NewGuardedListener(raw, cfg, nil, Endpoints{}, slog.New(slog.DiscardHandler)), closed: make(chan error, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						r.closed <- err
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { r.ln.Close(); <-done })
	return r
}

func (r *tcpRig) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expectClosedByServer: the client sees the server close its connection.
func expectClosedByServer(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("connection not closed by natsbc within %v: %v", within, err)
	}
}

// Over the per-source cap a new connection is closed at once; a closed
// one frees its place.
func TestGuardedListenerCaps(t *testing.T) {
	r := newTCPRig(t, TCPConfig{MaxPerSource: 2})
	a, b := r.dial(t), r.dial(t)
	_, _ = a.Write([]byte("\r\n\r\n"))
	_, _ = b.Write([]byte("\r\n\r\n"))
	third := r.dial(t)
	expectClosedByServer(t, third, 2*time.Second)
	if st := r.ln.Stats(); st.Refused != 1 || st.Open != 2 {
		t.Fatalf("stats %+v, want one refused and two open", st)
	}
	a.Close()
	<-r.closed
	fourth := r.dial(t)
	if _, err := fourth.Write([]byte("OPTIONS sip:x SIP/2.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for r.ln.Stats().Open != 2 || r.ln.Stats().Refused != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("after one closed, a new connection was not kept: %+v", r.ln.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// An idle connection is closed after IdleTimeout; one whose header block
// trickles in (slowloris) after HeaderTimeout, even while bytes arrive.
func TestGuardedConnIdleAndSlow(t *testing.T) {
	r := newTCPRig(t, TCPConfig{IdleTimeout: 300 * time.Millisecond, HeaderTimeout: 200 * time.Millisecond})
	idle := r.dial(t)
	if _, err := idle.Write([]byte("OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	expectClosedByServer(t, idle, 2*time.Second)
	if err := <-r.closed; errors.Is(err, errTooSlow) {
		t.Fatalf("a complete message then silence was cut as slow: %v", err)
	}

	slow := r.dial(t)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		_, _ = slow.Write([]byte("INVITE sip:x SIP/2.0\r\n"))
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := slow.Write([]byte("X")); err != nil {
					return
				}
			}
		}
	}()
	if err := <-r.closed; !errors.Is(err, errTooSlow) {
		t.Fatalf("slowloris connection ended with %v, want errTooSlow", err)
	}
	if st := r.ln.Stats(); st.Cut != 2 || st.Open != 0 {
		t.Fatalf("stats %+v, want two cut and none open", st)
	}
}

// track never panics on any split of any bytes, keeps at most three bytes
// of tail, and a stream that ends with a complete header block leaves no
// block pending.
func FuzzTrackHeaderBlocks(f *testing.F) {
	f.Add([]byte("OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"), uint8(5))
	f.Add([]byte("\r\n\r\n\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		c := &guardedConn{}
		now := time.Unix(1000, 0)
		n := int(step%16) + 1
		for i := 0; i < len(data); i += n {
			c.track(data[i:min(i+n, len(data))], now)
			if len(c.tail) > 3 {
				t.Fatalf("tail of %d bytes", len(c.tail))
			}
		}
		c.track([]byte("A\r\n\r\n"), now)
		if !c.started.IsZero() {
			t.Fatal("a complete header block left a block pending")
		}
	})
}
