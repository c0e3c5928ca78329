//go:build linux

package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// loadGen is the RTP load generator of the relay load test: two sockets
// (all phones, all PBXs) that each send one G.711 stream per call (172
// bytes every 20 ms, spread evenly over the period) with sendmmsg and
// count what comes back with recvmmsg, so that the generator costs little
// next to what it measures. Stream i is SSRC i from the phone and
// i|1<<31 from the PBX; bytes 12-19 of each payload carry the send time.
type loadGen struct {
	epoch time.Time
	ends  [2]*loadEnd // 0: phones, 1: PBXs
}

type loadEnd struct {
	conn *net.UDPConn
	rc   syscall.RawConn
	addr netip.AddrPort
	dest []netip.AddrPort // per stream: where this end sends

	// Results of the last run, owned by the run's goroutines until it ends.
	sent, received int64         // sent inside the window, and of those received
	arrived        int64         // received inside the window, whenever sent
	maxLag         time.Duration // how late the sender fell behind its schedule
	latency        latencyHist
}

const (
	loadPeriod  = 20 * time.Millisecond
	loadPktSize = rtpHeaderLen + 160
	loadBatch   = 64
)

func newLoadGen(tb testing.TB) *loadGen {
	g := &loadGen{epoch: time.Now()}
	for i := range g.ends {
		c := listenLoopback(tb, "127.0.0.1")
		rc, err := c.SyscallConn()
		if err != nil {
			tb.Fatal(err)
		}
		// Root may pass rmem_max; the generator must not be where packets are lost.
		_ = rc.Control(func(fd uintptr) {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20) != nil {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 32<<20)
			}
		})
		g.ends[i] = &loadEnd{conn: c, rc: rc, addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
	}
	return g
}

func (g *loadGen) now() int64 { return int64(time.Since(g.epoch)) }

// run sends for warm+window+drain and counts what was sent and received
// inside the window; measure is called at the window's start and end.
func (g *loadGen) run(warm, window time.Duration, measure func(start bool)) {
	start := g.now()
	winStart, winEnd := start+int64(warm), start+int64(warm+window)
	stopSend := winEnd + int64(300*time.Millisecond) // window packets still in flight
	var wg sync.WaitGroup
	done := make(chan struct{})
	for dir, e := range g.ends {
		e.sent, e.received, e.arrived, e.maxLag, e.latency = 0, 0, 0, 0, latencyHist{}
		wg.Add(2)
		go func() { defer wg.Done(); g.send(e, uint32(dir)<<31, start, winStart, winEnd, stopSend) }()
		go func() { defer wg.Done(); g.receive(g.ends[1-dir], winStart, winEnd, done) }()
	}
	time.Sleep(time.Duration(winStart - g.now()))
	measure(true)
	time.Sleep(time.Duration(winEnd - g.now()))
	measure(false)
	time.Sleep(time.Duration(stopSend - g.now() + int64(100*time.Millisecond)))
	close(done)
	for _, e := range g.ends {
		_ = e.conn.SetReadDeadline(time.Now()) // wakes the receivers
	}
	wg.Wait()
	for _, e := range g.ends {
		_ = e.conn.SetReadDeadline(time.Time{})
	}
}

// send paces packet j of the schedule (stream j%n, round j/n) at
// start + round*period + stream*period/n.
func (g *loadGen) send(e *loadEnd, ssrcBit uint32, start, winStart, winEnd, stop int64) {
	n := int64(len(e.dest))
	b := newMsgBatch(loadBatch, loadPktSize)
	for j := range loadBatch {
		b.bufs[j][0] = 0x80 // RTP version 2, PCMU
	}
	due := func(j int64) int64 { return start + j/n*int64(loadPeriod) + j%n*int64(loadPeriod)/n }
	var j int64
	for {
		now := g.now()
		if now >= stop {
			return
		}
		if d := due(j); d > now {
			time.Sleep(time.Duration(d - now))
			continue
		}
		e.maxLag = max(e.maxLag, time.Duration(now-due(j)))
		count := 0
		for ; count < loadBatch && due(j) <= now; j++ {
			stream, round := j%n, j/n
			p := b.bufs[count]
			binary.BigEndian.PutUint16(p[2:], uint16(round))
			binary.BigEndian.PutUint32(p[4:], uint32(round)*160)
			binary.BigEndian.PutUint32(p[8:], uint32(stream)|ssrcBit)
			binary.BigEndian.PutUint64(p[12:], uint64(now))
			b.prepare(count, loadPktSize, e.dest[stream], unix.AF_INET)
			count++
			if now >= winStart && now < winEnd {
				e.sent++
			}
		}
		for off := 0; off < count; {
			var sent int
			var err error
			_ = e.rc.Write(func(fd uintptr) bool {
				sent, err = b.send(int(fd), off, count)
				return !errors.Is(err, unix.EAGAIN)
			})
			if err != nil {
				break // a lost send is a lost packet; the receiver counts it
			}
			off += sent
		}
	}
}

// prepare fills slot i for send: n bytes of b.bufs[i] to dst, addressed as
// a socket of family (AF_INET or AF_INET6) needs it.
func (b *msgBatch) prepare(i, n int, dst netip.AddrPort, family int) bool {
	l := putSockaddr(&b.names[i], dst, family)
	if l == 0 {
		return false
	}
	b.iovs[i].SetLen(n)
	b.msgs[i].hdr.Namelen = l
	return true
}

// send writes slots [off,count) with one sendmmsg; it returns how many went.
func (b *msgBatch) send(fd, off, count int) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.msgs[off])),
		uintptr(count-off), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// receive counts the window's packets arriving at e and their latency.
func (g *loadGen) receive(e *loadEnd, winStart, winEnd int64, done <-chan struct{}) {
	b := newMsgBatch(loadBatch, maxDatagram)
	var n int
	var err error
	read := func(fd uintptr) bool {
		n, err = b.recv(int(fd))
		return !errors.Is(err, unix.EAGAIN)
	}
	for {
		if rerr := e.rc.Read(read); rerr != nil {
			select {
			case <-done:
				return
			default:
				continue
			}
		}
		if err != nil {
			continue
		}
		now := g.now()
		if now >= winStart && now < winEnd {
			e.arrived += int64(n)
		}
		for i := range n {
			p, _ := b.packet(i)
			if len(p) < 20 {
				continue
			}
			sentAt := int64(binary.BigEndian.Uint64(p[12:]))
			if sentAt >= winStart && sentAt < winEnd {
				e.received++
				e.latency.add(time.Duration(now - sentAt))
			}
		}
	}
}

// latencyHist counts latencies in 10 µs buckets up to 100 ms.
type latencyHist struct {
	buckets [10000]int64
	over    int64
	total   int64
}

const latencyBucket = 10 * time.Microsecond

func (h *latencyHist) add(d time.Duration) {
	h.total++
	if i := int(d / latencyBucket); i >= 0 && i < len(h.buckets) {
		h.buckets[i]++
	} else if i >= len(h.buckets) {
		h.over++
	}
}

func (h *latencyHist) merge(o *latencyHist) {
	for i := range h.buckets {
		h.buckets[i] += o.buckets[i]
	}
	h.over += o.over
	h.total += o.total
}

// quantile is the upper edge of the bucket holding quantile q.
func (h *latencyHist) quantile(q float64) time.Duration {
	want := int64(q * float64(h.total))
	var seen int64
	for i, c := range h.buckets {
		if seen += c; seen > want {
			return time.Duration(i+1) * latencyBucket
		}
	}
	return time.Duration(len(h.buckets)) * latencyBucket
}
