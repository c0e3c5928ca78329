//go:build linux

package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

func streamOf(tb testing.TB, s Session) *relayStream {
	tb.Helper()
	rs := s.(*relaySession)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.streams) == 0 || rs.streams[0] == nil {
		tb.Fatal("no relayed stream")
	}
	return rs.streams[0]
}

func TestEngineServesRealUDPSocketsOnly(t *testing.T) {
	call := newUDPCall(t, netip.IPv4Unspecified(), "127.0.0.1")
	if !streamOf(t, call.s).engine.active() {
		t.Fatal("a stream on *net.UDPConn sockets is not on the packet engine")
	}
	r := newStreamRig(t)
	if r.st.engine.active() {
		t.Fatal("a stream on injected sockets is on the packet engine")
	}
}

// A stranger's RTP is dropped and counted, the phone's STUN is answered,
// on sockets the engine serves.
func TestEngineDropsStrangerAndAnswersSTUN(t *testing.T) {
	call := newUDPCall(t, netip.IPv4Unspecified(), "127.0.0.1")
	buf := make([]byte, 1500)
	exchange(t, call.phone, call.relayA, call.pbx, rtpPacket(0, 1, 160, 0xa), buf) // latch the phone

	// Close the latch window: what follows must not re-latch.
	pol := *streamOf(t, call.s).sides[LegA].policy.Load()
	pol.windowEnd = 0
	streamOf(t, call.s).sides[LegA].policy.Store(&pol)

	stranger := listenLoopback(t, "127.0.0.2")
	if _, err := stranger.WriteToUDPAddrPort(rtpPacket(0, 2, 320, 0xbad), call.relayA); err != nil {
		t.Fatal(err)
	}
	// The phone's STUN request, answered after the stranger's packet was
	// handled (one worker drains a socket in order).
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call.phone.WriteToUDPAddrPort(req.Raw, call.relayA); err != nil {
		t.Fatal(err)
	}
	_ = call.phone.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := call.phone.ReadFromUDPAddrPort(buf)
	if err != nil || classify(buf[:n], carryRTP) != kindSTUN {
		t.Fatalf("no STUN answer: n=%d err=%v", n, err)
	}
	// Loopback delivers within the relay's send, so a relayed packet would be queued by now.
	_ = call.pbx.SetReadDeadline(time.Now())
	if n, src, err := call.pbx.ReadFromUDPAddrPort(buf); err == nil {
		t.Fatalf("PBX got %d bytes from %v: the stranger's packet was relayed", n, src)
	}
	if st := call.s.Stats(); st.AtoB.Dropped != 1 || st.AtoB.Packets != 1 {
		t.Fatalf("stats %+v, want 1 relayed and the stranger's dropped", st.AtoB)
	}
}

// Close returns once the worker has let go of the sockets: the ports can
// be bound again at once, and no descriptor is left behind.
func TestEngineCloseReleasesSocketsAndWorkers(t *testing.T) {
	sender := listenLoopback(t, "127.0.0.1") // and Go's netpoller is up
	before := openFDs(t)
	a, err := NewRelayAnchor(Config{PortMin: 44000, PortMax: 44999, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.NewSession("close", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetPeer(LegA, PeerInfo{SignalSource: netip.MustParseAddrPort("127.0.0.1:5060")})
	if _, err := s.Rewrite(LegA, "application/sdp", []byte(sdpFor(netip.MustParseAddrPort("127.0.0.1:9"))), netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	st := streamOf(t, s)
	if !st.engine.active() {
		t.Fatal("stream not on the engine")
	}
	// Traffic while closing: the worker is busy when the remove arrives.
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		pkt := rtpPacket(0, 1, 160, 1)
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = sender.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(st.sides[LegA].port)))
			}
		}
	}()
	_ = s.Close()
	close(stop)
	<-sent
	for _, sd := range st.sides {
		for _, port := range []int{sd.port, sd.port + 1} {
			c, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
			if err != nil {
				t.Fatalf("port %d still bound after Close: %v", port, err)
			}
			c.Close()
		}
	}
	_ = a.Close()
	if after := openFDs(t); after != before {
		t.Fatalf("%d descriptors open before the anchor, %d after its Close", before, after)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no /proc")
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// A burst larger than one recvmmsg batch arrives whole and in order.
func TestEngineRelaysBurstInOrder(t *testing.T) {
	call := newUDPCall(t, netip.IPv4Unspecified(), "127.0.0.1")
	buf := make([]byte, 1500)
	exchange(t, call.phone, call.relayA, call.pbx, rtpPacket(0, 0, 0, 0xa), buf)
	const burst = 5 * engineBatch
	for seq := uint16(1); seq <= burst; seq++ {
		if _, err := call.phone.WriteToUDPAddrPort(rtpPacket(0, seq, uint32(seq)*160, 0xa), call.relayA); err != nil {
			t.Fatal(err)
		}
	}
	_ = call.pbx.SetReadDeadline(time.Now().Add(5 * time.Second))
	for want := uint16(1); want <= burst; want++ {
		n, _, err := call.pbx.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("packet %d of the burst: %v", want, err)
		}
		if got := uint16(buf[2])<<8 | uint16(buf[3]); n < rtpHeaderLen || got != want {
			t.Fatalf("got seq %d, want %d", got, want)
		}
	}
	if st := call.s.Stats(); st.AtoB.Packets != burst+1 || st.AtoB.Lost != 0 {
		t.Fatalf("stats %+v", st.AtoB)
	}
}

// The engine's workers are all the goroutines media needs for relaying:
// a call adds only its timeout watch, where a goroutine per socket would
// add four per stream (and their stacks).
func TestEngineAddsNoGoroutinePerStream(t *testing.T) {
	warm := newUDPCall(t, netip.IPv4Unspecified(), "127.0.0.1") // the engine is up
	before := runtime.NumGoroutine()
	const calls = 20
	for i := range calls {
		s, err := warm.anchor.NewSession(fmt.Sprint("g", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		s.SetPeer(LegA, PeerInfo{SignalSource: netip.MustParseAddrPort("127.0.0.1:5060")})
		if _, err := s.Rewrite(LegA, "application/sdp", []byte(sdpFor(netip.MustParseAddrPort("127.0.0.1:9"))), netip.MustParseAddr("127.0.0.1")); err != nil {
			t.Fatal(err)
		}
	}
	if added := runtime.NumGoroutine() - before; added > calls {
		t.Fatalf("%d calls added %d goroutines, want at most one each (the timeout watch)", calls, added)
	}
}
