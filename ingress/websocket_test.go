package ingress

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
)

// wsClient is a browser's side of a WebSocket, read and written frame by
// frame so a test sees every control frame.
type wsClient struct {
	conn net.Conn
	r    io.Reader
}

func dialWS(t *testing.T, addr string, protocols ...string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{Protocols: protocols}.Dial(ctx, "ws://"+addr+"/anything")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{conn: conn, r: conn}
	if br != nil {
		c.r = io.MultiReader(br, conn)
	}
	return c
}

// send writes one masked frame (RFC 6455 §5.3: client frames are masked).
func (c *wsClient) send(t *testing.T, op ws.OpCode, fin bool, p []byte) {
	t.Helper()
	if err := ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(op, fin, p))); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// next reads the next frame, skipping pings when skipPings (counted).
func (c *wsClient) next(t *testing.T) ws.Frame {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := ws.ReadFrame(c.r)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if f.Header.Masked {
		t.Fatalf("server frame is masked: %+v", f.Header)
	}
	return f
}

// nextData reads frames until a data frame, counting the pings on the way.
func (c *wsClient) nextData(t *testing.T, pings *int) ws.Frame {
	t.Helper()
	for {
		f := c.next(t)
		if f.Header.OpCode == ws.OpPing {
			*pings++
			continue
		}
		return f
	}
}

// sipgoOverWS serves a WebSocketListener with sipgo's own WS transport, as
// natsbc does, and hands the messages it parses to the test.
func sipgoOverWS(t *testing.T, cfg WSConfig) (*WebSocketListener, *sip.TransportLayer, chan sip.Message) {
	t.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewWebSocketListener(slowListener{tcp}, cfg)
	tl := sip.NewTransportLayer(net.DefaultResolver, sip.NewParser(), nil)
	msgs := make(chan sip.Message, 64)
	tl.OnMessage(func(m sip.Message) { msgs <- m })
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tl.ServeWS(ln)
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		_ = tl.Close()
		if n := ln.Open(); n != 0 {
			t.Errorf("%d connections still held after Close", n)
		}
	})
	return ln, tl, msgs
}

// slowListener's connections take a while over each write, as a loaded
// socket does: a ping written between two writes of one of sipgo's frames
// would be caught.
type slowListener struct{ net.Listener }

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowConn{c}, nil
}

type slowConn struct{ net.Conn }

func (c slowConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	time.Sleep(200 * time.Microsecond)
	return n, err
}

func optionsOver(n int) string {
	return "OPTIONS sip:natsbc.invalid;transport=ws SIP/2.0\r\n" +
		"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK" + fmt.Sprint(n) + "\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:alice@example.org>;tag=a\r\nTo: <sip:natsbc.invalid>\r\n" +
		"Call-ID: ws-" + fmt.Sprint(n) + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
}

func expectMsg(t *testing.T, msgs chan sip.Message, what string) sip.Message {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatalf("sipgo never got %s", what)
	}
	return nil
}

// RFC 6455 §5.5: pings are answered, fragmented and binary SIP messages
// reach sipgo whole, a double CRLF gets a CRLF (RFC 7118 §6 with RFC 5626
// §3.5.1), natsbc's own pings never cut one of sipgo's frames, and a Close
// is answered.
func TestWebSocketFilterUnderSipgo(t *testing.T) {
	ln, tl, msgs := sipgoOverWS(t, WSConfig{PingInterval: time.Millisecond})
	c := dialWS(t, ln.Addr().String(), "sip")
	pings := 0

	c.send(t, ws.OpPing, true, []byte("hello"))
	if f := c.nextData(t, &pings); f.Header.OpCode != ws.OpPong || string(f.Payload) != "hello" {
		t.Fatalf("answer to ping = %v %q; want a pong with its payload", f.Header.OpCode, f.Payload)
	}

	c.send(t, ws.OpText, true, []byte("\r\n\r\n"))
	if f := c.nextData(t, &pings); f.Header.OpCode != ws.OpText || string(f.Payload) != "\r\n" {
		t.Fatalf("answer to CRLFCRLF = %v %q; want a text CRLF", f.Header.OpCode, f.Payload)
	}

	// A binary message in two fragments with a ping between them.
	msg := []byte(optionsOver(0))
	c.send(t, ws.OpBinary, false, msg[:40])
	c.send(t, ws.OpPing, true, []byte("mid"))
	c.send(t, ws.OpContinuation, true, msg[40:])
	if f := c.nextData(t, &pings); f.Header.OpCode != ws.OpPong || string(f.Payload) != "mid" {
		t.Fatalf("answer to the ping between fragments = %v %q", f.Header.OpCode, f.Payload)
	}
	req, ok := expectMsg(t, msgs, "the fragmented OPTIONS").(*sip.Request)
	if !ok || req.CallID().Value() != "ws-0" {
		t.Fatalf("sipgo got %v", req)
	}

	// sipgo writes large responses while natsbc pings every millisecond:
	// every frame the client reads is whole.
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := sip.NewResponseFromRequest(req, 200, "OK", bytes.Repeat([]byte("x"), 3000+i))
			res.SetDestination(req.Source())
			res.SetTransport("WS")
			if err := tl.WriteMsg(res); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}()
	}
	for range n {
		f := c.nextData(t, &pings)
		if f.Header.OpCode != ws.OpText {
			t.Fatalf("frame %v while sipgo writes; want text", f.Header.OpCode)
		}
		if m, err := sip.ParseMessage(f.Payload); err != nil || m.(*sip.Response).StatusCode != 200 {
			t.Fatalf("frame is not a whole response: %v", err)
		}
	}
	wg.Wait()
	if pings == 0 {
		t.Error("natsbc never pinged")
	}

	c.send(t, ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))
	for {
		f := c.next(t)
		if f.Header.OpCode == ws.OpPing {
			continue
		}
		if f.Header.OpCode != ws.OpClose || len(f.Payload) < 2 || f.Payload[1] != byte(ws.StatusNormalClosure&0xff) {
			t.Fatalf("answer to Close = %v %x", f.Header.OpCode, f.Payload)
		}
		break
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := ws.ReadFrame(c.r); err != nil {
			break // the server closed the connection after its Close
		}
	}
}

// RFC 7118 §4: an upgrade that does not ask for the sip subprotocol is
// refused before sipgo sees it.
func TestWebSocketUpgradeNeedsSIPSubprotocol(t *testing.T) {
	ln, _, _ := sipgoOverWS(t, WSConfig{})
	for _, protos := range [][]string{nil, {"chat"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, _, err := ws.Dialer{Protocols: protos}.Dial(ctx, "ws://"+ln.Addr().String()+"/")
		cancel()
		var se ws.StatusError
		if !errorsAs(err, &se) || int(se) != 400 {
			t.Errorf("protocols %v: dial error %v; want status 400", protos, err)
		}
	}
	// Anything that breaks RFC 6455 ends the connection: an unmasked frame.
	c := dialWS(t, ln.Addr().String(), "chat", "sip")
	if err := ws.WriteFrame(c.conn, ws.NewTextFrame([]byte(optionsOver(1)))); err != nil {
		t.Fatal(err)
	}
	f := c.next(t)
	if f.Header.OpCode != ws.OpClose || len(f.Payload) < 2 || ws.StatusCode(int(f.Payload[0])<<8|int(f.Payload[1])) != ws.StatusProtocolError {
		t.Fatalf("answer to an unmasked frame = %v %x; want Close 1002", f.Header.OpCode, f.Payload)
	}
}

// The idle timeout is the guarded listener's beneath the filter: a peer
// that answers natsbc's pings keeps its connection, a silent one loses it.
func TestWebSocketIdleBeneathPings(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const idle = time.Second // long against the pings: a loaded CI machine delays pongs
	guard := NewGuardedListener(tcp, TCPConfig{IdleTimeout: idle}, nil, Endpoints{}, nil)
	ln := NewWebSocketListener(guard, WSConfig{PingInterval: 100 * time.Millisecond})
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
	silent := dialWS(t, ln.Addr().String(), "sip")
	silentClosed := make(chan time.Time, 1)
	start := time.Now()
	go func() {
		// Reads (so the socket drains) but never answers a ping.
		_, _ = io.Copy(io.Discard, silent.r)
		silentClosed <- time.Now()
	}()
	liveOutlastsCut(t, live, guard, start, idle, silentClosed, "the silent connection")
}

// liveOutlastsCut has the live client answer natsbc's pings for three
// periods while another connection should be cut: that one's cut must come
// after one period at the earliest (and come), the live one must still
// answer a CRLF keepalive, and the guard must have cut exactly one.
func liveOutlastsCut(t *testing.T, live *wsClient, guard *GuardedListener, start time.Time, period time.Duration, cut <-chan time.Time, what string) {
	t.Helper()
	for time.Since(start) < 3*period {
		f := live.next(t)
		if f.Header.OpCode == ws.OpPing {
			live.send(t, ws.OpPong, true, f.Payload)
		}
	}
	select {
	case at := <-cut:
		if d := at.Sub(start); d < period {
			t.Errorf("%s cut after %v; its deadline is %v", what, d, period)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s never cut", what)
	}
	live.send(t, ws.OpText, true, []byte("\r\n\r\n"))
	pings := 0
	if f := live.nextData(t, &pings); string(f.Payload) != "\r\n" {
		t.Fatalf("live connection after three periods: %v %q", f.Header.OpCode, f.Payload)
	}
	if st := guard.Stats(); st.Cut != 1 {
		t.Errorf("guard cut %d connections; want 1 (%s)", st.Cut, what)
	}
}

func errorsAs(err error, target *ws.StatusError) bool {
	se, ok := err.(ws.StatusError)
	if ok {
		*target = se
	}
	return ok
}

// fakeConn feeds a wsConn's reads from r and takes its writes.
type fakeConn struct {
	r io.Reader
	w bytes.Buffer
}

func (f *fakeConn) Read(b []byte) (int, error)  { return f.r.Read(b) }
func (f *fakeConn) Write(b []byte) (int, error) { return f.w.Write(b) }
func (f *fakeConn) Close() error                { return nil }
func (f *fakeConn) LocalAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:5066"))
}
func (f *fakeConn) RemoteAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.9:40000"))
}
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }
func (f *fakeConn) String() string                   { return "fake" }

func upgradeRequest(protos string) string {
	return "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + protos + "\r\n\r\n"
}

// hugeContinuation is a held non-final fragment, then a continuation
// whose 64-bit length (2^63-1, the largest §5.2 allows) added to the held
// bytes wraps negative.
func hugeContinuation() []byte {
	first, _ := ws.CompileFrame(ws.MaskFrame(ws.NewFrame(ws.OpText, false, []byte("OPT"))))
	return append(first, 0x80, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4)
}

// A continuation too large for max_message_size is refused with 1009
// however large its length, not allocated.
func TestWebSocketHugeContinuationRefused(t *testing.T) {
	fc := &fakeConn{r: io.MultiReader(strings.NewReader(upgradeRequest("sip")), bytes.NewReader(hugeContinuation()))}
	c := newWSConn(fc, 4096, func(net.Addr, string) {})
	head := make([]byte, 1024)
	if _, err := c.Read(head); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
	fc.w.Reset()
	if _, err := c.Read(head); !errors.Is(err, errWSTooLarge) {
		t.Fatalf("read after the huge continuation: %v; want errWSTooLarge", err)
	}
	f, err := ws.ReadFrame(&fc.w)
	if err != nil || f.Header.OpCode != ws.OpClose || len(f.Payload) < 2 ||
		ws.StatusCode(int(f.Payload[0])<<8|int(f.Payload[1])) != ws.StatusMessageTooBig {
		t.Fatalf("answer = %+v %x %v; want Close 1009", f.Header, f.Payload, err)
	}
}

// FuzzWebSocketFrames feeds anything as a client's byte stream after the
// upgrade: the filter never panics, never hands sipgo more than one
// message's worth at once, and what it hands over is whole masked text
// frames only.
func FuzzWebSocketFrames(f *testing.F) {
	frame := func(op ws.OpCode, fin bool, p string) []byte {
		b, _ := ws.CompileFrame(ws.MaskFrame(ws.NewFrame(op, fin, []byte(p))))
		return b
	}
	f.Add(frame(ws.OpText, true, optionsOver(1)))
	f.Add(append(append(frame(ws.OpBinary, false, "OPT"), frame(ws.OpPing, true, "x")...), frame(ws.OpContinuation, true, "IONS")...))
	f.Add(frame(ws.OpClose, true, "\x03\xe8"))
	f.Add(frame(ws.OpPing, true, strings.Repeat("p", 126)))
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	f.Add(hugeContinuation())
	f.Fuzz(func(t *testing.T, stream []byte) {
		const maxMessage = 4096
		fc := &fakeConn{r: io.MultiReader(strings.NewReader(upgradeRequest("sip")), bytes.NewReader(stream))}
		c := newWSConn(fc, maxMessage, func(net.Addr, string) {})
		// sipgo reads the request and writes its 101.
		head := make([]byte, 1024)
		if n, err := c.Read(head); err != nil || !bytes.HasPrefix(head[:n], []byte("GET /ws")) {
			t.Fatalf("upgrade request not passed: %q %v", head[:n], err)
		}
		_, _ = c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
		var out bytes.Buffer
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		r := bufio.NewReader(&out)
		for {
			h, err := ws.ReadHeader(r)
			if err != nil {
				break
			}
			if !h.Masked || !h.Fin || h.OpCode != ws.OpText || h.Length > maxMessage {
				t.Fatalf("filter handed sipgo %+v", h)
			}
			if _, err := io.CopyN(io.Discard, r, h.Length); err != nil {
				t.Fatalf("frame cut short: %v", err)
			}
		}
	})
}

// FuzzFrameTracker splits compiled frames at arbitrary points: the tracker
// is outside a frame exactly at the frame boundaries.
func FuzzFrameTracker(f *testing.F) {
	f.Add([]byte("hello"), uint16(300), uint8(3))
	f.Add([]byte{}, uint16(65535), uint8(1))
	f.Fuzz(func(t *testing.T, payload []byte, extra uint16, cut uint8) {
		p := append(payload, make([]byte, extra)...)
		frames := [][]byte{}
		for _, fr := range []ws.Frame{ws.NewTextFrame(p), ws.NewPingFrame(nil), ws.MaskFrame(ws.NewBinaryFrame(p[:len(p)/2]))} {
			b, err := ws.CompileFrame(fr)
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, b)
		}
		var tr frameTracker
		step := int(cut) + 1
		for _, b := range frames {
			for i := 0; i < len(b); i += step {
				if i > 0 && !tr.inFrame() {
					t.Fatalf("tracker left the frame at byte %d of %d", i, len(b))
				}
				tr.feed(b[i:min(i+step, len(b))])
			}
			if tr.inFrame() {
				t.Fatalf("tracker still in a frame after %d bytes", len(b))
			}
		}
	})
}
