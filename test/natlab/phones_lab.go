//go:build linux

package natlab

import (
	"fmt"
	"os/exec"
	"testing"
)

// PhoneLAN is one more home network behind the lab's NAT: a namespace of
// its own with one phone host, linked to the NAT router on a subnet of its
// own, so real phones (one process each, all wanting port 5060) sit side by
// side behind the same port-randomising NAT.
type PhoneLAN struct {
	Role string // namespace role, "lan<n>"
	IP   string // the phone host: 192.168.<n>.10
}

// AddPhoneLAN adds LAN n (2..254): namespace role "lan<n>" with
// 192.168.<n>.10 on eth0, default route via the router's 192.168.<n>.1
// on its interface "lan<n>". The router's MASQUERADE --random rule covers
// it (it matches on the public interface). It goes away in t.Cleanup.
func (l *Lab) AddPhoneLAN(t *testing.T, n int) PhoneLAN {
	t.Helper()
	if n < 2 || n > 254 {
		t.Fatalf("AddPhoneLAN(%d): n must be 2..254 (LAN 1 is the lab's own)", n)
	}
	p := PhoneLAN{Role: fmt.Sprintf("lan%d", n), IP: fmt.Sprintf("192.168.%d.10", n)}
	ns := l.NS(p.Role)
	l.mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	l.mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	l.link(t, p.Role, "eth0", NSNAT, p.Role)
	gw := fmt.Sprintf("192.168.%d.1", n)
	l.addr(t, p.Role, "eth0", p.IP+"/24")
	l.addr(t, NSNAT, p.Role, gw+"/24")
	l.mustRun(t, "ip", "-n", ns, "route", "add", "default", "via", gw)
	return p
}

// LAN1 is the lab's own phone host (NewLab's "lan" namespace).
var LAN1 = PhoneLAN{Role: NSLan, IP: PhoneIP}
