package secmedia

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v4/deadline"
)

// feedQueueLen is how many datagrams from the peer wait for the DTLS
// reader. A handshake flight is a handful of datagrams; more than this
// waiting means the reader is stuck or the peer floods, and dropping is
// what UDP would do (DTLS retransmits, RFC 6347 §4.2.4).
const feedQueueLen = 64

// maxDTLSDatagram bounds what Feed copies: a UDP payload never exceeds it.
const maxDTLSDatagram = 65535

// legAddr stands for the peer's transport address inside pion: the relay
// picks and latches the real one, so DTLS only ever has this one peer.
type legAddr struct{}

func (legAddr) Network() string { return "udp" }
func (legAddr) String() string  { return "dtls-leg" }

// feedConn is the net.PacketConn pion/dtls runs over: datagrams the relay
// hands to Feed come out of ReadFrom, and WriteTo goes to the relay's send
// function. It never touches a socket, so the relay keeps sole ownership of
// its ports.
type feedConn struct {
	queue   chan []byte
	closed  chan struct{}
	once    sync.Once
	send    func([]byte)
	dropped atomic.Uint64

	readDeadline *deadline.Deadline
}

func newFeedConn(send func([]byte)) *feedConn {
	return &feedConn{
		queue:        make(chan []byte, feedQueueLen),
		closed:       make(chan struct{}),
		send:         send,
		readDeadline: deadline.New(),
	}
}

// feed queues a copy of pkt without ever blocking; a datagram that finds
// the queue full, or the connection closed, is dropped and counted.
func (c *feedConn) feed(pkt []byte) {
	if len(pkt) == 0 || len(pkt) > maxDTLSDatagram {
		c.dropped.Add(1)
		return
	}
	select {
	case <-c.closed:
		c.dropped.Add(1)
		return
	default:
	}
	select {
	case c.queue <- append([]byte(nil), pkt...):
	default:
		c.dropped.Add(1)
	}
}

// ReadFrom returns the next fed datagram. It returns when the read
// deadline passes (pion sets one in the past to cancel a read) or the
// connection closes, so pion's reader always ends.
func (c *feedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case <-c.closed:
		return 0, nil, net.ErrClosed
	case <-c.readDeadline.Done():
		return 0, nil, os.ErrDeadlineExceeded
	case pkt := <-c.queue:
		return copy(b, pkt), legAddr{}, nil
	}
}

// WriteTo hands one datagram to the relay. The relay's send does not
// block, so neither does this.
func (c *feedConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.send(b)
	return len(b), nil
}

func (c *feedConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *feedConn) LocalAddr() net.Addr { return legAddr{} }

func (c *feedConn) SetDeadline(t time.Time) error {
	c.readDeadline.Set(t)
	return nil
}

func (c *feedConn) SetReadDeadline(t time.Time) error {
	c.readDeadline.Set(t)
	return nil
}

// SetWriteDeadline has nothing to bound: writes never wait.
func (c *feedConn) SetWriteDeadline(time.Time) error { return nil }
