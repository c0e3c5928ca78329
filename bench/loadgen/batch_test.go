package loadgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// readAll drains want datagrams into in, polling: ReadBatch never waits.
// The deadline only guards a failure.
func readAll(t testing.TB, r *BatchConn, in []Message) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for got := 0; got < len(in); {
		n, err := r.ReadBatch(in[got:])
		if err != nil {
			t.Fatalf("ReadBatch: %v", err)
		}
		got += n
		if n == 0 && time.Now().After(deadline) {
			t.Fatalf("only %d of %d datagrams arrived", got, len(in))
		}
	}
}

func TestBatchWriteAndReadCarryEveryDatagram(t *testing.T) {
	a, b := listenRTP(t), listenRTP(t)
	wa, rb := NewBatchConn(a, 8), NewBatchConn(b, 8)
	out := make([]Message, 8)
	for i := range out {
		out[i] = Message{Buf: []byte(fmt.Sprintf("datagram %d", i)), Addr: b.LocalAddr()}
	}
	before := time.Now().UnixNano()
	n, err := wa.WriteBatch(out)
	if err != nil || n != len(out) {
		t.Fatalf("WriteBatch = %d, %v; want %d", n, err, len(out))
	}
	in := make([]Message, 8)
	for i := range in {
		in[i].Buf = make([]byte, 64)
	}
	readAll(t, rb, in)
	read := time.Now().UnixNano()
	for i := range in {
		if !bytes.Equal(in[i].Buf[:in[i].N], out[i].Buf) {
			t.Errorf("datagram %d = %q, want %q", i, in[i].Buf[:in[i].N], out[i].Buf)
		}
		// The kernel stamps the arrival on the wall clock: after the
		// send started, before the read ended.
		if in[i].RxNs < before || in[i].RxNs > read {
			t.Errorf("datagram %d stamped %d, want within [%d, %d]", i, in[i].RxNs, before, read)
		}
	}
}

func TestBatchReadReportsSocketDrops(t *testing.T) {
	// A burst into the smallest receive buffer: most of it is dropped.
	// The counter rides on datagrams queued after the drops, so small
	// probes follow whenever the socket is empty; the first probe to
	// arrive comes after the whole burst (one sender, FIFO), and every
	// probe before it was dropped too.
	a, b := listenRTP(t), listenRTP(t)
	if _, err := b.SetBuffers(1); err != nil { // the kernel's minimum
		t.Fatal(err)
	}
	w, r := NewBatchConn(a, 64), NewBatchConn(b, 64)
	burst := make([]Message, 64)
	for i := range burst {
		burst[i] = Message{Buf: make([]byte, 1000), Addr: b.LocalAddr()}
	}
	if n, err := w.WriteBatch(burst); err != nil || n != 64 {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	in := make([]Message, 64)
	for i := range in {
		in[i].Buf = make([]byte, 1500)
	}
	queued, probes := 0, 0
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := r.ReadBatch(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range in[:n] {
			if m.N == 1000 {
				queued++
				continue
			}
			probe := binary.BigEndian.Uint32(m.Buf)
			dropped := uint32(64-queued) + probe
			if queued == 0 || queued == 64 || m.Drops != dropped {
				t.Fatalf("%d of 64 queued, probe %d arrived with Drops %d; want some queued and Drops %d",
					queued, probe, m.Drops, dropped)
			}
			return
		}
		if n == 0 {
			w.WriteBatch([]Message{{Buf: binary.BigEndian.AppendUint32(nil, uint32(probes)), Addr: b.LocalAddr()}})
			probes++
		}
	}
	t.Fatalf("no probe arrived; %d of the burst did", queued)
}

func TestBatchReadReturnsAtOnceWhenEmpty(t *testing.T) {
	r := NewBatchConn(listenRTP(t), 4)
	n, err := r.ReadBatch([]Message{{Buf: make([]byte, 8)}})
	if n != 0 || err != nil {
		t.Fatalf("ReadBatch on an empty socket = %d, %v; want 0, nil", n, err)
	}
}

func TestListenRTPGivesEvenPorts(t *testing.T) {
	for range 4 {
		if p := listenRTP(t).LocalAddr().Port(); p%2 != 0 {
			t.Fatalf("RTP port %d is odd", p)
		}
	}
}

func TestBatchIPv6(t *testing.T) {
	a, err := ListenRTP(netip.MustParseAddr("::1"))
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer a.Close()
	w := NewBatchConn(a, 4)
	if n, err := w.WriteBatch([]Message{{Buf: []byte("x"), Addr: a.LocalAddr()}}); err != nil || n != 1 {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	in := []Message{{Buf: make([]byte, 8)}}
	readAll(t, NewBatchConn(a, 4), in)
	if string(in[0].Buf[:in[0].N]) != "x" {
		t.Fatalf("read %q", in[0].Buf[:in[0].N])
	}
}

func TestBatchWriteRefusesIPv6OnIPv4Socket(t *testing.T) {
	w := NewBatchConn(listenRTP(t), 4)
	_, err := w.WriteBatch([]Message{{Buf: []byte("x"), Addr: netip.MustParseAddrPort("[::1]:9")}})
	if err == nil {
		t.Fatal("an IPv6 destination on an IPv4 socket must fail")
	}
}

// BenchmarkBatchRoundTrip is the generator's hot path: one slot of RTP
// packets stamped and sent with sendmmsg, then drained with recvmmsg and
// accounted. It must not allocate.
func BenchmarkBatchRoundTrip(b *testing.B) {
	a, c := listenRTP(b), listenRTP(b)
	const perSlot = DefaultBatch
	calls := make([]MediaCall, perSlot)
	for i := range calls {
		calls[i] = MediaCall{ID: uint32(i), AToB: c.LocalAddr(), BToA: a.LocalAddr()}
	}
	w := planWorker(0, calls, [2][]*RTPSocket{{a}, {c}}, 1, 160, DefaultBatch, DefaultSendBatch, 7)
	w.clock, w.tsStep = newClock(), 160
	r := w.recv[AToB]
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !w.sendSlot(AToB, 0) {
			b.Fatal("send failed")
		}
		for before := r.valid; r.valid-before < perSlot; {
			r.drain(w.clock)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perSlot), "ns/packet")
	if r.stray != 0 || r.latency.Count() != uint64(b.N*perSlot) {
		b.Fatalf("stray %d, accounted %d of %d", r.stray, r.latency.Count(), b.N*perSlot)
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	a, c := listenRTP(t), listenRTP(t)
	calls := make([]MediaCall, 32)
	for i := range calls {
		calls[i] = MediaCall{ID: uint32(i), AToB: c.LocalAddr(), BToA: a.LocalAddr()}
	}
	w := planWorker(0, calls, [2][]*RTPSocket{{a}, {c}}, 1, 160, DefaultBatch, DefaultSendBatch, 7)
	w.clock, w.tsStep = newClock(), 160
	allocs := testing.AllocsPerRun(50, func() {
		w.sendSlot(AToB, 0)
		w.sendSlot(BToA, 0)
		w.drain()
	})
	if allocs != 0 {
		t.Fatalf("a tick of 64 packets allocates %v times", allocs)
	}
	if w.recv[AToB].valid == 0 || w.recv[BToA].valid == 0 {
		t.Fatal("nothing was received: the test proves nothing")
	}
}
