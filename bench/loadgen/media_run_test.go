package loadgen

import (
	"context"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRunMediaDirectTwentyCallsNoLoss(t *testing.T) {
	// Two workers, each with a socket per side; calls go to the sockets
	// of the worker that carries them, as a relay would send them.
	a := []*RTPSocket{listenRTP(t), listenRTP(t)}
	b := []*RTPSocket{listenRTP(t), listenRTP(t)}
	calls := make([]MediaCall, 20)
	for i := range calls {
		w := WorkerOf(uint32(i), 2)
		calls[i] = MediaCall{ID: uint32(i), AToB: b[w].LocalAddr(), BToA: a[w].LocalAddr()}
	}
	rep, err := RunMedia(context.Background(), MediaConfig{A: a, B: b, Calls: calls, Duration: time.Second})
	if err != nil {
		t.Fatalf("RunMedia: %v", err)
	}
	const want = 20 * 50 // 20 calls, 50 packets/s, 1 s
	for _, d := range []struct {
		name string
		r    DirectionReport
	}{{"a_to_b", rep.AToB}, {"b_to_a", rep.BToA}} {
		if d.r.Sent != want || d.r.Received != want || d.r.LossRatio != 0 || d.r.LostBySeq != 0 {
			t.Errorf("%s: sent %d received %d loss %v lost by seq %d; want %d both, no loss",
				d.name, d.r.Sent, d.r.Received, d.r.LossRatio, d.r.LostBySeq, want)
		}
		if d.r.Duplicates != 0 || d.r.Stray != 0 {
			t.Errorf("%s: %d duplicates, %d stray on a clean loopback", d.name, d.r.Duplicates, d.r.Stray)
		}
		// Loopback takes microseconds; even a loaded 2-core box under the
		// race detector stays far below a packet interval at the median.
		if d.r.LatencyP50Us <= 0 || d.r.LatencyP50Us > 20_000 || d.r.LatencyMaxUs < d.r.LatencyP99Us {
			t.Errorf("%s: latency p50 %vus p99 %vus max %vus not sane",
				d.name, d.r.LatencyP50Us, d.r.LatencyP99Us, d.r.LatencyMaxUs)
		}
	}
	// Two workers, one tick per 2 ms slot, 50 packet intervals.
	if rep.Ticks != 2*10*50 {
		t.Errorf("ticks %d, want %d", rep.Ticks, 2*10*50)
	}
	if rep.DurationS < 0.95 || rep.DurationS > 1.5 {
		t.Errorf("streamed for %.3f s, want about 1 s", rep.DurationS)
	}
	t.Logf("late ticks %d (max %.2f ms), p50 %.1f us, p99 %.1f us, cpu %.3f s",
		rep.LateTicks, rep.MaxLateMs, rep.AToB.LatencyP50Us, rep.AToB.LatencyP99Us, rep.CPUSeconds)
}

func TestRunMediaReportsLossToAnAbsentReceiver(t *testing.T) {
	// Side A's packets go to a socket nobody reads for us: all of them are
	// lost for the a_to_b receiver, while b_to_a is whole.
	a, b, sink := listenRTP(t), listenRTP(t), listenRTP(t)
	calls := []MediaCall{{ID: 0, AToB: sink.LocalAddr(), BToA: a.LocalAddr()}}
	rep, err := RunMedia(context.Background(), MediaConfig{A: []*RTPSocket{a}, B: []*RTPSocket{b}, Calls: calls, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("RunMedia: %v", err)
	}
	if rep.AToB.Sent != 10 || rep.AToB.Received != 0 || rep.AToB.LossRatio != 1 {
		t.Errorf("a_to_b sent %d received %d loss %v; want 10, 0, 1", rep.AToB.Sent, rep.AToB.Received, rep.AToB.LossRatio)
	}
	if rep.BToA.Received != 10 || rep.BToA.LossRatio != 0 {
		t.Errorf("b_to_a received %d loss %v; want 10, 0", rep.BToA.Received, rep.BToA.LossRatio)
	}
}

func TestRunMediaIgnoresLeftoversOfAnEarlierRun(t *testing.T) {
	a, b := listenRTP(t), listenRTP(t)
	stale := make([]byte, rtpHeaderLen+160)
	buildPacket(stale, 12345, 0, AToB)
	w := NewBatchConn(a, 4)
	if _, err := w.WriteBatch([]Message{{Buf: stale, Addr: b.LocalAddr()}}); err != nil {
		t.Fatal(err)
	}
	waitQueued(t, b)
	calls := []MediaCall{{ID: 0, AToB: b.LocalAddr(), BToA: a.LocalAddr()}}
	rep, err := RunMedia(context.Background(), MediaConfig{A: []*RTPSocket{a}, B: []*RTPSocket{b}, Calls: calls,
		Duration: 100 * time.Millisecond, Run: 999})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AToB.Stray != 0 || rep.AToB.Received != 5 {
		t.Fatalf("stray %d received %d; want the queued leftovers dropped, 5 packets", rep.AToB.Stray, rep.AToB.Received)
	}
}

// waitQueued waits until a datagram is queued at s (the kernel may finish
// a loopback delivery after the send returned); the deadline guards a
// failure only.
func waitQueued(t *testing.T, s *RTPSocket) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if n, err := unix.IoctlGetInt(s.fd, unix.SIOCINQ); err != nil || n > 0 {
			return
		}
		runtime.Gosched()
	}
	t.Fatal("nothing queued")
}

func TestRunMediaStopsWhenCancelled(t *testing.T) {
	a, b := listenRTP(t), listenRTP(t)
	calls := []MediaCall{{ID: 0, AToB: b.LocalAddr(), BToA: a.LocalAddr()}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := RunMedia(ctx, MediaConfig{A: []*RTPSocket{a}, B: []*RTPSocket{b}, Calls: calls, Duration: time.Hour})
	if err != nil {
		t.Fatalf("RunMedia: %v", err)
	}
	if rep.AToB.Sent > 1 {
		t.Fatalf("sent %d packets after cancel", rep.AToB.Sent)
	}
}
