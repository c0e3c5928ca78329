package nat

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// netlinkRouter asks the kernel's routing table (RTM_GETROUTE), so policy
// routing, multiple interfaces and address changes are all honoured without
// natsbc keeping its own copy.
type netlinkRouter struct {
	h *netlink.Handle // nil: the calling thread's network namespace
}

// NewNetlinkRouter returns a Router backed by the kernel's route lookup.
func NewNetlinkRouter() Router { return netlinkRouter{} }

func (r netlinkRouter) SourceFor(dst netip.Addr) (netip.Addr, error) {
	if !dst.IsValid() {
		return netip.Addr{}, fmt.Errorf("%w: invalid destination", ErrNoRoute)
	}
	dst = dst.WithZone("").Unmap()
	routes, err := r.routeGet(net.IP(dst.AsSlice()))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("nat: route lookup for %s: %w", dst, err)
	}
	for _, rt := range routes {
		if src, ok := netip.AddrFromSlice(rt.Src); ok && !src.IsUnspecified() {
			return src.Unmap(), nil
		}
		// No preferred source on the route: take the outgoing link's first
		// address of the destination's family.
		if a, ok := r.firstAddrOf(rt.LinkIndex, dst); ok {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w %s", ErrNoRoute, dst)
}

func (r netlinkRouter) routeGet(ip net.IP) ([]netlink.Route, error) {
	if r.h != nil {
		return r.h.RouteGet(ip)
	}
	return netlink.RouteGet(ip)
}

func (r netlinkRouter) firstAddrOf(linkIndex int, dst netip.Addr) (netip.Addr, bool) {
	if linkIndex <= 0 {
		return netip.Addr{}, false
	}
	linkByIndex, addrList := netlink.LinkByIndex, netlink.AddrList
	if r.h != nil {
		linkByIndex, addrList = r.h.LinkByIndex, r.h.AddrList
	}
	link, err := linkByIndex(linkIndex)
	if err != nil {
		return netip.Addr{}, false
	}
	family := netlink.FAMILY_V4
	if dst.Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := addrList(link, family)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		// A link-local source cannot reach a global destination.
		if ip.IsLinkLocalUnicast() && !dst.IsLinkLocalUnicast() {
			continue
		}
		return ip.Unmap(), true
	}
	return netip.Addr{}, false
}
