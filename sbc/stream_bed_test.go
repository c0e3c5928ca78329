package sbc

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/certs/certstest"
	"github.com/natsbc/natsbc/policy"
)

// streamBed is natsbc with a UDP PBX inside (127.0.0.1) and, outside
// (127.0.0.2), the stream sockets a test asks for: tls, ws, wss.
type streamBed struct {
	srv     *Server
	log     *logSink
	pbx     *testPeer
	inside  netip.AddrPort
	sockets map[string]netip.AddrPort // network → natsbc's address
	ca      *certstest.CA
	dir     string
}

type streamBedOpts struct {
	networks     []string // outside sockets: "tls", "ws", "wss"
	idle, ping   time.Duration
	origins      []string // allowed_origins of the ws/wss sockets
	mod          func(*Options)
	keepInterval time.Duration
}

func newStreamBed(t *testing.T, o streamBedOpts) *streamBed {
	t.Helper()
	b := &streamBed{log: newLogSink(), sockets: map[string]netip.AddrPort{}, dir: t.TempDir()}
	b.ca = certstest.NewCA(t, b.dir, "test")
	srvPair := b.ca.Issue(t, b.dir, "natsbc", outsideIP, insideIP, "natsbc.example")
	b.pbx = newTestPeer(t, "pbx", pbxIP)
	store := certs.NewStore(nil)
	t.Cleanup(store.Close)
	serverTLS, err := store.ServerConfig(certs.Server{CertFile: srvPair.CertFile, KeyFile: srvPair.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{Peers: []policy.Peer{{
		Name: "pbx", Networks: []netip.Prefix{netip.PrefixFrom(b.pbx.addr().Addr(), 32)},
		Address: b.pbx.addr().String(), Role: policy.RolePBX,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var inPC net.PacketConn
	b.inside, inPC = listenUDP(t, insideIP)
	listeners := []Listener{{Spec: ListenSpec{Name: "inside", Network: "udp", Addr: b.inside}, Packet: inPC}}
	for _, n := range o.networks {
		ln, err := net.Listen("tcp", outsideIP+":0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().(*net.TCPAddr).AddrPort()
		b.sockets[n] = addr
		if n == "tls" || n == "wss" {
			ln = tls.NewListener(ln, serverTLS)
		}
		listeners = append(listeners, Listener{Spec: ListenSpec{Name: n, Network: n, Addr: addr,
			IdleTimeout: o.idle, PingInterval: o.ping, AllowedOrigins: o.origins}, Stream: ln})
	}
	cfg := Config{T1: flowT1, T2: flowT2, T4: flowT4, DrainTimeout: 100 * time.Millisecond}
	if o.keepInterval > 0 {
		cfg.Keepalive.Interval = o.keepInterval
	}
	opts := Options{
		Config: cfg, Listeners: listeners, Policy: pol, Certs: store,
		Router: loopRouter{pbx: b.pbx.addr().Addr()},
		Logger: slog.New(slog.NewJSONHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if o.mod != nil {
		o.mod(&opts)
	}
	b.srv, err = New(opts)
	if err != nil {
		t.Fatalf("sbc.New: %v", err)
	}
	if err := b.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("natsbc log:\n%s", b.log.String())
		}
	})
	b.pbx.target = b.inside
	b.pbx.Send(t, options(b.pbx, b.inside))
	b.pbx.Expect(t, wait, "200 OK for OPTIONS", isResponse(200, sip.OPTIONS))
	return b
}

// streamPhone is a phone on one TLS or WebSocket connection to natsbc: the
// test writes SIP text and takes what arrives, as with testPeer.
type streamPhone struct {
	name  string
	conn  net.Conn
	write func(string) error
	ping  func() error // WebSocket only
	in    chan sip.Message
	done  chan struct{}

	mu      sync.Mutex
	backlog []sip.Message
	history []string
	pings   atomic.Int64  // WebSocket pings natsbc sent
	pinged  chan struct{} // one per ping natsbc sent (dropped when full)
	crlf    chan struct{} // a CRLF keepalive answer (or a pong) came
}

func (p *streamPhone) start(t *testing.T, read func() (string, error)) {
	p.in, p.done, p.crlf, p.pinged = make(chan sip.Message, 256), make(chan struct{}), make(chan struct{}, 16), make(chan struct{}, 1)
	go func() {
		defer close(p.done)
		defer close(p.in)
		for {
			raw, err := read()
			if err != nil {
				return
			}
			if strings.Trim(raw, "\r\n") == "" {
				p.crlf <- struct{}{}
				continue
			}
			p.mu.Lock()
			p.history = append(p.history, raw)
			p.mu.Unlock()
			if m, err := sip.ParseMessage([]byte(raw)); err == nil {
				p.in <- m
			}
		}
	}()
	t.Cleanup(func() {
		_ = p.conn.Close()
		<-p.done
	})
}

// phoneDialer connects from the phone's address (not the PBX's 127.0.0.1,
// which the kernel would pick).
func phoneDialer() *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(phoneIP)}}
}

// dialTLSPhone connects to natsbc's TLS socket as a phone trusting the
// test CA.
func (b *streamBed) dialTLSPhone(t *testing.T) *streamPhone {
	t.Helper()
	c, err := tls.DialWithDialer(phoneDialer(), "tcp", b.sockets["tls"].String(), &tls.Config{RootCAs: b.ca.Pool(), ServerName: outsideIP})
	if err != nil {
		t.Fatalf("phone TLS dial: %v", err)
	}
	p := &streamPhone{name: "tls phone", conn: c}
	var wmu sync.Mutex
	p.write = func(s string) error {
		wmu.Lock()
		defer wmu.Unlock()
		_, err := io.WriteString(c, s)
		return err
	}
	r := bufio.NewReader(c)
	p.start(t, func() (string, error) {
		// RFC 5626 §3.5.1: a CRLF between messages is a keepalive pong.
		if b, err := r.Peek(2); err == nil && string(b) == "\r\n" {
			_, _ = r.Discard(2)
			return "\r\n", nil
		}
		return readStreamMessage(r)
	})
	return p
}

// dialWSPhone connects to natsbc's ws socket as a browser does (RFC 7118:
// subprotocol sip). It answers natsbc's pings unless silent.
func (b *streamBed) dialWSPhone(t *testing.T, network string, silent bool) *streamPhone {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := ws.Dialer{Protocols: []string{"sip"}, TLSConfig: &tls.Config{RootCAs: b.ca.Pool(), ServerName: outsideIP},
		NetDial: phoneDialer().DialContext}
	c, br, hs, err := d.Dial(ctx, network+"://"+b.sockets[network].String()+"/sip")
	if err != nil || hs.Protocol != "sip" {
		t.Fatalf("phone WebSocket dial: %v (protocol %q)", err, hs.Protocol)
	}
	var r io.Reader = c
	if br != nil {
		r = io.MultiReader(br, c)
	}
	p := &streamPhone{name: network + " phone", conn: c}
	var wmu sync.Mutex
	send := func(op ws.OpCode, b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return ws.WriteFrame(c, ws.MaskFrame(ws.NewFrame(op, true, b)))
	}
	p.write = func(s string) error { return send(ws.OpText, []byte(s)) }
	p.ping = func() error { return send(ws.OpPing, []byte("test")) }
	p.start(t, func() (string, error) {
		for {
			f, err := ws.ReadFrame(r)
			if err != nil {
				return "", err
			}
			switch f.Header.OpCode {
			case ws.OpPing:
				p.pings.Add(1)
				select {
				case p.pinged <- struct{}{}:
				default:
				}
				if !silent {
					_ = send(ws.OpPong, f.Payload)
				}
			case ws.OpPong:
				p.crlf <- struct{}{} // a pong answers the test's ping
			case ws.OpClose:
				return "", io.EOF
			case ws.OpText, ws.OpBinary:
				return string(f.Payload), nil
			}
		}
	})
	return p
}

func (p *streamPhone) Send(t *testing.T, msg string) {
	t.Helper()
	if err := p.write(msg); err != nil {
		t.Fatalf("%s: send: %v", p.name, err)
	}
}

// Expect returns the first message match accepts, earlier arrivals first.
func (p *streamPhone) Expect(t *testing.T, what string, match func(sip.Message) bool) sip.Message {
	t.Helper()
	p.mu.Lock()
	for i, m := range p.backlog {
		if match(m) {
			p.backlog = append(p.backlog[:i], p.backlog[i+1:]...)
			p.mu.Unlock()
			return m
		}
	}
	p.mu.Unlock()
	deadline := time.After(wait)
	for {
		select {
		case m, ok := <-p.in:
			if !ok {
				t.Fatalf("%s: connection closed waiting for %s\n%s", p.name, what, p.dump())
			}
			if match(m) {
				return m
			}
			p.mu.Lock()
			p.backlog = append(p.backlog, m)
			p.mu.Unlock()
		case <-deadline:
			t.Fatalf("%s: no %s within %v\n%s", p.name, what, wait, p.dump())
		}
	}
}

// answered waits for a CRLF answer or a pong.
func (p *streamPhone) answered(t *testing.T, what string) {
	t.Helper()
	select {
	case <-p.crlf:
	case <-time.After(wait):
		t.Fatalf("%s: no answer to %s", p.name, what)
	}
}

// closed waits for natsbc to end the connection.
func (p *streamPhone) closed(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("%s: connection still open after %v", p.name, within)
	}
}

func (p *streamPhone) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name + " received:\n" + strings.Join(p.history, "\n---\n")
}

// countingTLS is a TLS server that counts the connections it accepts and
// hands each one's SIP messages to the test (a phone's own listener, a
// trunk).
type countingTLS struct {
	ln       net.Listener
	accepted atomic.Int64
	in       chan streamMsg
	wg       sync.WaitGroup
}

type streamMsg struct {
	msg  sip.Message
	conn net.Conn
}

func newCountingTLS(t *testing.T, ip string, cfg *tls.Config) *countingTLS {
	t.Helper()
	ln, err := tls.Listen("tcp", ip+":0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &countingTLS{ln: ln, in: make(chan streamMsg, 64)}
	var conns []net.Conn
	var mu sync.Mutex
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				r := bufio.NewReader(c)
				for {
					raw, err := readStreamMessage(r)
					if err != nil {
						return
					}
					if m, err := sip.ParseMessage([]byte(raw)); err == nil {
						s.in <- streamMsg{m, c}
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *countingTLS) addr() netip.AddrPort { return s.ln.Addr().(*net.TCPAddr).AddrPort() }

// Expect returns the next message matching match (others are dropped).
func (s *countingTLS) Expect(t *testing.T, what string, match func(sip.Message) bool) streamMsg {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case m := <-s.in:
			if match(m.msg) {
				return m
			}
		case <-deadline:
			t.Fatalf("TLS peer: no %s within %v", what, wait)
		}
	}
}
