package nat

import (
	"net/netip"
	"strings"
)

// Kind labels a binding for logs and for the keepalive decision. The
// strings are stable: they appear in logs and on recorded bindings.
type Kind string

const (
	// KindNoNAT: nothing says the peer is translated.
	KindNoNAT Kind = "no NAT"
	// KindNAT: Detect found strong evidence of a NAT the peer does not
	// know about (private Contact/Via, ports that differ).
	KindNAT Kind = "NAT"
	// KindNATAware: the Contact is the mapped address natsbc returned via
	// STUN and the message came from exactly there: the phone learned its
	// public mapping and it holds (RFC 5389 §2, NAT discovery use).
	KindNATAware Kind = "NAT-aware"
	// KindSymmetricNAT: the Contact is a mapped address natsbc returned
	// via STUN but the message came from elsewhere: the NAT gave the SIP
	// traffic another mapping than the STUN traffic, i.e. its mapping is
	// address- and/or port-dependent (RFC 4787 §4.1), or the mapping the
	// phone learned has since expired and been replaced.
	KindSymmetricNAT Kind = "symmetric NAT"
)

// NeedsKeepalive reports whether natsbc must keep the peer's pinhole open
// (RFC 5626 §3.5). A NAT-aware phone passes Detect, since its Contact is
// its source, yet its mapping dies like anyone else's when left idle.
func (k Kind) NeedsKeepalive() bool {
	switch k {
	case KindNAT, KindNATAware, KindSymmetricNAT:
		return true
	}
	return false
}

// Reasons Classify gives besides Detect's checks. Stable strings.
const (
	ReasonContactSTUNMapped = "contact-is-stun-mapped"
	ReasonContactIsSource   = "contact-equals-source"
	ReasonSourceDiffers     = "source-differs-from-stun-mapped"
)

// Classify turns Detect's verdict and what natsbc told STUN clients into
// one Kind for a binding whose message came over UDP, with the reasons to
// log: the STUN reasons first, then every check Detect fired (weak ones
// too, so a log line shows why a "no NAT" was a close call).
//
// contact is the Contact's host:port when the host is an IP literal
// (invalid otherwise); source is where the message really came from; m may
// be nil (no STUN knowledge).
//
// A public host that asks natsbc for its mapping gets its own address back
// and reports it: it is classified NAT-aware. Nothing on the wire tells it
// from a phone behind an endpoint-independent NAT, and a keepalive for it
// costs one small message per interval.
func Classify(v Verdict, contact, source netip.AddrPort, m *STUNMemory) (Kind, []string) {
	return ClassifyTransport("udp", v, contact, source, m)
}

// ClassifyTransport is Classify for a message that came over transport
// ("udp", "tcp", "tls", …). STUN mappings are UDP ones; over a
// connection the source port is the connection's own, so only the IPs can
// be compared: a STUN-learned Contact on the connection's IP is NAT-aware,
// on another IP it is symmetric (the NAT picked another public address).
func ClassifyTransport(transport string, v Verdict, contact, source netip.AddrPort, m *STUNMemory) (Kind, []string) {
	var reasons []string
	kind := KindNoNAT
	if v.NATed() {
		kind = KindNAT
	}
	if contact.IsValid() && source.IsValid() {
		if _, told := m.Mapped(contact); told {
			reasons = append(reasons, ReasonContactSTUNMapped)
			contact, source = normalizeAddrPort(contact), normalizeAddrPort(source)
			same := contact == source
			if !strings.EqualFold(transport, "udp") {
				same = contact.Addr() == source.Addr()
			}
			if same {
				kind = KindNATAware
				reasons = append(reasons, ReasonContactIsSource)
			} else {
				kind = KindSymmetricNAT
				reasons = append(reasons, ReasonSourceDiffers)
			}
		}
	}
	for _, c := range v.Checks {
		reasons = append(reasons, string(c))
	}
	return kind, reasons
}
