package main

import (
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func receiveBuffer(t *testing.T, pc net.PacketConn) int {
	t.Helper()
	raw, err := pc.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	if err := raw.Control(func(fd uintptr) { size, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil {
		t.Fatal(err)
	}
	return size
}

// The SIP socket's buffer grows past the kernel default: to the full size
// as root (SO_RCVBUFFORCE; the kernel reports twice the usable size), else
// at least as far as it was.
func TestGrowReceiveBuffer(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	before := receiveBuffer(t, pc)
	got := growReceiveBuffer(pc)
	if got != receiveBuffer(t, pc) {
		t.Fatalf("reported %d, socket has %d", got, receiveBuffer(t, pc))
	}
	if os.Geteuid() == 0 {
		if got < 2*sipReceiveBuffer {
			t.Fatalf("as root: receive buffer %d, want %d", got, 2*sipReceiveBuffer)
		}
		return
	}
	if got < before {
		t.Fatalf("receive buffer shrank: %d -> %d", before, got)
	}
}
