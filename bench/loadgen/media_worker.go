package loadgen

import (
	"context"
	"time"
)

// sendStream is one direction of one call as its sender sees it: the whole
// RTP packet, rewritten in place before every send.
type sendStream struct {
	pkt []byte
	seq uint16
	ts  uint32
}

// sendPlan is one direction's share of a worker: its streams ordered by the
// slot they send in, the messages pointing at them, and where each slot ends.
type sendPlan struct {
	conn    *BatchConn
	streams []sendStream
	msgs    []Message
	slotEnd []int
}

// worker owns a share of the calls and one socket on each side. On every
// tick it sends the packets of one slot (each ptime is cut into slots and
// every stream sends in one fixed slot, so no tick sends all calls at once)
// and drains both its sockets. Lateness is measured against the schedule,
// not the previous tick, so a stalled worker catches up (the packet count
// stays exact) and is reported.
type worker struct {
	send    [2]sendPlan // by Direction: A→B leaves side A's socket
	recv    [2]*receiver
	clock   clock
	startNs int64
	slotNs  int64
	ptimeNs int64
	slots   int
	ticks   int
	tsStep  uint32
	batch   int

	sent       [2]uint64
	unsent     [2]uint64
	sendErrors uint64
	sendWaits  uint64 // sends that found the send buffer full
	lateTicks  uint64
	doneTicks  uint64
	maxLateNs  int64
}

func (w *worker) loop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for tick := range w.ticks {
		deadline := w.startNs + int64(tick)*w.slotNs
		if !w.waitUntil(ctx, timer, deadline) {
			return
		}
		late := w.clock.now() - deadline
		w.maxLateNs = max(w.maxLateNs, late)
		slot := tick % w.slots
		// A tick is late when its packets leave more than a whole packet
		// interval after their time, or when some could not be sent.
		ok := w.sendSlot(AToB, slot)
		ok = w.sendSlot(BToA, slot) && ok
		if late > w.ptimeNs || !ok {
			w.lateTicks++
		}
		w.doneTicks++
		w.drain()
	}
}

// waitUntil sleeps until deadline on the monotonic clock; false when ctx
// ended first.
func (w *worker) waitUntil(ctx context.Context, timer *time.Timer, deadline int64) bool {
	if wait := deadline - w.clock.now(); wait > 0 {
		timer.Reset(time.Duration(wait))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return false
		}
	}
	return ctx.Err() == nil
}

func (w *worker) drain() {
	w.recv[AToB].drain(w.clock)
	w.recv[BToA].drain(w.clock)
}

// sendSlot sends the packets of one slot of one direction in batches,
// stamping each batch just before it goes. It reports false when any
// packet was not sent.
func (w *worker) sendSlot(dir Direction, slot int) bool {
	p := &w.send[dir]
	lo := 0
	if slot > 0 {
		lo = p.slotEnd[slot-1]
	}
	hi := p.slotEnd[slot]
	ok := true
	for lo < hi {
		end := min(lo+w.batch, hi)
		now := w.clock.stamp()
		for i := lo; i < end; i++ {
			s := &p.streams[i]
			stampPacket(s.pkt, s.seq, s.ts, now)
			s.seq++
			s.ts += w.tsStep
		}
		for lo < end {
			n, err := p.conn.WriteBatch(p.msgs[lo:end])
			w.sent[dir] += uint64(n)
			lo += n
			switch {
			case err == ErrWouldBlock:
				// The kernel has not freed the buffer of earlier sends
				// yet: give it a moment (a relay on another host, or a
				// loopback target slower than the generator).
				w.sendWaits++
				time.Sleep(sendRetryWait)
			case err != nil:
				// The kernel refused the datagram at lo (sendmmsg reports
				// an error only for the first of a call): skip it.
				w.sendErrors++
				w.unsent[dir]++
				lo++
				ok = false
			case n == 0:
				w.unsent[dir] += uint64(end - lo)
				lo = end
				ok = false
			}
		}
	}
	return ok
}

// sendRetryWait is how long a worker waits for send buffer space.
const sendRetryWait = 100 * time.Microsecond

// drainInFlight keeps draining after the last tick so packets still queued
// in a relay arrive: until everything this worker sent has, nothing new
// came for inFlightQuiet, or inFlightMax passed.
func (w *worker) drainInFlight(ctx context.Context) {
	const (
		poll          = time.Millisecond
		inFlightQuiet = 200 * time.Millisecond
		inFlightMax   = 2 * time.Second
	)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := w.clock.now()
	last, lastChange := uint64(0), start
	for {
		w.drain()
		a, b := w.recv[AToB].valid, w.recv[BToA].valid
		if a >= w.sent[AToB] && b >= w.sent[BToA] {
			return
		}
		now := w.clock.now()
		if a+b != last {
			last, lastChange = a+b, now
		}
		if now-lastChange > int64(inFlightQuiet) || now-start > int64(inFlightMax) {
			return
		}
		if !w.waitUntil(ctx, timer, now+int64(poll)) {
			return
		}
	}
}
