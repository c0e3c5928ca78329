package loadgen

import (
	"context"
	"errors"
	"net"
	"os"
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

// sendWorker paces the streams of its calls: each ptime is cut into slots,
// and every stream sends in one fixed slot, so a tick sends only its share
// of the calls and the socket never sees all calls at once. Lateness is
// measured against the schedule, not the previous tick, so a stalled
// worker catches up (the packet count stays exact) and is reported.
type sendWorker struct {
	plans      [2]sendPlan // by Direction
	clock      clock
	startNs    int64
	slotNs     int64
	ptimeNs    int64
	slots      int
	ticks      int
	tsStep     uint32
	batch      int
	sent       [2]uint64
	unsent     [2]uint64
	lateTicks  uint64
	doneTicks  uint64
	maxLateNs  int64
	sendErrors uint64
}

func (w *sendWorker) loop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for tick := range w.ticks {
		deadline := w.startNs + int64(tick)*w.slotNs
		if wait := deadline - w.clock.now(); wait > 0 {
			timer.Reset(time.Duration(wait))
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		} else if ctx.Err() != nil {
			return
		}
		late := w.clock.now() - deadline
		w.maxLateNs = max(w.maxLateNs, late)
		slot := tick % w.slots
		// A tick is late when its packets leave more than a whole packet
		// interval after their time, or when some could not be sent.
		ok := w.sendSlot(AToB, slot) && w.sendSlot(BToA, slot)
		if late > w.ptimeNs || !ok {
			w.lateTicks++
		}
		w.doneTicks++
	}
}

// sendSlot sends the packets of one slot of one direction in batches,
// stamping each batch just before it goes so the generator's own batching
// does not count as latency. It reports false when any packet was not sent.
func (w *sendWorker) sendSlot(dir Direction, slot int) bool {
	p := &w.plans[dir]
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
			case err != nil && (errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)):
				w.unsent[dir] += uint64(hi - lo)
				return false
			case err != nil:
				// The kernel refused the datagram at lo (sendmmsg reports
				// an error only for the first one of a call): skip it.
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
