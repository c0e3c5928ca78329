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
	pause   time.Duration // rest after draining the socket; 0: none
	streams []seqTracker  // by call id
	latency Histogram     // one-way, nanoseconds

	stray      uint64 // not ours: another run, bad header, unknown call, wrong direction
	readErrors uint64
	reads      uint64        // recvmmsg calls that returned packets: packets/reads is the batch
	valid      atomic.Uint64 // distinct or not, every packet of this run and direction
}

// receiveBufLen fits any datagram a relay could hand us.
const receiveBufLen = 2048

func newReceiver(conn *BatchConn, run uint32, dir Direction, calls int, c clock, batch int, pause time.Duration) *receiver {
	r := &receiver{conn: conn, run: run, dir: dir, clock: c, pause: pause,
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
//
// When the kernel stamps arrivals, the receiver rests for pause after
// draining the socket: a relay forwards packets one by one, and waking for
// each costs far more CPU (a cross-CPU wake-up in a VM) than the packet;
// resting lets a batch gather while the kernel's stamps keep the latency
// exact.
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
		// Without kernel stamps, one clock read per batch: every packet of
		// the batch was queued by the time recvmmsg returned.
		r.account(r.msgs[:n], r.clock.stamp())
		if r.pause > 0 && n < len(r.msgs) {
			time.Sleep(r.pause)
		}
	}
}

// maxReadErrors stops a receiver whose socket keeps failing rather than
// spinning on it.
const maxReadErrors = 1000

func (r *receiver) account(ms []Message, readNs int64) {
	var valid uint64
	for i := range ms {
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
		valid++
	}
	r.valid.Add(valid)
}

// clock has the generator's two times. now paces the senders: monotonic
// ns since the run started, immune to clock steps. stamp is what packets
// carry: CLOCK_REALTIME ns, because that is the clock of the kernel's
// receive timestamps. Sender and receiver share the process, so one-way
// latency needs no clock sync; a step of the system clock during a run
// would show as a latency outlier.
type clock struct{ base time.Time }

func newClock() clock { return clock{base: time.Now()} }

func (c clock) now() int64 { return int64(time.Since(c.base)) }

func (c clock) stamp() int64 { return time.Now().UnixNano() }
