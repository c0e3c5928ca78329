//go:build linux

package media

import (
	"encoding/binary"
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

type removeRequest struct {
	st   *relayStream
	done chan struct{}
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
		scratch: make([]byte, 0, stunAnswerCap),
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
			w.log.Error("media: packet engine worker stopped", "err", errors.Join(rerr, err))
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

// attach adds sock to the epoll set.
func (w *engineWorker) attach(sock *engineSocket) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return errors.New("worker stopped")
	}
	slot := w.nextSlot
	if n := len(w.free); n > 0 {
		slot, w.free = w.free[n-1], w.free[:n-1]
	} else if slot>>chunkBits >= maxChunks {
		return errors.New("worker full")
	}
	c := w.slots[slot>>chunkBits].Load()
	if c == nil {
		c = new(slotChunk)
		w.slots[slot>>chunkBits].Store(c)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: slot}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, sock.conn.fd, &ev); err != nil {
		return err
	}
	if slot == w.nextSlot {
		w.nextSlot++
	}
	sock.slot, sock.attached = slot, true
	c[slot&(1<<chunkBits-1)].Store(sock)
	return nil
}

// detach takes sock out of the epoll set and frees its slot; closing
// also closes the socket. Called by the worker, or once it has stopped.
func (w *engineWorker) detach(sock *engineSocket, closing bool) {
	w.mu.Lock()
	if sock.attached {
		sock.attached = false
		if w.epfd >= 0 { // else closed by shutdown, and the socket with it
			_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, sock.conn.fd, nil)
		}
		w.slots[sock.slot>>chunkBits].Load()[sock.slot&(1<<chunkBits-1)].Store(nil)
		w.free = append(w.free, sock.slot)
	}
	w.mu.Unlock()
	if closing {
		_ = sock.conn.Close()
	}
}

// remove detaches and closes st's sockets, by the worker unless it has
// stopped, and returns when the worker no longer touches st.
func (w *engineWorker) remove(st *relayStream) {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		w.closeStream(st)
		return
	}
	done := make(chan struct{})
	w.requests = append(w.requests, removeRequest{st, done})
	w.wakeLocked()
	w.mu.Unlock()
	<-done
}

func (w *engineWorker) closeStream(st *relayStream) {
	for _, sock := range st.engine.socks {
		w.detach(sock, true)
	}
}

// stop makes the worker close what it still serves and return.
func (w *engineWorker) stop() {
	w.mu.Lock()
	w.stopping = true
	w.wakeLocked()
	w.mu.Unlock()
}

// wakeLocked signals the worker (w.mu held, so shutdown cannot have
// closed the eventfd and let its number be reused).
func (w *engineWorker) wakeLocked() {
	if w.wakefd < 0 {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(w.wakefd, one[:])
}

// control serves remove requests; it reports whether the worker must stop.
func (w *engineWorker) control() bool {
	var buf [8]byte
	_, _ = unix.Read(w.wakefd, buf[:])
	w.mu.Lock()
	reqs, stopping := w.requests, w.stopping
	w.requests = nil
	w.mu.Unlock()
	for _, r := range reqs {
		w.closeStream(r.st)
		close(r.done)
	}
	if stopping {
		w.shutdown()
	}
	return stopping
}

// shutdown lets go of everything: later removes close their sockets
// themselves, and requests still queued are served now.
func (w *engineWorker) shutdown() {
	w.mu.Lock()
	w.stopped = true
	reqs := w.requests
	w.requests = nil
	w.mu.Unlock()
	for _, r := range reqs {
		w.closeStream(r.st)
		close(r.done)
	}
	w.mu.Lock()
	_ = w.poller.Close()
	_ = unix.Close(w.wakefd)
	w.epfd, w.wakefd = -1, -1
	w.mu.Unlock()
}
