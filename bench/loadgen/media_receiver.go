package loadgen

import "time"

// receiver accounts the packets arriving at one worker's socket of one
// side: one direction of that worker's calls. Its worker drains it on every
// tick, so its per-call state needs no lock.
type receiver struct {
	conn    *BatchConn
	run     uint32
	dir     Direction
	msgs    []Message
	streams []seqTracker // by call id
	latency Histogram    // one-way, nanoseconds

	valid      uint64 // packets of this run and direction, duplicates included
	stray      uint64 // not ours: another run, bad header, unknown call, wrong direction
	reads      uint64 // recvmmsg calls that returned packets: valid/reads is the batch
	readErrors uint64
	// The socket's drop counter: the value before the run and the latest.
	dropsBase, drops uint32
}

// receiveBufLen fits any datagram a relay could hand us.
const receiveBufLen = 2048

func newReceiver(conn *BatchConn, run uint32, dir Direction, calls int, batch int) *receiver {
	r := &receiver{conn: conn, run: run, dir: dir,
		msgs: make([]Message, batch), streams: make([]seqTracker, calls)}
	slab := make([]byte, batch*receiveBufLen)
	for i := range r.msgs {
		r.msgs[i].Buf = slab[i*receiveBufLen : (i+1)*receiveBufLen : (i+1)*receiveBufLen]
	}
	return r
}

// drain reads what is queued, batch after batch, until the socket is empty
// or maxDrainBatches were read, so a flood cannot keep the worker from its
// next sends (the rest waits in the socket, its arrival time stamped). A
// read error (an ICMP error surfacing on the socket) ends this drain; the
// next tick tries again.
func (r *receiver) drain(c clock) {
	for range maxDrainBatches {
		n, err := r.conn.ReadBatch(r.msgs)
		if err != nil {
			r.readErrors++
			return
		}
		if n == 0 {
			return
		}
		r.reads++
		// A packet without a kernel stamp gets the time it was read.
		r.account(r.msgs[:n], c.stamp())
		if n < len(r.msgs) {
			return
		}
	}
}

// reset forgets everything accounted so far.
func (r *receiver) reset() {
	clear(r.streams)
	r.latency = Histogram{}
	r.valid, r.stray, r.reads, r.readErrors = 0, 0, 0, 0
	r.dropsBase = r.drops
}

// maxDrainBatches bounds one drain to 2,048 packets: twenty ticks' worth
// for a worker carrying a thousand calls.
const maxDrainBatches = 32

func (r *receiver) account(ms []Message, readNs int64) {
	for i := range ms {
		r.drops = max(r.drops, ms[i].Drops)
		info, ok := parsePacket(ms[i].Buf[:ms[i].N], r.run)
		if !ok || info.dir != r.dir || int(info.call) >= len(r.streams) {
			r.stray++
			continue
		}
		r.streams[info.call].add(info.seq)
		rx := ms[i].RxNs
		if rx == 0 {
			rx = readNs
		}
		r.latency.Record(rx - info.sentNs)
		r.valid++
	}
}

// clock has the generator's two times. now paces the workers: monotonic
// ns since the run started, immune to clock steps. stamp is what packets
// carry: CLOCK_REALTIME ns, because that is the clock of the kernel's
// receive timestamps. Sender and receiver share the process, so one-way
// latency needs no clock sync; a step of the system clock during a run
// would show as a latency outlier.
type clock struct{ base time.Time }

func newClock() clock { return clock{base: time.Now()} }

func (c clock) now() int64 { return int64(time.Since(c.base)) }

func (c clock) stamp() int64 { return time.Now().UnixNano() }
