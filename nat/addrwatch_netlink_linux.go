package nat

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netlinkAddrSource is the kernel: rtnetlink in one network namespace.
type netlinkAddrSource struct {
	ns *netns.NsHandle // nil: the current namespace
	h  *netlink.Handle
}

func newNetlinkAddrSource(ns *netns.NsHandle) (*netlinkAddrSource, error) {
	var h *netlink.Handle
	var err error
	if ns != nil {
		h, err = netlink.NewHandleAt(*ns, unix.NETLINK_ROUTE)
	} else {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("open netlink: %w", err)
	}
	return &netlinkAddrSource{ns: ns, h: h}, nil
}

func (s *netlinkAddrSource) subscribe(ch chan<- netlink.AddrUpdate, done <-chan struct{}, onError func(error)) error {
	return netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{
		Namespace:     s.ns,
		ErrorCallback: onError,
	})
}

func (s *netlinkAddrSource) list() ([]AddrEvent, error) {
	links, err := s.h.LinkList()
	if err != nil {
		return nil, err
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	addrs, err := s.h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	out := make([]AddrEvent, 0, len(addrs))
	for _, a := range addrs {
		if a.IPNet == nil {
			continue
		}
		out = append(out, AddrEvent{Added: true, Addr: prefixOf(*a.IPNet), LinkIndex: a.LinkIndex, LinkName: names[a.LinkIndex]})
	}
	return out, nil
}

func (s *netlinkAddrSource) linkName(index int) string {
	l, err := s.h.LinkByIndex(index)
	if err != nil {
		return ""
	}
	return l.Attrs().Name
}

func (s *netlinkAddrSource) close() { s.h.Close() }
