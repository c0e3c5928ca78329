//go:build linux

package media

import (
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// engineBatch datagrams are read from a socket per recvmmsg; a G.711
	// socket rarely has more than one waiting, but a burst is read whole.
	engineBatch = 16
	// engineDrainRounds bounds the reads of one socket per wake-up, so a
	// flooded socket cannot starve the others (epoll reports it again).
	engineDrainRounds = 4
	engineEvents      = 256
	// wakeSlot marks the worker's eventfd in epoll data.
	wakeSlot  = -1
	chunkBits = 8
	maxChunks = 1 << 12 // up to 1M sockets per worker
)

// engineSocket is one relay socket on a worker: the stream and side it
// belongs to, and which of the side's ports it is.
type engineSocket struct {
	st       *relayStream
	side     *side
	conn     *rawSocket
	rtpPort  bool
	slot     int32
	attached bool // in the epoll set (guarded by the worker's mu)
	failures int  // read errors in a row (the worker's own)
}

type slotChunk [1 << chunkBits]atomic.Pointer[engineSocket]

// engineWorker owns an epoll set and the sockets in it. Its epoll data
// is a slot number; slots are looked up without a lock.
//
// The worker does not block in epoll_wait: a goroutine in a blocking
// syscall keeps its P until sysmon takes it back (up to 10 ms when sysmon
// idles), which stalled every other goroutine on a 2-core machine. The
// epoll fd is instead itself in Go's netpoller (it is readable while it
// has events), and the worker polls it without waiting.
type engineWorker struct {
	log    *slog.Logger
	epfd   int
	poller *os.File // epfd, parked on by Go's netpoller
	rc     syscall.RawConn
	wakefd int // eventfd: a remove request or stop is waiting
	slots  [maxChunks]atomic.Pointer[slotChunk]

	// mu guards what other goroutines hand the worker; the packet path
	// never takes it.
	mu       sync.Mutex
	stopped  bool // the worker has let go of its sockets
	stopping bool
	requests []removeRequest
	free     []int32
	nextSlot int32

	// The worker goroutine's own.
	events  []unix.EpollEvent
	batch   *msgBatch
	scratch []byte
}

func newEngineWorker(log *slog.Logger) (*engineWorker, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so that os.NewFile hands it to the netpoller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return nil, err
	}
	poller := os.NewFile(uintptr(epfd), "media-epoll")
	rc, err := poller.SyscallConn()
	if err != nil {
		_ = poller.Close()
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = poller.Close()
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeSlot}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = poller.Close()
		_ = unix.Close(wakefd)
		return nil, err
	}
	return &engineWorker{
		log: log, epfd: epfd, poller: poller, rc: rc, wakefd: wakefd,
		events:  make([]unix.EpollEvent, engineEvents),
		batch:   newMsgBatch(engineBatch, maxDatagram),
		scratch: make([]byte, 0, scratchCap),
	}, nil
}

// run serves the epoll set until stop.
func (w *engineWorker) run() {
	var n int
	var err error
	poll := func(fd uintptr) bool {
		n, err = unix.EpollWait(int(fd), w.events, 0)
		return n > 0 || (err != nil && !errors.Is(err, unix.EINTR))
	}
	for {
		if rerr := w.rc.Read(poll); rerr != nil || err != nil {
			w.log.Error("packet engine worker stopped", "err", errors.Join(rerr, err))
			w.shutdown()
			return
		}
		for _, ev := range w.events[:n] {
			if ev.Fd == wakeSlot {
				if w.control() {
					return
				}
				continue
			}
			if sock := w.socket(ev.Fd); sock != nil {
				w.drain(sock)
			}
		}
	}
}

func (w *engineWorker) socket(slot int32) *engineSocket {
	if c := w.slots[slot>>chunkBits].Load(); c != nil {
		return c[slot&(1<<chunkBits-1)].Load()
	}
	return nil
}

// drain relays what is queued on sock.
func (w *engineWorker) drain(sock *engineSocket) {
	for range engineDrainRounds {
		n, err := w.batch.recv(sock.conn.fd)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				return
			}
			if sock.failures++; sock.failures == maxReadFailures {
				w.log.Warn("media socket keeps failing, relaying on it stopped", "stream", sock.st.index,
					"leg", sock.side.leg.String(), "port", sock.side.port, "err", err)
				w.detach(sock, false)
			}
			return
		}
		sock.failures = 0
		for i := range n {
			pkt, src := w.batch.packet(i)
			sock.st.handle(sock.side, sock.conn, sock.rtpPort, pkt, src, w.scratch)
		}
		if n < len(w.batch.msgs) {
			return
		}
	}
}
