//go:build linux

package nat

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

func TestWatchAddressesInNetns(t *testing.T) {
	requireRoot(t)
	ns, h := newTestNetns(t)
	// A veth pair: dummy links need a kernel module containers may lack.
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nsbcw0"}, PeerName: "nsbcw1"}); err != nil {
		t.Fatalf("add veth: %v", err)
	}
	link, err := h.LinkByName("nsbcw0")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(link); err != nil {
		t.Fatal(err)
	}

	events := make(chan AddrEvent, 32)
	w, err := WatchAddresses(t.Context(), AddrWatchConfig{Netns: &ns, OnChange: func(e AddrEvent) { events <- e }})
	if err != nil {
		t.Fatalf("WatchAddresses: %v", err)
	}
	defer w.Close()

	// await skips other events (an IPv6 link-local address may come and
	// go as the link settles) until want arrives.
	await := func(want AddrEvent) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case e := <-events:
				if e == want {
					return
				}
			case <-deadline:
				t.Fatalf("no event %v", want)
			}
		}
	}
	a, _ := netlink.ParseAddr("10.98.0.1/24")
	if err := h.AddrAdd(link, a); err != nil {
		t.Fatalf("addr add: %v", err)
	}
	idx := link.Attrs().Index
	await(AddrEvent{Added: true, Addr: netip.MustParsePrefix("10.98.0.1/24"), LinkIndex: idx, LinkName: "nsbcw0"})
	if err := h.AddrDel(link, a); err != nil {
		t.Fatalf("addr del: %v", err)
	}
	await(AddrEvent{Added: false, Addr: netip.MustParsePrefix("10.98.0.1/24"), LinkIndex: idx, LinkName: "nsbcw0"})

	// Deleting the link takes its address with it; the event still names
	// the link, which can no longer be looked up.
	b, _ := netlink.ParseAddr("10.98.1.1/24")
	if err := h.AddrAdd(link, b); err != nil {
		t.Fatalf("addr add: %v", err)
	}
	await(AddrEvent{Added: true, Addr: netip.MustParsePrefix("10.98.1.1/24"), LinkIndex: idx, LinkName: "nsbcw0"})
	if err := h.LinkDel(link); err != nil {
		t.Fatalf("link del: %v", err)
	}
	await(AddrEvent{Added: false, Addr: netip.MustParsePrefix("10.98.1.1/24"), LinkIndex: idx, LinkName: "nsbcw0"})
}
