package loadgen

import "net/netip"

// Message is one datagram of a batch. On write, Buf is sent to Addr. On read,
// Buf is filled and N says how many bytes arrived; the source is not kept,
// because every packet names its call and direction in its payload. RxNs
// is when the kernel received it (CLOCK_REALTIME ns, SO_TIMESTAMPNS), 0
// if the kernel gave no stamp. Drops is the socket's count of datagrams
// dropped for want of buffer space, as of this one's arrival.
type Message struct {
	Buf   []byte
	N     int
	Addr  netip.AddrPort
	RxNs  int64
	Drops uint32
}

// DefaultBatch is how many datagrams one system call moves at most: large
// enough that a 20 ms burst of a few thousand calls takes a few dozen calls,
// small enough that the kernel headers of a batch stay in cache.
const DefaultBatch = 64

// DefaultSendBatch is smaller: on loopback the kernel does the receive work
// of each packet during or right after sendmmsg (about 2.5 µs each here),
// so a 64-packet batch would add up to 160 µs to the latency of its last
// packet, while the system call itself costs less than one packet.
const DefaultSendBatch = 16
