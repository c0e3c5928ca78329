//go:build linux

package media

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// What other goroutines ask of a worker: sockets in, streams out, stop.
// All of it goes through the worker's mu, which the packet path never
// takes; a stream's sockets are closed by the worker itself (or once it
// has stopped), so no descriptor is closed while it may still be in use.

type removeRequest struct {
	st   *relayStream
	done chan struct{}
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
