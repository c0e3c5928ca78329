package sbc

import "github.com/natsbc/natsbc/nat"

// onAddressChange follows the host's addresses (netlink events: a DHCP
// renew on the outside interface, an interface going away). Sockets bound
// to the wildcard address advertise whatever the live route lookup says,
// so they follow by themselves; a STUN-advertised address is re-learnt at
// once, and a socket bound to an address that vanished is worth a warning.
func (s *Server) onAddressChange(ev nat.AddrEvent) {
	s.log.Info("local address changed", "added", ev.Added, "addr", ev.Addr.String(), "link", ev.LinkName)
	s.refreshPublicAddresses()
	if ev.Added {
		return
	}
	for _, sock := range s.sockets {
		if !sock.wildcard() && sock.local.Addr() == ev.Addr.Addr() {
			s.log.Warn("a listening address was removed from its interface", "listener", sock.String())
		}
	}
}
