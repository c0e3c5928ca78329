// Package policy holds natsbc's pure decisions: who a peer is, where a
// request goes, and whether a message's Contact may be "fixed" to its
// source. It performs no I/O and imports nothing of the project.
package policy

import (
	"net/netip"
	"strings"
)

// Role says what kind of SIP element a peer is. It decides whether natsbc
// may ever replace that peer's Contact with the address a message came from.
type Role string

const (
	// RoleEndpoint is a phone or soft client: the only kind whose Contact
	// natsbc may fix when it is NATed.
	RoleEndpoint Role = "endpoint"
	// RolePBX, RoleProxy and RoleTrunk forward on behalf of others and stay
	// in the path: their Contact is never replaced by their source address
	// (that is the "excessive NAT handling" that loses the callee).
	RolePBX   Role = "pbx"
	RoleProxy Role = "proxy"
	RoleTrunk Role = "trunk"
)

// Forwards reports whether peers of this role relay messages of others.
func (r Role) Forwards() bool { return r == RolePBX || r == RoleProxy || r == RoleTrunk }

// NATMode is the per-peer override of NAT detection.
type NATMode string

const (
	// NATAuto fixes a Contact only when the checks say the peer is a NATed
	// end-point and the message came straight from it.
	NATAuto NATMode = "auto"
	// NATAlways replaces the Contact host:port by the source of the message
	// (keeping the user part): for carriers that advertise unroutable Contacts.
	NATAlways NATMode = "always"
	// NATNever never fixes, whatever the checks say.
	NATNever NATMode = "never"
)

// Peer is a configured SIP neighbour. The zero Name means "unknown peer",
// which is treated as an end-point with NAT detection on.
type Peer struct {
	Name string
	// Networks are the source prefixes that identify this peer.
	Networks []netip.Prefix
	// Address is where requests routed to this peer are sent (host:port);
	// empty when the peer is never a routing target.
	Address string
	// Transport is "udp", "tcp" or "tls" for requests sent to Address; "" (when
	// Address is a host name without port) lets NAPTR choose.
	Transport string
	Role      Role
	NAT       NATMode
	// Latch says which sources may latch this peer's media: LatchStrict
	// ("" means the same) or LatchRelaxed.
	Latch string
	// Domains are the host names this peer answers to in a Request-URI
	// (its SIP domains). A request routed to the peer whose Request-URI
	// names one of them, the peer's address host or an address of its
	// networks keeps its Request-URI on the B-leg; "*" keeps every
	// Request-URI (a PBX checking the digest uri needs it unchanged).
	Domains []string
	// KeepICE keeps a=candidate and a=ice-* in the SDP this peer sends;
	// by default they are removed so the other side talks only to the relay.
	KeepICE bool
	// SRTP is the media security natsbc speaks with this peer: "none",
	// "sdes", "dtls" or "passthrough"; "" leaves it to the socket's or the
	// media default.
	SRTP string
	// TrustIdentity lets this peer's P-Asserted-Identity,
	// P-Preferred-Identity, Remote-Party-ID and Privacy headers through
	// (RFC 3325 §5: a trust domain accepts asserted identities only from
	// its members); from anyone else natsbc removes them.
	TrustIdentity bool
	// Redirect says what natsbc does with a 3xx this peer answers an
	// INVITE with: RedirectFollow ("" means the same) or RedirectRelay.
	Redirect string
	// LargeRequests says how a request above the UDP size limit (RFC 3261
	// §18.1.1) reaches this peer when it is sent UDP: LargeRequestsTCP (""
	// means the same) or LargeRequestsUDP.
	LargeRequests string
	// MaxCalls bounds the calls this peer takes part in at once, as caller
	// or callee (0: no bound); over it an INVITE gets 503.
	MaxCalls int
	// MaxCPS bounds the new calls per second this peer takes part in, as
	// caller or callee (call admission control; 0: no bound). A second's
	// worth may come at once; over it an INVITE gets 503.
	MaxCPS int
}

// What natsbc does with a peer's 3xx (RFC 3261 §8.1.3.4).
const (
	// RedirectFollow: natsbc sends the INVITE to the Contacts its routes
	// allow itself; the caller sees only the outcome.
	RedirectFollow = "follow"
	// RedirectRelay: the caller gets the 3xx with its Contacts.
	RedirectRelay = "relay"
)

// RelaysRedirects reports whether this peer's 3xx go to the caller as they are.
func (p Peer) RelaysRedirects() bool { return p.Redirect == RedirectRelay }

// How requests too large for UDP reach a peer (RFC 3261 §18.1.1).
const (
	// LargeRequestsTCP sends them over TCP to the same address, and as one
	// UDP datagram when the peer refuses the connection.
	LargeRequestsTCP = "tcp"
	// LargeRequestsUDP always sends them as one UDP datagram (fragmented
	// by IP): for peers that listen on UDP only behind a firewall that
	// drops TCP, where each attempt would cost the connect timeout.
	LargeRequestsUDP = "udp"
)

// LargeOverUDP reports whether requests too large for UDP still go UDP.
func (p Peer) LargeOverUDP() bool { return p.LargeRequests == LargeRequestsUDP }

// Latching modes of a peer's media (RFC 7362 §5.2).
const (
	// LatchStrict lets only the peer's signalling source IP or its SDP
	// address latch: packets from anyone else are dropped (the defence
	// against RTP bleed and injection, CVE-2017-14114).
	LatchStrict = "strict"
	// LatchRelaxed lets any source latch inside the window after an SDP
	// change: for peers whose media leaves from other hosts than their SIP
	// (split signalling/media carriers).
	LatchRelaxed = "relaxed"
	// LatchSRTPAuth lets any source latch inside the window, but only with
	// a packet whose SRTP authentication tag verifies with the key the
	// peer's SDP offered (a=crypto); strict for streams without one.
	LatchSRTPAuth = "srtp-auth"
)

// RelaxedLatch reports whether any source may latch this peer's media.
func (p Peer) RelaxedLatch() bool { return p.Latch == LatchRelaxed }

// Known reports whether the peer came from configuration.
func (p Peer) Known() bool { return p.Name != "" }

// locatedByName reports whether a peer address is a host name without port:
// RFC 3263 then finds the transport (NAPTR) and port (SRV) unless the peer
// sets its transport.
func locatedByName(address string) bool {
	host, port, err := SplitPeerAddress(address)
	if err != nil || port != 0 {
		return false
	}
	_, err = netip.ParseAddr(host)
	return err != nil
}

// NamedBy reports whether a Request-URI host names this peer: one of its
// Domains (or "*"), the host of its Address, or an address in its Networks.
func (p Peer) NamedBy(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	for _, d := range p.Domains {
		if d == "*" || strings.EqualFold(strings.TrimSuffix(d, "."), host) {
			return true
		}
	}
	if h, _, err := SplitPeerAddress(p.Address); err == nil && strings.EqualFold(h, host) {
		return true
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		for _, n := range p.Networks {
			if n.Contains(ip.Unmap()) {
				return true
			}
		}
	}
	return false
}
