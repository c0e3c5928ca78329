//go:build linux

package media

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
)

// packetEngine relays the streams whose sockets are real UDP sockets. A
// goroutine per socket costs a netpoller wake-up, a goroutine switch and
// an extra read that finds the socket empty for every packet; instead a
// few workers (one per P) each wait on an epoll set of their own and drain
// every socket it reports with recvmmsg. A stream's four sockets belong to
// one worker, which alone reads, writes and closes them: the packet path
// takes no lock, and what a stream keeps (latches, stats) has one writer.
type packetEngine struct {
	log     *slog.Logger
	workers []*engineWorker
	next    atomic.Uint32 // round-robin over workers
	wg      sync.WaitGroup
}

func newPacketEngine(log *slog.Logger) (*packetEngine, error) {
	e := &packetEngine{log: log}
	for range runtime.GOMAXPROCS(0) {
		w, err := newEngineWorker(log)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("media: packet engine: %w", err)
		}
		e.workers = append(e.workers, w)
		e.wg.Add(1)
		go func() { defer e.wg.Done(); w.run() }()
	}
	return e, nil
}

// close stops the workers and waits for them; streams still on them have
// their sockets closed.
func (e *packetEngine) close() {
	for _, w := range e.workers {
		w.stop()
	}
	e.wg.Wait()
}

// engineStream is a stream's place in the engine: its worker and sockets.
type engineStream struct {
	w     *engineWorker
	socks [4]*engineSocket
}

func (es *engineStream) active() bool { return es.w != nil }

// start moves st onto a worker when its four sockets are *net.UDPConn; it
// returns false (st keeps a goroutine per socket) for other sockets, or
// when a descriptor cannot be duplicated.
func (e *packetEngine) start(st *relayStream) bool {
	var conns [4]*net.UDPConn
	for i, s := range st.sides {
		var ok1, ok2 bool
		conns[2*i], ok1 = s.rtp.(*net.UDPConn)
		conns[2*i+1], ok2 = s.rtcp.(*net.UDPConn)
		if !ok1 || !ok2 {
			return false
		}
	}
	var raws [4]*rawSocket
	for i, c := range conns {
		r, err := dupUDPConn(c)
		if err != nil {
			for _, done := range raws[:i] {
				_ = done.Close()
			}
			e.log.Warn("relay socket stays on its own goroutine", "err", err)
			return false
		}
		raws[i] = r
	}
	for _, c := range conns {
		_ = c.Close() // out of Go's netpoller: only the engine's epoll sees the socket now
	}
	w := e.workers[int(e.next.Add(1))%len(e.workers)]
	st.engine.w = w
	for i, s := range st.sides {
		s.rtp, s.rtcp = raws[2*i], raws[2*i+1]
		st.engine.socks[2*i] = &engineSocket{st: st, side: s, conn: raws[2*i], rtpPort: true}
		st.engine.socks[2*i+1] = &engineSocket{st: st, side: s, conn: raws[2*i+1]}
	}
	for _, sock := range st.engine.socks {
		if err := w.attach(sock); err != nil {
			// The socket stays open, unread, until the stream closes.
			e.log.Error("relay socket not polled", "stream", st.index,
				"leg", sock.side.leg.String(), "port", sock.side.port, "err", err)
		}
	}
	return true
}

// stop takes st's sockets off its worker and closes them; once it returns
// the worker no longer touches st.
func (es *engineStream) stop(st *relayStream) { es.w.remove(st) }
