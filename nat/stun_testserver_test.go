package nat

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// testSTUNServer is a STUN server on a loopback UDP socket the test opens,
// answering with whatever answer returns (nil: drop the request).
type testSTUNServer struct {
	conn     *net.UDPConn
	requests chan []byte // every request received, in order
	done     chan struct{}
}

func startTestSTUNServer(t *testing.T, answer func(req []byte, from netip.AddrPort) []byte) *testSTUNServer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &testSTUNServer{conn: conn, requests: make(chan []byte, 64), done: make(chan struct{})}
	go s.serve(answer)
	t.Cleanup(func() { conn.Close(); <-s.done })
	return s
}

func (s *testSTUNServer) serve(answer func([]byte, netip.AddrPort) []byte) {
	defer close(s.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		req := append([]byte(nil), buf[:n]...)
		select {
		case s.requests <- req:
		default:
		}
		if resp := answer(req, from); resp != nil {
			_, _ = s.conn.WriteToUDPAddrPort(resp, from)
		}
	}
}

func (s *testSTUNServer) addr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// answerHonestly is a real STUN server: it tells the source its address.
func answerHonestly(req []byte, from netip.AddrPort) []byte {
	resp, _ := AnswerBinding(req, from)
	return resp
}

// dropFirst answers like next except for the first n requests.
func dropFirst(n int, next func([]byte, netip.AddrPort) []byte) func([]byte, netip.AddrPort) []byte {
	var mu sync.Mutex
	return func(req []byte, from netip.AddrPort) []byte {
		mu.Lock()
		drop := n > 0
		n--
		mu.Unlock()
		if drop {
			return nil
		}
		return next(req, from)
	}
}

// fakeMapping answers as if a NAT mapped every client to whatever
// mapped holds at the time.
type fakeMapping struct {
	mu       sync.Mutex
	mapped   netip.AddrPort
	answered chan netip.AddrPort // each mapping told, if not nil
}

func (f *fakeMapping) set(a netip.AddrPort) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mapped = a
}

func (f *fakeMapping) answer(req []byte, _ netip.AddrPort) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp, ok := AnswerBinding(req, f.mapped)
	if ok && f.answered != nil {
		f.answered <- f.mapped
	}
	return resp
}

func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
