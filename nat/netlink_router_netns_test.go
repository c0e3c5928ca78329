//go:build linux

package nat

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// requireRoot skips without root, except in CI where a skipped netns test
// would hide a regression.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this test needs root (CI is set)")
	}
	t.Skip("needs root to create a network namespace")
}

// newTestNetns creates a fresh network namespace and returns it with a
// netlink handle bound to it; the test's own thread goes back to where it
// was, so the host's routes and addresses are never touched.
func newTestNetns(t *testing.T) (netns.NsHandle, *netlink.Handle) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("netns.Get: %v", err)
	}
	defer orig.Close()
	ns, err := netns.New() // also switches this thread into ns
	if err != nil {
		t.Fatalf("netns.New: %v", err)
	}
	if err := netns.Set(orig); err != nil {
		ns.Close()
		t.Fatalf("restore netns: %v", err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		t.Fatalf("NewHandleAt: %v", err)
	}
	// The namespace (and its veths) vanish once nothing refers to it.
	t.Cleanup(func() { h.Close(); ns.Close() })
	return ns, h
}

func TestNetlinkRouterPicksFacingAddress(t *testing.T) {
	requireRoot(t)
	_, h := newTestNetns(t)

	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nsbc0"}, PeerName: "nsbc1"}
	if err := h.LinkAdd(veth); err != nil {
		t.Fatalf("add veth: %v", err)
	}
	addrs := map[string]string{"nsbc0": "10.99.1.1/24", "nsbc1": "10.99.2.1/24"}
	for name, cidr := range addrs {
		link, err := h.LinkByName(name)
		if err != nil {
			t.Fatalf("link %s: %v", name, err)
		}
		a, _ := netlink.ParseAddr(cidr)
		if err := h.AddrAdd(link, a); err != nil {
			t.Fatalf("addr %s on %s: %v", cidr, name, err)
		}
		if err := h.LinkSetUp(link); err != nil {
			t.Fatalf("up %s: %v", name, err)
		}
	}
	// A route without a preferred source exercises the link-address path.
	link1, _ := h.LinkByName("nsbc1")
	_, dst3, _ := net.ParseCIDR("10.99.3.0/24")
	if err := h.RouteAdd(&netlink.Route{LinkIndex: link1.Attrs().Index, Dst: dst3, Scope: netlink.SCOPE_LINK}); err != nil {
		t.Fatalf("route add: %v", err)
	}

	r := netlinkRouter{h: h}
	cases := []struct{ dst, want string }{
		{"10.99.1.50", "10.99.1.1"},
		{"10.99.2.50", "10.99.2.1"},
		{"10.99.3.7", "10.99.2.1"},
	}
	for _, c := range cases {
		got, err := r.SourceFor(netip.MustParseAddr(c.dst))
		if err != nil || got != netip.MustParseAddr(c.want) {
			t.Errorf("SourceFor(%s) = %v, %v; want %s", c.dst, got, err, c.want)
		}
	}
	if _, err := r.SourceFor(netip.MustParseAddr("198.51.100.1")); err == nil {
		t.Error("no default route in the namespace, yet a source was found")
	}
}
