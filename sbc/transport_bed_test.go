package sbc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// largeBed is the flow bed (phone ─ natsbc ─ pbx on loopback) with what
// the large-message tests vary: a TCP socket of natsbc facing the PBX, a
// PBX that also listens on TCP, the PBX peer's large_requests knob, and
// sockets whose writes above a size fail as the kernel's do (EMSGSIZE).
type largeBed struct {
	*flowBed
	insideTCP  netip.AddrPort // natsbc's TCP sockets (zero: none)
	outsideTCP netip.AddrPort
	pbxTCP     *tcpPeer // nil: the PBX has no TCP
}

type largeBedOpts struct {
	insideTCP     bool
	outsideTCP    bool
	pbxTCP        bool
	largeRequests string
	// capOutside/capInside: natsbc's writes of more bytes fail (0: none).
	capOutside, capInside int
}

func newLargeBed(t *testing.T, o largeBedOpts) *largeBed {
	t.Helper()
	b := &largeBed{flowBed: &flowBed{log: newLogSink()}}
	b.phone = newTestPeer(t, "phone", phoneIP)
	b.pbx = newTestPeer(t, "pbx", pbxIP)
	for try := 0; o.pbxTCP && b.pbxTCP == nil; try++ {
		// The PBX's UDP port is ephemeral; its TCP twin may be taken:
		// then another UDP port.
		var err error
		if b.pbxTCP, err = newTCPPeer(t, b.pbx.addr()); err != nil {
			if try == 10 {
				t.Fatalf("PBX TCP: %v", err)
			}
			b.pbx.close()
			b.pbx = newTestPeer(t, "pbx", pbxIP)
		}
	}
	pol, err := policy.New(policy.Config{Peers: []policy.Peer{{
		Name:          "pbx",
		Networks:      []netip.Prefix{netip.PrefixFrom(b.pbx.addr().Addr(), 32)},
		Address:       b.pbx.addr().String(),
		Role:          policy.RolePBX,
		LargeRequests: o.largeRequests,
	}}})
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	var outPC, inPC net.PacketConn
	b.outside, outPC = listenUDP(t, outsideIP)
	b.inside, inPC = listenUDP(t, insideIP)
	listeners := []Listener{
		{Spec: ListenSpec{Name: "outside", Network: "udp", Addr: b.outside}, Packet: capWrites(outPC, o.capOutside)},
		{Spec: ListenSpec{Name: "inside", Network: "udp", Addr: b.inside}, Packet: capWrites(inPC, o.capInside)},
	}
	for _, side := range []struct {
		on   bool
		ip   string
		addr *netip.AddrPort
	}{{o.insideTCP, insideIP, &b.insideTCP}, {o.outsideTCP, outsideIP, &b.outsideTCP}} {
		if !side.on {
			continue
		}
		ln, err := net.Listen("tcp", side.ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		*side.addr = ln.Addr().(*net.TCPAddr).AddrPort()
		listeners = append(listeners, Listener{Spec: ListenSpec{Name: "tcp-" + side.ip, Network: "tcp", Addr: *side.addr}, Stream: ln})
	}
	b.srv, err = New(Options{
		Config:    Config{T1: flowT1, T2: flowT2, T4: flowT4, DrainTimeout: 100 * time.Millisecond},
		Listeners: listeners,
		Policy:    pol,
		Router:    loopRouter{pbx: b.pbx.addr().Addr()},
		Logger:    slog.New(slog.NewJSONHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("sbc.New: %v", err)
	}
	if err := b.srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
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
	b.phone.target = b.outside
	b.pbx.target = b.inside
	b.waitServing(t)
	return b
}

// capConn fails writes above max bytes as a socket does with a datagram
// larger than it can send: EMSGSIZE.
type capConn struct {
	net.PacketConn
	max int
}

func capWrites(pc net.PacketConn, max int) net.PacketConn {
	if max <= 0 {
		return pc
	}
	return capConn{pc, max}
}

func (c capConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if len(b) > c.max {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: os.NewSyscallError("sendto", syscall.EMSGSIZE)}
	}
	return c.PacketConn.WriteTo(b, addr)
}

// tcpPeer is the PBX's TCP side on the same port as its UDP socket: it
// takes one connection (natsbc's), reads the SIP messages on it and writes
// replies back on it.
type tcpPeer struct {
	ln   net.Listener
	in   chan tcpReceived
	conn chan net.Conn
}

type tcpReceived struct {
	msg sip.Message
	raw string
}

func newTCPPeer(t *testing.T, at netip.AddrPort) (*tcpPeer, error) {
	t.Helper()
	ln, err := net.Listen("tcp", at.String())
	if err != nil {
		return nil, err
	}
	p := &tcpPeer{ln: ln, in: make(chan tcpReceived, 16), conn: make(chan net.Conn, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.conn <- c
		r := bufio.NewReader(c)
		for {
			raw, err := readStreamMessage(r)
			if err != nil {
				return
			}
			msg, err := sip.ParseMessage([]byte(raw))
			if err != nil {
				continue
			}
			p.in <- tcpReceived{msg, raw}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		select {
		case c := <-p.conn:
			_ = c.Close()
		default:
		}
		<-done
	})
	return p, nil
}

// Expect returns the next message natsbc sent over TCP.
func (p *tcpPeer) Expect(t *testing.T, what string) tcpReceived {
	t.Helper()
	select {
	case r := <-p.in:
		return r
	case <-time.After(wait):
		t.Fatalf("pbx over TCP: no %s within %v", what, wait)
	}
	return tcpReceived{}
}

// Reply writes msg on natsbc's connection.
func (p *tcpPeer) Reply(t *testing.T, msg string) {
	t.Helper()
	var c net.Conn
	select {
	case c = <-p.conn:
		p.conn <- c
	case <-time.After(wait):
		t.Fatal("pbx over TCP: natsbc never connected")
	}
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("pbx over TCP: write: %v", err)
	}
}

// readStreamMessage reads one SIP message framed by Content-Length (RFC
// 3261 §18.3), skipping CRLF keepalives.
func readStreamMessage(r *bufio.Reader) (string, error) {
	var head strings.Builder
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if line == "\r\n" {
			if head.Len() == 0 {
				continue
			}
			break
		}
		head.WriteString(line)
		name, value, ok := strings.Cut(line, ":")
		if ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	return head.String() + "\r\n" + string(body), nil
}

// largeSDP is a softphone's audio + video offer of about n bytes: the
// codec lists and attributes that push a real INVITE past 1300 bytes.
func largeSDP(ip string, port, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", ip, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP 0 8 9 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n", port)
	fmt.Fprintf(&b, "m=video %d RTP/AVP", port+2)
	for pt := 96; pt < 128; pt++ {
		fmt.Fprintf(&b, " %d", pt)
	}
	b.WriteString("\r\n")
	for pt := 96; b.Len() < n; pt++ {
		fmt.Fprintf(&b, "a=rtpmap:%d H264/90000\r\na=fmtp:%d profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1\r\n", 96+pt%32, 96+pt%32)
	}
	return b.String()
}
