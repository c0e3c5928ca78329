package main

import (
	"net"

	"golang.org/x/sys/unix"
)

// sipReceiveBuffer is the receive buffer natsbc asks for on each UDP SIP
// socket. One goroutine reads a socket, and peers send in bursts: a PBX
// fans out a wave of INVITEs, and keepalive answers of many phones come
// back within one tick. The kernel default (~208 KiB) overflowed at
// 1,500 calls/s in the bench, and every drop came back as a 500 ms
// retransmission.
const sipReceiveBuffer = 4 << 20

// growReceiveBuffer asks for sipReceiveBuffer bytes. SO_RCVBUFFORCE passes
// net.core.rmem_max when natsbc has CAP_NET_ADMIN; without it SO_RCVBUF
// gets what rmem_max allows. It returns the size the kernel granted (it
// reports twice the usable size, see socket(7)); 0 if it cannot tell.
func growReceiveBuffer(pc net.PacketConn) int {
	conn, ok := pc.(*net.UDPConn)
	if !ok {
		return 0
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0
	}
	granted := 0
	_ = raw.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sipReceiveBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, sipReceiveBuffer)
		}
		granted, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	return granted
}
