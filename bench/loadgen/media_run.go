package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// MediaConfig is one media phase: every call streams both ways at once.
type MediaConfig struct {
	// A and B are side A's (caller's) and side B's (callee's) RTP sockets.
	// Every call of a side shares its socket; the payload tells calls apart.
	A, B     *net.UDPConn
	Calls    []MediaCall
	Duration time.Duration
	PTime    time.Duration // default 20 ms
	Payload  int           // bytes after the RTP header; default 160 (G.711, 20 ms)
	Workers  int           // sending goroutines; default 2
	Slots    int           // sends per ptime per worker; default one per 2 ms
	Batch    int           // datagrams per recvmmsg; default DefaultBatch
	// SendBatch is datagrams per sendmmsg; default DefaultSendBatch. Every
	// packet of a batch carries the time stamped before the call, so the
	// last waits for the kernel to deliver all before it: small batches
	// keep that out of the measured latency.
	SendBatch int
	// RecvPause is how long a receiver rests after draining its socket,
	// so packets gather into batches; default DefaultRecvPause, negative
	// for none. Kernel receive stamps keep the latency exact meanwhile.
	RecvPause time.Duration
	Run       uint32 // identifies this run's packets; 0 picks one
}

func (c *MediaConfig) setDefaults() error {
	if c.A == nil || c.B == nil {
		return errors.New("media: both sides need an RTP socket")
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
	if c.Workers <= 0 {
		c.Workers = 2
	}
	c.Workers = max(1, min(c.Workers, len(c.Calls)))
	if c.Slots <= 0 {
		c.Slots = max(1, int(c.PTime/(2*time.Millisecond)))
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.SendBatch <= 0 {
		c.SendBatch = DefaultSendBatch
	}
	switch {
	case c.RecvPause == 0:
		c.RecvPause = DefaultRecvPause
	case c.RecvPause < 0:
		c.RecvPause = 0
	}
	if c.Run == 0 {
		c.Run = newRunID()
	}
	return nil
}

// DefaultRecvPause bounds a receiver's wake-ups to about a thousand a
// second, and the packets waiting meanwhile to a millisecond's worth.
const DefaultRecvPause = time.Millisecond

// RunMedia streams RTP on every call for cfg.Duration and measures what
// arrives. It returns when the streams are over and the packets still in
// flight have arrived (or stopped arriving); cancelling ctx ends the streams
// early. The sockets stay open and usable afterwards.
func RunMedia(ctx context.Context, cfg MediaConfig) (MediaReport, error) {
	if err := cfg.setDefaults(); err != nil {
		return MediaReport{}, err
	}
	maxID := uint32(0)
	for _, c := range cfg.Calls {
		maxID = max(maxID, c.ID+1)
	}
	clk := newClock()
	cpu0 := processCPU()

	conns := [2][]*BatchConn{}
	for w := 0; w < cfg.Workers; w++ {
		for dir, sock := range [2]*net.UDPConn{cfg.A, cfg.B} {
			bc, err := NewBatchConn(sock, cfg.SendBatch)
			if err != nil {
				return MediaReport{}, err
			}
			conns[dir] = append(conns[dir], bc)
		}
	}
	// Side B's socket receives what A sends and the other way round.
	recv := [2]*receiver{}
	for dir, sock := range [2]*net.UDPConn{cfg.B, cfg.A} {
		bc, err := NewBatchConn(sock, cfg.Batch)
		if err != nil {
			return MediaReport{}, err
		}
		pause := cfg.RecvPause
		if EnableRxTimestamps(sock) != nil {
			pause = 0 // without kernel stamps, resting would count as latency
		}
		recv[dir] = newReceiver(bc, cfg.Run, Direction(dir), int(maxID), clk, cfg.Batch, pause)
	}

	workers := planWorkers(cfg.Calls, conns, cfg.Workers, cfg.Slots, cfg.Payload, cfg.Run)
	packets := int(cfg.Duration / cfg.PTime)
	// Start a little ahead so every worker's first tick is on time.
	startNs := clk.now() + int64(5*time.Millisecond)
	for _, w := range workers {
		w.clock, w.startNs = clk, startNs
		w.ptimeNs = int64(cfg.PTime)
		w.slotNs = int64(cfg.PTime) / int64(cfg.Slots)
		w.ticks = packets * cfg.Slots
		w.tsStep = uint32(cfg.PTime / (time.Second / 8000)) // RFC 3551 §4.5.14: PCMU clock 8 kHz
		w.batch = cfg.SendBatch
	}

	var rwg sync.WaitGroup
	recvErr := [2]error{}
	for dir, r := range recv {
		rwg.Go(func() { recvErr[dir] = r.loop() })
	}
	var swg sync.WaitGroup
	for _, w := range workers {
		swg.Go(func() { w.loop(ctx) })
	}
	swg.Wait()
	streamedNs := clk.now() - startNs

	var sent [2]uint64
	for _, w := range workers {
		sent[AToB] += w.sent[AToB]
		sent[BToA] += w.sent[BToA]
	}
	waitInFlight(ctx, recv, sent)
	stopErr := stopReceivers(cfg.A, cfg.B, &rwg)

	rep := buildMediaReport(workers, recv, sent, streamedNs, processCPU()-cpu0)
	return rep, errors.Join(stopErr, recvErr[0], recvErr[1])
}

// waitInFlight gives packets still queued in the relay and the sockets time
// to arrive: it returns once both receivers have every packet sent, or when
// nothing new arrived for inFlightQuiet, or after inFlightMax.
func waitInFlight(ctx context.Context, recv [2]*receiver, sent [2]uint64) {
	const (
		poll          = 5 * time.Millisecond
		inFlightQuiet = 200 * time.Millisecond
		inFlightMax   = 2 * time.Second
	)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	deadline := time.Now().Add(inFlightMax)
	last, lastChange := uint64(0), time.Now()
	for {
		a, b := recv[AToB].valid.Load(), recv[BToA].valid.Load()
		if a >= sent[AToB] && b >= sent[BToA] {
			return
		}
		now := time.Now()
		if a+b != last {
			last, lastChange = a+b, now
		}
		if now.Sub(lastChange) > inFlightQuiet || now.After(deadline) {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// stopReceivers wakes the receivers with a read deadline in the past (the
// sockets belong to the caller and stay open), waits for them and clears
// the deadline again.
func stopReceivers(a, b *net.UDPConn, wg *sync.WaitGroup) error {
	errA := a.SetReadDeadline(time.Now())
	errB := b.SetReadDeadline(time.Now())
	wg.Wait()
	return errors.Join(errA, errB, a.SetReadDeadline(time.Time{}), b.SetReadDeadline(time.Time{}))
}
