package hep

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait bounds every wait for something the test expects to happen, so a
// bug fails the test instead of hanging it.
const wait = 5 * time.Second

// packet returns a distinct SIP packet for the exporter tests.
func packet(i int) Packet {
	return Packet{
		Src:     netip.MustParseAddrPort("10.0.0.1:5060"),
		Dst:     netip.MustParseAddrPort("[2001:db8::9]:5060"),
		Proto:   17,
		Time:    time.Unix(1700000000+int64(i), int64(i)*1000).UTC(),
		Type:    TypeSIP,
		Payload: fmt.Appendf(nil, "MESSAGE sip:%d SIP/2.0\r\n\r\n", i),
	}
}

// sent is what the collector should see of p sent through an Exporter
// configured with capture id 7 and password "pw".
func sent(p Packet) Packet {
	p.CaptureID, p.Password = 7, "pw"
	return p
}

// closeAndCheck closes e and checks that none of its goroutines is left.
func closeAndCheck(t *testing.T, e *Exporter) error {
	t.Helper()
	err := e.Close()
	select {
	case <-e.done:
	default:
		t.Fatal("Close returned before the sending goroutine ended")
	}
	if n := e.live.Load(); n != 0 {
		t.Fatalf("%d goroutines left after Close", n)
	}
	return err
}

func TestExporterUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	e, err := NewExporter(Config{Address: pc.LocalAddr().String(), CaptureID: 7, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		p := packet(i)
		e.Send(p)
		clear(p.Payload) // Send copied it
	}
	buf := make([]byte, 65536)
	for i := range n {
		pc.SetReadDeadline(time.Now().Add(wait))
		m, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		got, err := Decode(buf[:m])
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if d := diff(got, sent(packet(i))); d != "" {
			t.Fatalf("packet %d: %s", i, d)
		}
	}
	if err := closeAndCheck(t, e); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s != (Stats{Sent: n}) {
		t.Fatalf("stats %+v", s)
	}
}

// Send fills in the time when the caller left it zero.
func TestExporterSendSetsTime(t *testing.T) {
	c := newBlockConn()
	close(c.release)
	e, err := NewExporter(Config{Address: "192.0.2.1:9060", Dial: c.dial})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Truncate(time.Microsecond)
	p := packet(0)
	p.Time = time.Time{}
	e.Send(p)
	if err := closeAndCheck(t, e); err != nil {
		t.Fatal(err)
	}
	got := c.packets(t)
	if len(got) != 1 || got[0].Time.Before(before) || got[0].Time.After(time.Now()) {
		t.Fatalf("got %+v, want one packet sent after %v", got, before)
	}
}

// blockConn is a collector connection whose writes wait until release is
// closed (or the conn is), so a test can hold the sending goroutine.
type blockConn struct {
	entered   chan struct{} // gets a value when the first Write starts
	release   chan struct{}
	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	written [][]byte
}

func newBlockConn() *blockConn {
	return &blockConn{
		entered: make(chan struct{}, 1),
		release: make(chan struct{}),
		closed:  make(chan struct{}),
	}
}

func (c *blockConn) dial(network, address string) (net.Conn, error) { return c, nil }

func (c *blockConn) Write(b []byte) (int, error) {
	select {
	case c.entered <- struct{}{}:
	default:
	}
	select {
	case <-c.release:
	case <-c.closed:
		return 0, net.ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written = append(c.written, bytes.Clone(b))
	return len(b), nil
}

// packets decodes what was written.
func (c *blockConn) packets(t *testing.T) []Packet {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var ps []Packet
	for _, b := range c.written {
		p, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func (c *blockConn) Read(b []byte) (int, error) {
	<-c.closed
	return 0, io.EOF
}

func (c *blockConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *blockConn) LocalAddr() net.Addr              { return &net.UDPAddr{} }
func (c *blockConn) RemoteAddr() net.Addr             { return &net.UDPAddr{} }
func (c *blockConn) SetDeadline(time.Time) error      { return nil }
func (c *blockConn) SetReadDeadline(time.Time) error  { return nil }
func (c *blockConn) SetWriteDeadline(time.Time) error { return nil }

// sendAll sends ps and fails the test if that takes long: Send must
// never wait for the collector.
func sendAll(t *testing.T, e *Exporter, ps ...Packet) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range ps {
			e.Send(p)
		}
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Send blocked")
	}
}

func TestExporterQueueFull(t *testing.T) {
	c := newBlockConn()
	e, err := NewExporter(Config{Address: "udp:192.0.2.1:9060", CaptureID: 7, Password: "pw", QueueSize: 4, Dial: c.dial})
	if err != nil {
		t.Fatal(err)
	}
	// Packet 0 holds the sending goroutine in Write; 1 to 4 fill the
	// queue; 5 to 7 find it full.
	sendAll(t, e, packet(0))
	select {
	case <-c.entered:
	case <-time.After(wait):
		t.Fatal("the exporter never wrote")
	}
	sendAll(t, e, packet(1), packet(2), packet(3), packet(4), packet(5), packet(6), packet(7))
	if s := e.Stats(); s != (Stats{Dropped: 3}) {
		t.Fatalf("stats with the queue full %+v", s)
	}

	close(c.release)
	if err := closeAndCheck(t, e); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s != (Stats{Sent: 5, Dropped: 3}) {
		t.Fatalf("stats after Close %+v", s)
	}
	got := c.packets(t)
	if len(got) != 5 {
		t.Fatalf("collector got %d packets, want 5", len(got))
	}
	for i, p := range got {
		if d := diff(p, sent(packet(i))); d != "" {
			t.Fatalf("packet %d: %s", i, d)
		}
	}
	// Closed: Send drops.
	e.Send(packet(8))
	if s := e.Stats(); s.Dropped != 4 {
		t.Fatalf("stats after a Send on a closed Exporter %+v", s)
	}
}

// A collector that never takes its packets cannot hold Close for more
// than the flush wait.
func TestExporterCloseStuckWrite(t *testing.T) {
	c := newBlockConn()
	e, err := NewExporter(Config{Address: "udp:192.0.2.1:9060", Dial: c.dial})
	if err != nil {
		t.Fatal(err)
	}
	sendAll(t, e, packet(0))
	<-c.entered
	sendAll(t, e, packet(1), packet(2))
	start := time.Now()
	if err := closeAndCheck(t, e); err == nil {
		t.Fatal("Close: no error for the packets left behind")
	}
	if d := time.Since(start); d < flushWait || d > flushWait+wait {
		t.Fatalf("Close took %v", d)
	}
	if s := e.Stats(); s != (Stats{Errors: 1, Dropped: 2}) {
		t.Fatalf("stats %+v", s)
	}
}

// readPacket reads one HEP3 packet from a TCP stream.
func readPacket(t *testing.T, c net.Conn) Packet {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	b := make([]byte, headerLen)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < headerLen {
		t.Fatalf("total length %d", n)
	}
	b = append(b, make([]byte, n-headerLen)...)
	if _, err := io.ReadFull(c, b[headerLen:]); err != nil {
		t.Fatal(err)
	}
	p, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func accept(t *testing.T, ln *net.TCPListener) net.Conn {
	t.Helper()
	ln.SetDeadline(time.Now().Add(wait))
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func listenTCP(t *testing.T) *net.TCPListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestExporterTCP(t *testing.T) {
	ln := listenTCP(t)
	e, err := NewExporter(Config{Address: "tcp:" + ln.Addr().String(), CaptureID: 7, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	c := accept(t, ln)
	defer c.Close()
	const n = 50
	for i := range n {
		e.Send(packet(i))
	}
	for i := range n {
		if d := diff(readPacket(t, c), sent(packet(i))); d != "" {
			t.Fatalf("packet %d: %s", i, d)
		}
	}
	if err := closeAndCheck(t, e); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s != (Stats{Sent: n}) {
		t.Fatalf("stats %+v", s)
	}
	// Close closed the connection: the collector reads its end.
	c.SetReadDeadline(time.Now().Add(wait))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after Close: %v, want EOF", err)
	}
}

func TestExporterTCPReconnect(t *testing.T) {
	ln := listenTCP(t)
	e, err := NewExporter(Config{Address: "tcp:" + ln.Addr().String(), CaptureID: 7, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	c1 := accept(t, ln)
	e.Send(packet(1))
	if d := diff(readPacket(t, c1), sent(packet(1))); d != "" {
		t.Fatal(d)
	}
	c1.Close() // the collector goes away

	c2 := accept(t, ln)
	defer c2.Close()
	e.Send(packet(2))
	if d := diff(readPacket(t, c2), sent(packet(2))); d != "" {
		t.Fatal(d)
	}
	if err := closeAndCheck(t, e); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s != (Stats{Sent: 2, Errors: 1}) {
		t.Fatalf("stats %+v", s)
	}
}

// syncBuffer is a log destination safe for the sending goroutine and the
// test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A collector that cannot be reached: packets are dropped and counted,
// connecting is retried, and the log gets one warning, not one per try.
func TestExporterUnreachable(t *testing.T) {
	var log syncBuffer
	dials := make(chan struct{}, 10)
	e, err := NewExporter(Config{
		Address: "tcp:192.0.2.1:9060",
		Logger:  slog.New(slog.NewTextHandler(&log, nil)),
		Dial: func(network, address string) (net.Conn, error) {
			dials <- struct{}{}
			return nil, fmt.Errorf("no route to %s", address)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case <-dials:
		case <-time.After(wait):
			t.Fatal("the exporter stopped trying to connect")
		}
	}
	e.Send(packet(0))
	if err := closeAndCheck(t, e); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.Dropped != 1 || s.Sent != 0 || s.Errors < 3 {
		t.Fatalf("stats %+v", s)
	}
	if n := strings.Count(log.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, log.String())
	}
}

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in, network, address string
	}{
		{"udp:127.0.0.1:9060", "udp", "127.0.0.1:9060"},
		{"tcp:127.0.0.1:9061", "tcp", "127.0.0.1:9061"},
		{"127.0.0.1:9060", "udp", "127.0.0.1:9060"},
		{"tcp:[::1]:9060", "tcp", "[::1]:9060"},
		{"[::1]:9060", "udp", "[::1]:9060"},
		{"homer.example:9060", "udp", "homer.example:9060"},
		{"", "", ""},
		{"127.0.0.1", "", ""},
		{"sctp:127.0.0.1:9060", "", ""},
		{"udp::9060", "", ""},
		{"udp:127.0.0.1:0", "", ""},
		{"udp:127.0.0.1:70000", "", ""},
	} {
		network, address, err := ParseAddress(tc.in)
		if tc.network == "" {
			if err == nil {
				t.Errorf("%q: accepted as %s %s", tc.in, network, address)
			}
			continue
		}
		if err != nil || network != tc.network || address != tc.address {
			t.Errorf("%q: %s %s %v, want %s %s", tc.in, network, address, err, tc.network, tc.address)
		}
	}
	if _, err := NewExporter(Config{Address: "nowhere"}); err == nil {
		t.Error("NewExporter accepted a bad address")
	}
	if _, err := NewExporter(Config{Address: "127.0.0.1:9060", QueueSize: -1}); err == nil {
		t.Error("NewExporter accepted a negative queue size")
	}
}

// discardConn takes every write.
type discardConn struct{ *blockConn }

func (c *discardConn) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkExporterSend is a packet's way through the Exporter to a
// connection that takes everything: encoding and queueing in Send, then
// the sending goroutine. It lets the queue drain every 1024 packets so
// that none is dropped.
func BenchmarkExporterSend(b *testing.B) {
	c := &discardConn{newBlockConn()}
	e, err := NewExporter(Config{Address: "192.0.2.1:9060", CaptureID: 7, Dial: func(string, string) (net.Conn, error) { return c, nil }})
	if err != nil {
		b.Fatal(err)
	}
	p := v4Packet
	b.ReportAllocs()
	n := uint64(0)
	for b.Loop() {
		e.Send(p)
		if n++; n%1024 == 0 {
			for e.sent.Load() < n {
				runtime.Gosched()
			}
		}
	}
	b.StopTimer()
	e.Close()
	if s := e.Stats(); s.Dropped != 0 {
		b.Fatalf("stats %+v", s)
	}
}

// BenchmarkExporterSendFull is what the SIP path pays when the collector
// is not keeping up: the queue is full and Send drops.
func BenchmarkExporterSendFull(b *testing.B) {
	c := newBlockConn()
	e, err := NewExporter(Config{Address: "192.0.2.1:9060", QueueSize: 1, Dial: c.dial})
	if err != nil {
		b.Fatal(err)
	}
	e.Send(v4Packet)
	<-c.entered
	e.Send(v4Packet)
	p := v4Packet
	b.ReportAllocs()
	for b.Loop() {
		e.Send(p)
	}
	b.StopTimer()
	close(c.release)
	e.Close()
}
