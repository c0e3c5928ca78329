package sbc

import (
	"errors"
	"fmt"
	"net/netip"
)

// errNoSocket means no served socket can reach a destination on a network.
var errNoSocket = errors.New("no listening socket for this transport")

// facing picks the socket whose interface faces dst, and the local address
// natsbc advertises there. The route lookup (netlink) tells which local
// address the kernel would send from; a socket bound to exactly that address
// wins, then a wildcard socket, then any socket of the network (the
// configuration's order is the fallback when the lookup fails).
func (s *Server) facing(network string, dst netip.Addr) (*socket, netip.AddrPort, error) {
	if only := s.onlyBoundSocket(network); only != nil {
		// Nothing the lookup could say would change the answer, and it
		// costs a netlink round trip per call.
		return only, only.advertised(only.local.Addr()), nil
	}
	var src netip.Addr
	if s.router != nil {
		if a, err := s.router.SourceFor(dst); err == nil {
			src = a.Unmap()
		}
	}
	var exact, wild, first *socket
	for _, sock := range s.sockets {
		if sock.network != network {
			continue
		}
		if first == nil {
			first = sock
		}
		if src.IsValid() && sock.local.Addr() == src && exact == nil {
			exact = sock
		}
		if sock.wildcard() && wild == nil {
			wild = sock
		}
	}
	chosen := exact
	if chosen == nil {
		chosen = wild
	}
	if chosen == nil {
		chosen = first
	}
	if chosen == nil {
		return nil, netip.AddrPort{}, fmt.Errorf("%w: %s", errNoSocket, network)
	}
	if !src.IsValid() {
		src = chosen.local.Addr()
	}
	return chosen, chosen.advertised(src), nil
}

// onlyBoundSocket returns the socket of network when it is the only one
// and bound to a specific address: facing would choose it whatever the route
// lookup said, and it advertises its own address, not the one facing dst.
func (s *Server) onlyBoundSocket(network string) *socket {
	var only *socket
	for _, sock := range s.sockets {
		if sock.network != network {
			continue
		}
		if only != nil {
			return nil
		}
		only = sock
	}
	if only == nil || only.wildcard() {
		return nil
	}
	return only
}

// arrivedOn returns the socket a message arrived on, from the local address
// of its connection, and the address natsbc advertises to that peer. A UDP
// wildcard socket reports an unspecified local IP, so the route towards the
// source tells the interface; a TCP connection natsbc opened itself has an
// ephemeral port and belongs to the socket that faces the peer.
func (s *Server) arrivedOn(network string, local netip.AddrPort, source netip.Addr) (*socket, netip.AddrPort, error) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	for _, sock := range s.sockets {
		if sock.network != network || sock.local.Port() != local.Port() {
			continue
		}
		if sock.local.Addr() != local.Addr() && !sock.wildcard() {
			continue
		}
		facingAddr := local.Addr()
		if facingAddr.IsUnspecified() {
			if _, a, err := s.facing(network, source); err == nil {
				facingAddr = a.Addr()
			}
		}
		return sock, sock.advertised(facingAddr), nil
	}
	return s.facing(network, source)
}
