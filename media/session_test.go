package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A NATed Linphone-style phone's offer: private c=, ICE, rtcp-mux offered.
const phoneOffer = "v=0\r\n" +
	"o=alice 3911 2317 IN IP4 192.168.1.20\r\n" +
	"s=Talk\r\n" +
	"c=IN IP4 192.168.1.20\r\n" +
	"t=0 0\r\n" +
	"m=audio 8000 RTP/AVP 0 8 101\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=rtcp:8001\r\n" +
	"a=ice-ufrag:Fx8v\r\n" +
	"a=ice-pwd:7b1c2d3e4f5a6b7c8d9e0f1a\r\n" +
	"a=candidate:1 1 UDP 2130706431 192.168.1.20 8000 typ host\r\n" +
	"a=sendrecv\r\n"

// An Asterisk-style PBX answer from a public address.
const pbxAnswer = "v=0\r\n" +
	"o=- 1720 1721 IN IP4 10.0.0.10\r\n" +
	"s=Asterisk\r\n" +
	"c=IN IP4 10.0.0.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 10000 RTP/AVP 0 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=ptime:20\r\n" +
	"a=sendrecv\r\n"

var (
	facingB = netip.MustParseAddr("10.0.0.5")    // natsbc towards the PBX
	facingA = netip.MustParseAddr("203.0.113.5") // natsbc towards the phones
)

type sessionRig struct {
	n        *fakeNet
	anchor   *RelayAnchor
	s        Session
	timeouts chan string
}

func newSessionRig(t *testing.T, cfg Config) *sessionRig {
	t.Helper()
	r := &sessionRig{n: newFakeNet(), timeouts: make(chan string, 4)}
	if cfg.PortMin == 0 {
		cfg.PortMin, cfg.PortMax = 20000, 20099
	}
	cfg.Listen = r.n.listen
	cfg.Logger = discardLogger()
	a, err := NewRelayAnchor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.anchor = a
	t.Cleanup(func() { a.Close() })
	r.s = r.newSession(t)
	return r
}

func (r *sessionRig) newSession(t *testing.T) Session {
	t.Helper()
	s, err := r.anchor.NewSession("call-1", func(reason string) { r.timeouts <- reason })
	if err != nil {
		t.Fatal(err)
	}
	s.SetPeer(LegA, PeerInfo{SignalSource: aSignal, NATed: true})
	s.SetPeer(LegB, PeerInfo{SignalSource: netip.MustParseAddrPort("10.0.0.10:5060")})
	return s
}

// rewrite passes body through and returns the relay port the output names
// for its m= line i.
func rewrite(t *testing.T, s Session, from Leg, body string, facing netip.Addr, i int) (string, int) {
	t.Helper()
	out, err := s.Rewrite(from, "application/sdp", []byte(body), facing)
	if err != nil {
		t.Fatalf("Rewrite from %s: %v", from, err)
	}
	streams, err := ParseStreams(out)
	if err != nil {
		t.Fatalf("rewritten SDP does not parse: %v\n%s", err, out)
	}
	if streams[i].Addr != facing {
		t.Fatalf("rewritten c= %v, want %v\n%s", streams[i].Addr, facing, out)
	}
	return string(out), streams[i].Port
}

// call sets up a phone→PBX call and returns the relay ports each side got.
func (r *sessionRig) call(t *testing.T, s Session) (aPort, bPort int) {
	t.Helper()
	out, bPort := rewrite(t, s, LegA, phoneOffer, facingB, 0)
	if strings.Contains(out, "192.168.1.20") || strings.Contains(out, "candidate") {
		t.Fatalf("phone's private address or ICE leaked to the PBX:\n%s", out)
	}
	_, aPort = rewrite(t, s, LegB, pbxAnswer, facingA, 0)
	if aPort == bPort || aPort%2 != 0 || bPort%2 != 0 {
		t.Fatalf("relay ports a=%d b=%d: want two different even ports", aPort, bPort)
	}
	s.Answered()
	return aPort, bPort
}

func TestSessionRelaysPhoneAndPBX(t *testing.T) {
	r := newSessionRig(t, Config{})
	aPort, bPort := r.call(t, r.s)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())
	// Whoever has the phone's private address on natsbc's networks must
	// never get its media: a NATed peer is sent to where it sends from.
	private := r.n.peer(t, "192.168.1.20:8000")
	pbx.sendTo(t, rtpPacket(0, 99, 0, 0xb), relayAddr(r.n, bPort))
	stunBarrier(t, pbx, relayAddr(r.n, bPort))
	private.empty(t)

	for seq := range uint16(5) {
		phone.sendTo(t, rtpPacket(0, seq, uint32(seq)*160, 0xa), relayAddr(r.n, aPort))
		if d := pbx.recv(t); d.from != relayAddr(r.n, bPort) || d.data[3] != byte(seq) {
			t.Fatalf("PBX got seq %d from %v", d.data[3], d.from)
		}
		pbx.sendTo(t, rtpPacket(0, seq, uint32(seq)*160, 0xb), relayAddr(r.n, bPort))
		if d := phone.recv(t); d.from != relayAddr(r.n, aPort) {
			t.Fatalf("phone got media from %v", d.from)
		}
	}
	st := r.s.Stats()
	private.empty(t)
	if st.AtoB.Packets != 5 || st.BtoA.Packets != 5 || st.AtoB.Bytes != 5*172 || len(st.Streams) != 1 || st.Streams[0].Media != "audio" {
		t.Fatalf("stats %+v", st)
	}
}

func TestSessionRTCPMuxNeedsBothSides(t *testing.T) {
	rtcp := []byte{0x80, 201, 0, 1, 0, 0, 0, 0xb}
	for _, c := range []struct {
		name     string
		answer   string
		phoneRTP bool // the phone gets its RTCP on its RTP port
	}{
		{"answer declines", pbxAnswer, false},
		{"answer accepts", pbxAnswer + "a=rtcp-mux\r\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newSessionRig(t, Config{})
			_, bPort := rewrite(t, r.s, LegA, phoneOffer+"a=rtcp-mux\r\n", facingB, 0)
			_, aPort := rewrite(t, r.s, LegB, c.answer, facingA, 0)
			phoneRTP := r.n.peer(t, aMapped)
			phoneRTCP := r.n.peer(t, "198.51.100.7:41001")
			pbx := r.n.peer(t, bSDP.String())
			// The phone is heard on both of its ports first (latching).
			phoneRTP.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, aPort))
			pbx.recv(t)
			phoneRTCP.sendTo(t, []byte{0x80, 201, 0, 1, 0, 0, 0, 0xa}, relayAddr(r.n, aPort+1))
			stunBarrier(t, phoneRTCP, relayAddr(r.n, aPort+1))

			pbx.sendTo(t, rtcp, relayAddr(r.n, bPort+1))
			want, other := phoneRTCP, phoneRTP
			if c.phoneRTP {
				want, other = phoneRTP, phoneRTCP
			}
			if d := want.recv(t); d.data[1] != 201 {
				t.Fatalf("got % x, want the PBX's RTCP", d.data)
			}
			other.empty(t)
		})
	}
}

func TestSessionKeepsPortsAcrossReoffers(t *testing.T) {
	r := newSessionRig(t, Config{})
	aPort, bPort := r.call(t, r.s)
	hold := strings.Replace(pbxAnswer, "a=sendrecv", "a=sendonly", 1)
	out, a2 := rewrite(t, r.s, LegB, hold, facingA, 0)
	if a2 != aPort || !strings.Contains(out, "a=sendonly") {
		t.Fatalf("hold re-offer got port %d (was %d):\n%s", a2, aPort, out)
	}
	answer := strings.Replace(phoneOffer, "a=sendrecv", "a=recvonly", 1)
	if _, b2 := rewrite(t, r.s, LegA, answer, facingB, 0); b2 != bPort {
		t.Fatalf("hold answer got port %d, was %d", b2, bPort)
	}
	if free := r.anchor.pool.free(); free != 50-2 {
		t.Fatalf("free pairs %d, want 48: re-offers must not take ports", free)
	}
}

func TestSessionOldStyleHoldKeepsDestination(t *testing.T) {
	r := newSessionRig(t, Config{})
	aPort, bPort := r.call(t, r.s)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())
	// The PBX holds with c=0.0.0.0 (RFC 2543 style), then resumes.
	hold := strings.ReplaceAll(pbxAnswer, "10.0.0.10", "0.0.0.0")
	if out, _ := r.s.Rewrite(LegB, "application/sdp", []byte(hold), facingA); !strings.Contains(string(out), "c=IN IP4 0.0.0.0") {
		t.Fatalf("hold lost its meaning:\n%s", out)
	}
	rewrite(t, r.s, LegB, pbxAnswer, facingA, 0)
	phone.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, aPort))
	pbx.recv(t)
	pbx.sendTo(t, rtpPacket(0, 1, 0, 0xb), relayAddr(r.n, bPort))
	phone.recv(t)
}

func TestSessionPassesNonSDP(t *testing.T) {
	r := newSessionRig(t, Config{})
	for _, c := range []struct{ ct, body string }{
		{"application/isup", "\x01\x02"},
		{"text/plain", "v=0\r\n"},
		{"application/sdp", ""},
	} {
		out, err := r.s.Rewrite(LegA, c.ct, []byte(c.body), facingB)
		if err != nil || string(out) != c.body {
			t.Errorf("%s: got %q, %v", c.ct, out, err)
		}
	}
	if r.anchor.pool.free() != 50 {
		t.Fatal("a non-SDP body took ports")
	}
}

func TestSessionContentTypeParameters(t *testing.T) {
	r := newSessionRig(t, Config{})
	out, err := r.s.Rewrite(LegA, "Application/SDP; charset=utf-8", []byte(phoneOffer), facingB)
	if err != nil || strings.Contains(string(out), "192.168.1.20") {
		t.Fatalf("SDP with parameters not rewritten: %v\n%s", err, out)
	}
}

func TestSessionUnparsableSDP(t *testing.T) {
	r := newSessionRig(t, Config{})
	_, err := r.s.Rewrite(LegA, "application/sdp", []byte("hello"), facingB)
	if !errors.Is(err, ErrUnparsableSDP) {
		t.Fatalf("err = %v, want ErrUnparsableSDP", err)
	}
}

func TestSessionDisabledStreamTakesNoPorts(t *testing.T) {
	r := newSessionRig(t, Config{})
	offer := phoneOffer + "m=video 0 RTP/AVP 96\r\n"
	out, _ := rewrite(t, r.s, LegA, offer, facingB, 0)
	if !strings.Contains(out, "m=video 0 ") {
		t.Fatalf("disabled stream enabled:\n%s", out)
	}
	if free := r.anchor.pool.free(); free != 48 {
		t.Fatalf("free pairs %d, want 48 (one stream, two legs)", free)
	}
}

// An SDP with more m= lines than MaxStreams is refused before any port is
// taken: a caller cannot empty the pool with a few such offers. One at
// the limit is relayed.
func TestSessionTooManyStreamsTakesNoPorts(t *testing.T) {
	r := newSessionRig(t, Config{MaxStreams: 3})
	free := r.anchor.pool.free()
	over := phoneOffer + strings.Repeat("m=audio 4002 RTP/AVP 0\r\n", 3)
	if _, err := r.s.Rewrite(LegA, "application/sdp", []byte(over), facingB); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("err = %v, want ErrTooManyStreams", err)
	}
	if got := r.anchor.pool.free(); got != free {
		t.Fatalf("free pairs %d after the refused offer, want %d: it took ports", got, free)
	}
	atLimit := phoneOffer + strings.Repeat("m=audio 4002 RTP/AVP 0\r\n", 2)
	if _, err := r.s.Rewrite(LegA, "application/sdp", []byte(atLimit), facingB); err != nil {
		t.Fatalf("an offer of exactly MaxStreams m= lines: %v", err)
	}
}

func TestSessionPortExhaustion(t *testing.T) {
	// Three pairs: a call takes two, the next finds one and must give it back.
	r := newSessionRig(t, Config{PortMin: 20000, PortMax: 20005, Drain: time.Hour})
	r.call(t, r.s)
	s2 := r.newSession(t)
	_, err := s2.Rewrite(LegA, "application/sdp", []byte(phoneOffer), facingB)
	if !errors.Is(err, ErrNoPorts) {
		t.Fatalf("err = %v, want ErrNoPorts", err)
	}
	if r.anchor.pool.free() != 1 {
		t.Fatalf("free = %d: a failed allocation kept a pair", r.anchor.pool.free())
	}
	// The first call is untouched.
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	r.s.Close()
	if r.anchor.pool.free() != 3 {
		t.Fatalf("free = %d after both closed, want 3", r.anchor.pool.free())
	}
	for p := 20000; p < 20006; p++ {
		if r.n.open(relayAddr(r.n, p)) {
			t.Errorf("port %d still open after Close", p)
		}
	}
}

func TestSessionSkipsPortsHeldElsewhere(t *testing.T) {
	r := newSessionRig(t, Config{})
	r.n.refuse[20001] = true // another program holds the RTCP port of the first pair
	aPort, bPort := r.call(t, r.s)
	if aPort == 20000 || bPort == 20000 {
		t.Fatalf("got pair 20000 whose RTCP port is taken (a=%d b=%d)", aPort, bPort)
	}
	if r.n.open(relayAddr(r.n, 20000)) {
		t.Fatal("the RTP socket of the refused pair was left open")
	}
}

func TestSessionCloseIsIdempotentAndEndsRewrite(t *testing.T) {
	r := newSessionRig(t, Config{})
	r.call(t, r.s)
	if err := r.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.s.Rewrite(LegA, "application/sdp", []byte(phoneOffer), facingB); err == nil {
		t.Fatal("Rewrite after Close succeeded")
	}
	if st := r.s.Stats(); len(st.Streams) != 1 {
		t.Fatalf("stats after close: %+v", st)
	}
}

func TestAnchorRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{PortMin: 20001, PortMax: 20001},
		{Timeout: -time.Second},
	} {
		if _, err := NewRelayAnchor(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestAnchorCloseEndsSessions(t *testing.T) {
	r := newSessionRig(t, Config{})
	aPort, _ := r.call(t, r.s)
	r.anchor.Close()
	if r.n.open(relayAddr(r.n, aPort)) {
		t.Fatal("relay port open after the anchor closed")
	}
	if _, err := r.anchor.NewSession("late", nil); err == nil {
		t.Fatal("NewSession after Close succeeded")
	}
}

func ExampleCallStats_LogValue() {
	st := CallStats{AtoB: FlowStats{Packets: 3000, Bytes: 516000, Lost: 2, JitterMs: 1.5}}
	fmt.Println(st.LogValue())
	// Output: [a_to_b=[packets=3000 bytes=516000 rtcp=0 dropped=0 unsent=0 lost=2 jitter_ms=1.5] b_to_a=[packets=0 bytes=0 rtcp=0 dropped=0 unsent=0 lost=0 jitter_ms=0]]
}

func TestSessionConcurrentCloseWaitsForTeardown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{})
		r.call(t, r.s)
		gate := make(chan struct{})
		release := sync.OnceFunc(func() { close(gate) })
		t.Cleanup(release) // a failing test must not leave Close stuck
		r.n.mu.Lock()
		r.n.closeGate = gate
		r.n.mu.Unlock()

		first := make(chan struct{})
		go func() { r.s.Close(); close(first) }()
		synctest.Wait() // the first Close is stuck closing sockets
		second := make(chan struct{})
		go func() { r.anchor.Close(); close(second) }()
		synctest.Wait()
		select {
		case <-second:
			t.Fatal("a second Close returned while the first was still tearing down")
		default:
		}
		release()
		<-first
		<-second
		if free := r.anchor.pool.free(); free != 50 {
			t.Fatalf("free = %d after both Close calls, want 50", free)
		}
	})
}
