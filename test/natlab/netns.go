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
// namespace ns, connected to raddr. A socket keeps the namespace it was
// created in, so only its creation needs the namespace switch, done on a
// locked thread of a goroutine of its own.
func (l *Lab) DialUDP(t *testing.T, ns, raddr string) *net.UDPConn {
	t.Helper()
	type result struct {
		conn *net.UDPConn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		conn, restored, err := dialInNS("/run/netns/"+l.NS(ns), raddr)
		if restored {
			// Only a thread back in its own namespace may serve other goroutines;
			// otherwise it ends with this goroutine.
			runtime.UnlockOSThread()
		}
		ch <- result{conn, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("udp socket in %s: %v", ns, r.err)
	}
	t.Cleanup(func() { r.conn.Close() })
	return r.conn
}

func dialInNS(nsPath, raddr string) (conn *net.UDPConn, restored bool, err error) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, true, err
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, true, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("setns %s: %w", nsPath, err)
	}
	ua, err := net.ResolveUDPAddr("udp4", raddr)
	if err == nil {
		conn, err = net.DialUDP("udp4", nil, ua)
	}
	restored = unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil
	return conn, restored, err
}
