//go:build !linux

package loadgen

import "net"

// BatchConn falls back to one datagram per system call where recvmmsg(2)
// and sendmmsg(2) do not exist: correct, but not the measured fast path.
type BatchConn struct {
	c    *net.UDPConn
	size int
}

// NewBatchConn wraps c for batches of at most size datagrams.
func NewBatchConn(c *net.UDPConn, size int) (*BatchConn, error) {
	if size <= 0 {
		size = DefaultBatch
	}
	return &BatchConn{c: c, size: size}, nil
}

// ReadBatch waits for one datagram and fills ms[0].
func (b *BatchConn) ReadBatch(ms []Message) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	n, _, err := b.c.ReadFromUDPAddrPort(ms[0].Buf)
	if err != nil {
		return 0, err
	}
	ms[0].N = n
	return 1, nil
}

// WriteBatch sends up to one batch of ms, one datagram at a time.
func (b *BatchConn) WriteBatch(ms []Message) (int, error) {
	n := min(len(ms), b.size)
	for i := range n {
		if _, err := b.c.WriteToUDPAddrPort(ms[i].Buf, ms[i].Addr); err != nil {
			return i, err
		}
	}
	return n, nil
}

// EnableRxTimestamps is not available here: ReadBatch reports RxNs 0 and
// the receiver stamps packets when it reads them.
func EnableRxTimestamps(c *net.UDPConn) error { return nil }
