//go:build linux

package loadgen

import (
	"errors"
	"net"
	"syscall"
)

// TuneBuffers asks for bytes of kernel receive and send buffer: a 20 ms
// burst of thousands of calls must fit while the reader is off the CPU.
// The ordinary request is capped by net.core.rmem_max/wmem_max; with
// CAP_NET_ADMIN the FORCE variants pass the cap. It returns the receive
// buffer the kernel granted (which counts its own overhead, so about twice
// the request).
func TuneBuffers(c *net.UDPConn, bytes int) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	var errs []error
	ctlErr := raw.Control(func(fd uintptr) {
		for _, o := range [][2]int{{syscall.SO_RCVBUFFORCE, syscall.SO_RCVBUF}, {syscall.SO_SNDBUFFORCE, syscall.SO_SNDBUF}} {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o[0], bytes) != nil {
				errs = append(errs, syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o[1], bytes))
			}
		}
		got, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		errs = append(errs, err)
	})
	return got, errors.Join(append(errs, ctlErr)...)
}
