package loadgen

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// receiver reads the packets arriving at one side's RTP socket: those of
// one direction of every call. One goroutine owns it, so its per-call state
// needs no lock; only the running total is shared (for the drain wait).
type receiver struct {
	conn    *BatchConn
	run     uint32
	dir     Direction
	clock   clock
	msgs    []Message
	streams []seqTracker // by call id
	latency Histogram    // one-way, nanoseconds

	stray      uint64 // not ours: another run, bad header, unknown call, wrong direction
	readErrors uint64
	reads      uint64        // recvmmsg calls that returned packets: packets/reads is the batch
	valid      atomic.Uint64 // distinct or not, every packet of this run and direction
}

// receiveBufLen fits any datagram a relay could hand us.
const receiveBufLen = 2048

func newReceiver(conn *BatchConn, run uint32, dir Direction, calls int, c clock, batch int) *receiver {
	r := &receiver{conn: conn, run: run, dir: dir, clock: c,
		msgs: make([]Message, batch), streams: make([]seqTracker, calls)}
	slab := make([]byte, batch*receiveBufLen)
	for i := range r.msgs {
		r.msgs[i].Buf = slab[i*receiveBufLen : (i+1)*receiveBufLen : (i+1)*receiveBufLen]
	}
	return r
}

// loop reads until the socket's read deadline passes or it is closed.
// Other read errors (an ICMP error surfacing on the socket) are counted
// and reading goes on.
func (r *receiver) loop() error {
	for {
		n, err := r.conn.ReadBatch(r.msgs)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			r.readErrors++
			if r.readErrors > maxReadErrors {
				return err
			}
			continue
		}
		r.reads++
		// One clock read per batch: every packet of the batch was queued
		// by the time recvmmsg returned.
		r.account(r.msgs[:n], r.clock.now())
	}
}

// maxReadErrors stops a receiver whose socket keeps failing rather than
// spinning on it.
const maxReadErrors = 1000

func (r *receiver) account(ms []Message, nowNs int64) {
	var valid uint64
	for i := range ms {
		info, ok := parsePacket(ms[i].Buf[:ms[i].N], r.run)
		if !ok || info.dir != r.dir || int(info.call) >= len(r.streams) {
			r.stray++
			continue
		}
		r.streams[info.call].add(info.seq)
		r.latency.Record(nowNs - info.sentNs)
		valid++
	}
	r.valid.Add(valid)
}

// clock is the run's monotonic clock: nanoseconds since the generator
// started, the same for sender and receiver because they share a process.
type clock struct{ base time.Time }

func newClock() clock { return clock{base: time.Now()} }

func (c clock) now() int64 { return int64(time.Since(c.base)) }
