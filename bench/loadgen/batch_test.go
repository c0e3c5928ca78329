package loadgen

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestBatchWriteAndReadCarryEveryDatagram(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	wa, rb := newBatchConn(t, a, 8), newBatchConn(t, b, 8)
	out := make([]Message, 8)
	for i := range out {
		out[i] = Message{Buf: []byte(fmt.Sprintf("datagram %d", i)), Addr: addrOf(b)}
	}
	n, err := wa.WriteBatch(out)
	if err != nil || n != len(out) {
		t.Fatalf("WriteBatch = %d, %v; want %d", n, err, len(out))
	}
	in := make([]Message, 8)
	for i := range in {
		in[i].Buf = make([]byte, 64)
	}
	got := 0
	for got < len(out) {
		n, err := rb.ReadBatch(in[got:])
		if err != nil {
			t.Fatalf("ReadBatch: %v", err)
		}
		got += n
	}
	for i := range in {
		if !bytes.Equal(in[i].Buf[:in[i].N], out[i].Buf) {
			t.Errorf("datagram %d = %q, want %q", i, in[i].Buf[:in[i].N], out[i].Buf)
		}
	}
}

func TestBatchReadReportsKernelReceiveTime(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	if err := EnableRxTimestamps(b); err != nil {
		t.Fatalf("EnableRxTimestamps: %v", err)
	}
	w, r := newBatchConn(t, a, 4), newBatchConn(t, b, 4)
	before := time.Now().UnixNano()
	if _, err := w.WriteBatch([]Message{{Buf: []byte("x"), Addr: addrOf(b)}, {Buf: []byte("y"), Addr: addrOf(b)}}); err != nil {
		t.Fatal(err)
	}
	sent := time.Now().UnixNano()
	in := []Message{{Buf: make([]byte, 8)}, {Buf: make([]byte, 8)}}
	for got := 0; got < 2; {
		n, err := r.ReadBatch(in[got:])
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	for i, m := range in {
		// Loopback delivers inside sendmmsg: the stamp falls between the
		// clock reads around the send.
		if m.RxNs < before || m.RxNs > sent {
			t.Errorf("datagram %d stamped %d, want within [%d, %d]", i, m.RxNs, before, sent)
		}
	}
}

func TestBatchWriteToIPv4FromIPv6Socket(t *testing.T) {
	// A dual-stack socket must reach an IPv4 destination (as ::ffff:a.b.c.d).
	v6, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6unspecified})
	if err != nil {
		t.Skipf("no dual-stack socket here: %v", err)
	}
	defer v6.Close()
	dst := listenLoopback(t)
	w := newBatchConn(t, v6, 4)
	if n, err := w.WriteBatch([]Message{{Buf: []byte("x"), Addr: addrOf(dst)}}); err != nil || n != 1 {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	buf := make([]byte, 8)
	if n, _, err := dst.ReadFromUDPAddrPort(buf); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

func TestBatchWriteRefusesIPv6OnIPv4Socket(t *testing.T) {
	w := newBatchConn(t, listenLoopback(t), 4)
	_, err := w.WriteBatch([]Message{{Buf: []byte("x"), Addr: netip.MustParseAddrPort("[::1]:9")}})
	if err == nil {
		t.Fatal("an IPv6 destination on an IPv4 socket must fail")
	}
}

// BenchmarkBatchRoundTrip is the generator's hot path: one batch of RTP
// packets stamped, sent with sendmmsg and read back with recvmmsg and
// accounted. It must not allocate.
func BenchmarkBatchRoundTrip(b *testing.B) {
	a, c := listenLoopback(b), listenLoopback(b)
	const batch = DefaultBatch
	clk := newClock()
	calls := make([]MediaCall, batch)
	for i := range calls {
		calls[i] = MediaCall{ID: uint32(i), AToB: addrOf(c)}
	}
	conns := [2][]*BatchConn{{newBatchConn(b, a, batch)}, {newBatchConn(b, c, batch)}}
	w := planWorkers(calls, conns, 1, 1, 160, 7)[0]
	w.clock, w.batch, w.tsStep = clk, batch, 160
	if err := EnableRxTimestamps(c); err != nil {
		b.Fatal(err)
	}
	r := newReceiver(newBatchConn(b, c, batch), 7, AToB, batch, clk, batch, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !w.sendSlot(AToB, 0) {
			b.Fatal("send failed")
		}
		for got := 0; got < batch; {
			n, err := r.conn.ReadBatch(r.msgs[:batch-got])
			if err != nil {
				b.Fatal(err)
			}
			r.account(r.msgs[:n], clk.stamp())
			got += n
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/packet")
	if r.stray != 0 || r.latency.Count() != uint64(b.N*batch) {
		b.Fatalf("stray %d, accounted %d of %d", r.stray, r.latency.Count(), b.N*batch)
	}
}
