package sbc

import (
	"net/netip"

	"github.com/natsbc/natsbc/nat"
)

// A call between two phones that both sit behind natsbc crosses it twice:
// phone → natsbc → PBX → natsbc → phone. What the PBX passes on then names
// natsbc itself: the SDP of one call is natsbc's relay address of the
// other, and a proxying PBX (Kamailio) even passes natsbc's own Contact. To
// the NAT checks those look like a private address that is not the source,
// so the PBX's legs were judged NATed, each relay side waited for the
// other's first packet before sending, and the phones heard nothing.
// natsbc's own addresses say nothing about a NAT: the checks skip them.

// noteRelayAddr remembers an address natsbc wrote into an SDP.
func (s *Server) noteRelayAddr(a netip.Addr) {
	if _, ok := s.relayAddrs.Load(a); !ok {
		s.relayAddrs.Store(a, struct{}{})
	}
}

// isRelayAddr reports whether natsbc wrote a into an SDP.
func (s *Server) isRelayAddr(a netip.Addr) bool {
	_, ok := s.relayAddrs.Load(a.Unmap())
	return ok
}

// withoutOwnAddrs drops natsbc's own addresses from what the NAT checks
// see of a message's Contact and SDP.
func (s *Server) withoutOwnAddrs(obs nat.Observation) nat.Observation {
	if ip, err := netip.ParseAddr(obs.ContactHost); err == nil && s.isRelayAddr(ip) {
		obs.ContactHost, obs.ContactPort = "", 0
	}
	kept := obs.SDPAddrs[:0:0]
	for _, a := range obs.SDPAddrs {
		if !s.isRelayAddr(a) {
			kept = append(kept, a)
		}
	}
	obs.SDPAddrs = kept
	return obs
}
