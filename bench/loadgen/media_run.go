package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MediaConfig is one media phase: every call streams both ways at once.
type MediaConfig struct {
	// A and B are side A's (caller's) and side B's (callee's) RTP sockets,
	// one per worker on each side: worker i sends and receives on A[i] and
	// B[i] for the calls WorkerOf gives it, told apart by their payload.
	A, B     []*RTPSocket
	Calls    []MediaCall
	Duration time.Duration
	PTime    time.Duration // default 20 ms
	Payload  int           // bytes after the RTP header; default 160 (G.711, 20 ms)
	Slots    int           // ticks per ptime per worker; default one per 2 ms
	Batch    int           // datagrams per recvmmsg; default DefaultBatch
	// SendBatch is datagrams per sendmmsg; default DefaultSendBatch. Every
	// packet of a batch carries the time stamped before the call, so the
	// last waits for the kernel to deliver all before it: small batches
	// keep that out of the measured latency.
	SendBatch int
	Run       uint32 // identifies this run's packets; 0 picks one
}

func (c *MediaConfig) setDefaults() error {
	if len(c.A) == 0 || len(c.A) != len(c.B) {
		return fmt.Errorf("media: %d side A and %d side B sockets; want the same number, at least one", len(c.A), len(c.B))
	}
	if c.PTime <= 0 {
		c.PTime = 20 * time.Millisecond
	}
	if c.Payload == 0 {
		c.Payload = 160
	}
	if c.Payload < MinPayload || c.Payload > receiveBufLen-rtpHeaderLen {
		return fmt.Errorf("media: payload %d bytes is outside %d..%d", c.Payload, MinPayload, receiveBufLen-rtpHeaderLen)
	}
	if c.Slots <= 0 {
		c.Slots = max(1, int(c.PTime/(2*time.Millisecond)))
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.SendBatch <= 0 {
		c.SendBatch = DefaultSendBatch
	}
	if c.Run == 0 {
		c.Run = newRunID()
	}
	return nil
}

// RunMedia streams RTP on every call for cfg.Duration and measures what
// arrives. It returns when the streams are over and the packets still in
// flight have arrived (or stopped arriving); cancelling ctx ends the streams
// early. The sockets stay open.
func RunMedia(ctx context.Context, cfg MediaConfig) (MediaReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return MediaReport{}, err
	}
	clk := newClock()
	cpu0 := processCPU()
	packets := int(cfg.Duration / cfg.PTime)
	// Start a little ahead so every worker's first tick is on time.
	startNs := clk.now() + int64(5*time.Millisecond)
	workers := make([]*worker, len(cfg.A))
	for i := range workers {
		w := planWorker(i, cfg.Calls, [2][]*RTPSocket{cfg.A, cfg.B}, cfg.Slots, cfg.Payload, cfg.Batch, cfg.SendBatch, cfg.Run)
		w.clock, w.startNs = clk, startNs
		w.ptimeNs = int64(cfg.PTime)
		w.slotNs = int64(cfg.PTime) / int64(cfg.Slots)
		w.ticks = packets * cfg.Slots
		w.tsStep = uint32(cfg.PTime / (time.Second / 8000)) // RFC 3551 §4.5.14: PCMU clock 8 kHz
		workers[i] = w
	}
	// Whatever a socket holds from before (an earlier run's stragglers) is
	// not this run's: drop it so it cannot count as stray.
	for _, w := range workers {
		w.drain()
		w.recv[AToB].reset()
		w.recv[BToA].reset()
	}

	var wg sync.WaitGroup
	var streamedNs int64
	var mu sync.Mutex
	for _, w := range workers {
		wg.Go(func() {
			w.loop(ctx)
			mu.Lock()
			streamedNs = max(streamedNs, clk.now()-startNs)
			mu.Unlock()
			w.drainInFlight(ctx)
		})
	}
	wg.Wait()

	return buildMediaReport(workers, streamedNs, processCPU()-cpu0), nil
}
