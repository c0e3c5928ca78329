//go:build linux

package natlab

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// DialUDP opens, from this test process, a UDP socket that lives in the lab
// namespace ns, connected to raddr.
func (l *Lab) DialUDP(t *testing.T, ns, raddr string) *net.UDPConn {
	t.Helper()
	var conn *net.UDPConn
	err := l.InNS(ns, func() error {
		ua, err := net.ResolveUDPAddr("udp4", raddr)
		if err == nil {
			conn, err = net.DialUDP("udp4", nil, ua)
		}
		return err
	})
	if err != nil {
		t.Fatalf("udp socket in %s: %v", ns, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// InNS runs f on a thread switched into the lab namespace ns. A socket
// keeps the namespace it was created in, so f creates sockets (and their
// connect) there and may use them anywhere afterwards. The switch happens
// on a locked thread of a goroutine of its own.
func (l *Lab) InNS(ns string, f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := runInNS("/run/netns/"+l.NS(ns), f)
		if restored {
			// Only a thread back in its own namespace may serve other goroutines;
			// otherwise it ends with this goroutine.
			runtime.UnlockOSThread()
		}
		ch <- err
	}()
	return <-ch
}

func runInNS(nsPath string, f func() error) (restored bool, err error) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return true, err
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return true, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("setns %s: %w", nsPath, err)
	}
	err = f()
	restored = unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil
	return restored, err
}
