package media

import (
	"net/netip"
	"sync/atomic"
)

// sidePolicy is what the packet path needs to know of one leg's peer for
// one stream. The session replaces it whole when the peer's SDP or PeerInfo
// changes; readers load it without a lock.
type sidePolicy struct {
	// Strict latching (RFC 7362 §5.2): only the peer's SIP source IP or its
	// SDP address may latch.
	signalIP, sdpIP netip.Addr
	relaxed         bool
	// auth, when set (latching: srtp-auth on an SDES-SRTP stream), replaces
	// the address rule for latching: any source may latch inside the
	// window, but only with a packet that authenticates with the peer's key.
	auth *srtpAuth
	// windowEnd (anchor clock) ends the time in which a new source may latch.
	windowEnd int64
	// rtcpMux: this peer takes its RTCP on its RTP port (RFC 5761 §5.1.3;
	// set when both offer and answer carry a=rtcp-mux).
	rtcpMux bool
	// carriage is how the stream's packets are told apart (its m= protocol).
	carriage   carriage
	clockRates [128]uint32
	// secure, when set, is natsbc's end of the peer's SRTP: packets are
	// decrypted as they come and encrypted as they go (relay_secure.go).
	secure *secureLeg
	// iceOnly: the peer does ICE with natsbc's ICE-lite end, so only an
	// authenticated connectivity check moves where its media goes.
	iceOnly bool
	// decrypts: packets reach admit only once they decrypted with the
	// peer's key (relay_secure.go), so any source may latch with one
	// inside the window, as with auth. Who gets STUN answers is still the
	// address rule's question.
	decrypts bool
}

// mayLatchFrom is the address rule alone, without the window. It also
// decides whom STUN is answered, so the relay cannot be used to reflect
// traffic at third parties.
func (p *sidePolicy) mayLatchFrom(ip netip.Addr) bool {
	if p == nil {
		return false // nothing known of this peer yet
	}
	return p.relaxed || p.addressRule(ip)
}

// addressRule is strict latching's rule alone (RFC 7362 §5.2): the peer's
// SIP source IP or its SDP address.
func (p *sidePolicy) addressRule(ip netip.Addr) bool {
	return ip.IsValid() && (ip == p.signalIP || ip == p.sdpIP)
}

// latch is the destination of one of a peer's media ports (RTP or RTCP):
// where natsbc sends it, and the only source relayed from it once the
// window has closed (RFC 4961 symmetric RTP).
type latch struct {
	dest atomic.Pointer[netip.AddrPort] // nil: not known yet (a NATed peer before its first packet)
}

// admit decides on packet pkt from src (RFC 7362 §5): the current
// destination passes; another source latches if the policy lets it now,
// else the packet is dropped. latched reports a new destination. rtcp
// says pkt is (S)RTCP, for the SRTP authentication check; rx, for RTP,
// is the stream's receive state (its rollovers), owned by the caller.
func (l *latch) admit(src netip.AddrPort, now int64, p *sidePolicy, pkt []byte, rtcp bool, rx *rxStats) (ok, latched bool) {
	if d := l.dest.Load(); d != nil && *d == src {
		return true, false
	}
	if p == nil || now >= p.windowEnd || p.iceOnly {
		return false, false
	}
	if p.auth != nil {
		var roc rolloverHint
		if !rtcp && rx != nil {
			roc.count, roc.known = rx.rollovers(pkt)
		}
		if !p.auth.verifies(pkt, rtcp, roc) {
			return false, false
		}
	} else if !p.decrypts && !p.mayLatchFrom(src.Addr()) {
		return false, false
	}
	l.point(src)
	return true, true
}

// target is the current destination, if any.
func (l *latch) target() (netip.AddrPort, bool) {
	if d := l.dest.Load(); d != nil {
		return *d, true
	}
	return netip.AddrPort{}, false
}

// point sets the destination from SDP (a public peer) before any packet.
// It allocates, once per latch: taking src's address in admit instead
// would move every packet's source to the heap.
func (l *latch) point(to netip.AddrPort) {
	d := new(netip.AddrPort)
	*d = to
	l.dest.Store(d)
}
