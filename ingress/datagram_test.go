package ingress

import (
	"bytes"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/stun/v3"
)

// syncBuffer is a log sink the reader goroutine and the test share.
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

type readResult struct {
	data []byte
	from net.Addr
}

// guardRig is a guarded server socket and a client socket on loopback, with
// a goroutine reading the guard like sipgo would.
type guardRig struct {
	t      *testing.T
	guard  *GuardedPacketConn
	client net.PacketConn
	server net.Addr
	reads  chan readResult
	logs   *syncBuffer
}

func newGuardRig(t *testing.T, cfg GuardConfig, readBuf int) *guardRig {
	t.Helper()
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cli, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	r := &guardRig{t: t, guard: NewGuardedPacketConn(srv, cfg), client: cli, server: srv.LocalAddr(),
		reads: make(chan readResult, 16), logs: logs}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, readBuf)
		for {
			n, from, err := r.guard.ReadFrom(buf)
			if err != nil {
				return
			}
			r.reads <- readResult{append([]byte(nil), buf[:n]...), from}
		}
	}()
	t.Cleanup(func() { srv.Close(); cli.Close(); <-done })
	return r
}

func (r *guardRig) send(pkt []byte) {
	r.t.Helper()
	if _, err := r.client.WriteTo(pkt, r.server); err != nil {
		r.t.Fatal(err)
	}
}

// nextRead waits for the guard to hand a datagram up.
func (r *guardRig) nextRead() readResult {
	r.t.Helper()
	select {
	case res := <-r.reads:
		return res
	case <-time.After(5 * time.Second):
		r.t.Fatal("guard passed nothing up")
		return readResult{}
	}
}

// nextAnswer waits for a datagram the guard sent back to the client.
func (r *guardRig) nextAnswer() *sip.Response {
	r.t.Helper()
	buf := make([]byte, MaxDatagram)
	_ = r.client.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := r.client.ReadFrom(buf)
	if err != nil {
		r.t.Fatalf("no answer from the guard: %v", err)
	}
	msg, err := sip.ParseMessage(buf[:n])
	if err != nil {
		r.t.Fatalf("answer does not parse: %v\n%s", err, buf[:n])
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		r.t.Fatalf("answer is not a response:\n%s", buf[:n])
	}
	return res
}

// expectNothingBefore proves a datagram was dropped silently: a marker sent
// after it is the first thing passed up, and a request that does get
// answered sent after that is the first answer the client receives.
func (r *guardRig) expectNothingBefore() {
	r.t.Helper()
	marker := []byte(variant("a84b4c76e66710@pc33.example.com", "marker-call"))
	r.send(marker)
	if got := r.nextRead(); !bytes.Equal(got.data, marker) {
		r.t.Fatalf("first datagram passed up is not the marker:\n%s", got.data)
	}
	r.send([]byte(variant("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "", "314159 INVITE", "777 INVITE")))
	if res := r.nextAnswer(); res.CSeq().SeqNo != 777 {
		r.t.Fatalf("an earlier datagram was answered: %s", res.StartLine())
	}
}

func TestGuardPassesGoodInviteUnchanged(t *testing.T) {
	r := newGuardRig(t, GuardConfig{}, int(sip.TransportBufferReadSize))
	r.send([]byte(ingressInvite))
	got := r.nextRead()
	if string(got.data) != ingressInvite {
		t.Fatalf("INVITE changed on its way up:\n%q", got.data)
	}
	if got.from.String() != r.client.LocalAddr().String() {
		t.Fatalf("source %s, want %s", got.from, r.client.LocalAddr())
	}
	if s := r.guard.Stats(); s.Passed != 1 || s.Dropped != 0 || s.Answered400 != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestGuardAnswersMissingCallID(t *testing.T) {
	r := newGuardRig(t, GuardConfig{}, int(sip.TransportBufferReadSize))
	r.send([]byte(variant("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "")))
	res := r.nextAnswer()
	if res.StatusCode != 400 || res.Reason != "Missing Call-ID" {
		t.Fatalf("status %d %q, want 400 Missing Call-ID", res.StatusCode, res.Reason)
	}
	via := res.Via()
	if branch, _ := via.Params.Get("branch"); branch != "z9hG4bK776asdhds" {
		t.Errorf("Via branch %q not copied", branch)
	}
	clientPort := strconv.Itoa(r.client.LocalAddr().(*net.UDPAddr).Port)
	if rport, _ := via.Params.Get("rport"); rport != clientPort {
		t.Errorf("rport=%q, want %s (RFC 3581 §4)", rport, clientPort)
	}
	if recv, _ := via.Params.Get("received"); recv != "127.0.0.1" {
		t.Errorf("received=%q, want 127.0.0.1", recv)
	}
	if cseq := res.CSeq(); cseq.SeqNo != 314159 || cseq.MethodName != sip.INVITE {
		t.Errorf("CSeq %v not copied", cseq)
	}
	if tag, _ := res.To().Params.Get("tag"); tag == "" {
		t.Error("To has no tag")
	}
	if tag, _ := res.From().Params.Get("tag"); tag != "1928301774" {
		t.Errorf("From tag %q not copied", tag)
	}
	if cl := res.ContentLength(); cl == nil || *cl != 0 {
		t.Error("Content-Length: 0 missing")
	}
	r.expectNothingBefore()
	if s := r.guard.Stats(); s.Answered400 != 2 || s.Passed != 1 {
		t.Fatalf("stats %+v", s)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "malformed message") || !strings.Contains(logs, "reason=\"Missing Call-ID\"") {
		t.Fatalf("log line missing:\n%s", logs)
	}
}

func TestGuardDropsGarbageAndBadResponses(t *testing.T) {
	r := newGuardRig(t, GuardConfig{}, int(sip.TransportBufferReadSize))
	badResponse := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n"
	unparseableResponse := "SIP/2.0 2OO OK\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\n\r\n"
	badAck := variant("INVITE sip", "ACK sip", "314159 INVITE", "314159 ACK", "Call-ID: a84b4c76e66710@pc33.example.com\r\n", "")
	for _, pkt := range []string{"\x16\x03\x01\x02\x00garbage", "hello world\r\n\r\n", badResponse, unparseableResponse, badAck, "\x00\x00\x00"} {
		r.send([]byte(pkt))
	}
	r.expectNothingBefore()
	if s := r.guard.Stats(); s.Dropped != 6 || s.Answered400 != 1 || s.Passed != 1 {
		t.Fatalf("stats %+v", s)
	}
	if logs := r.logs.String(); strings.Contains(logs, "garbage\\r") || strings.Count(logs, "malformed message") != 7 {
		t.Fatalf("unexpected log lines:\n%s", logs)
	}
}

func TestGuardAnswersOversized(t *testing.T) {
	r := newGuardRig(t, GuardConfig{MaxMessageSize: 2000}, int(sip.TransportBufferReadSize))
	big := variant("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nX-Pad: "+strings.Repeat("a", 3000)+"\r\n")
	r.send([]byte(big))
	res := r.nextAnswer()
	if res.StatusCode != 513 || res.Reason != "Message Too Large" {
		t.Fatalf("got %d %s, want 513 Message Too Large", res.StatusCode, res.Reason)
	}
	if res.CallID().Value() != "a84b4c76e66710@pc33.example.com" {
		t.Errorf("Call-ID %q", res.CallID().Value())
	}
	if s := r.guard.Stats(); s.Answered400 != 1 || s.Passed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestGuardRespectsReaderBuffer(t *testing.T) {
	// The reader's buffer is smaller than MaxMessageSize: what does not fit
	// must be answered, never handed up truncated.
	r := newGuardRig(t, GuardConfig{MaxMessageSize: 65535}, 1024)
	big := variant("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nX-Pad: "+strings.Repeat("a", 1500)+"\r\n")
	r.send([]byte(big))
	if res := r.nextAnswer(); res.StatusCode != 513 || res.Reason != "Message Too Large" {
		t.Fatalf("got %d %s", res.StatusCode, res.Reason)
	}
}

func TestGuardHandsSTUNOver(t *testing.T) {
	type stunSeen struct {
		pkt  []byte
		from net.Addr
	}
	seen := make(chan stunSeen, 1)
	r := newGuardRig(t, GuardConfig{OnSTUN: func(pkt []byte, from net.Addr) { seen <- stunSeen{pkt, from} }},
		int(sip.TransportBufferReadSize))
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	r.send(req.Raw)
	select {
	case got := <-seen:
		if !bytes.Equal(got.pkt, req.Raw) || got.from.String() != r.client.LocalAddr().String() {
			t.Fatalf("OnSTUN got %x from %s", got.pkt, got.from)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnSTUN not called")
	}
	r.expectNothingBefore()
	if s := r.guard.Stats(); s.STUN != 1 || s.Dropped != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestGuardDropsSTUNWithoutHandler(t *testing.T) {
	r := newGuardRig(t, GuardConfig{}, int(sip.TransportBufferReadSize))
	r.send(stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw)
	r.expectNothingBefore()
	if s := r.guard.Stats(); s.STUN != 1 || s.Dropped != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestGuardPassesKeepalives(t *testing.T) {
	r := newGuardRig(t, GuardConfig{}, int(sip.TransportBufferReadSize))
	for _, ka := range []string{"\r\n\r\n", "\r\n"} {
		r.send([]byte(ka))
		if got := r.nextRead(); string(got.data) != ka {
			t.Fatalf("keepalive %q came up as %q", ka, got.data)
		}
	}
}

func TestGuardRateLimitsLogLines(t *testing.T) {
	r := newGuardRig(t, GuardConfig{LogsPerSecond: 5}, int(sip.TransportBufferReadSize))
	for i := 0; i < 50; i++ {
		r.send([]byte("garbage " + strconv.Itoa(i)))
	}
	r.expectNothingBefore()
	lines := strings.Count(r.logs.String(), "malformed message")
	s := r.guard.Stats()
	if s.Dropped != 50 || uint64(lines)+s.LogsHeld != 51 {
		t.Fatalf("lines=%d stats=%+v", lines, s)
	}
	// Five per one-second window; the test cannot span more than a few.
	if lines > 15 {
		t.Fatalf("%d log lines for a flood, limit is 5/s", lines)
	}
}

func TestGuardForcedRportNeverTruncates(t *testing.T) {
	noRport := variant(";rport\r\n", "\r\n")
	// A reader buffer that fits the request exactly: the longer
	// re-serialised form cannot be handed up, the original is.
	r := newGuardRig(t, GuardConfig{}, len(noRport))
	r.send([]byte(noRport))
	if got := r.nextRead(); string(got.data) != noRport {
		t.Fatalf("request handed up altered or truncated:\n%q", got.data)
	}
	// With room to spare the request gains rport (see forceRport).
	r2 := newGuardRig(t, GuardConfig{}, int(sip.TransportBufferReadSize))
	r2.send([]byte(noRport))
	got := r2.nextRead()
	msg, err := sip.ParseMessage(got.data)
	if err != nil {
		t.Fatalf("forced request does not parse: %v", err)
	}
	if _, ok := msg.Via().Params.Get("rport"); !ok {
		t.Fatalf("rport not forced:\n%s", got.data)
	}
}
