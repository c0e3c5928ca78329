// Package resolve locates SIP servers per RFC 3263 §4: NAPTR picks the
// transport, SRV the hosts and ports, A/AAAA the addresses. An explicit port
// skips SRV, an explicit transport skips NAPTR. Answers are cached by their
// TTL in a bounded cache. The DNS is an interface, so the algorithm is
// tested without a network; Client is the real one (github.com/miekg/dns).
//
// It imports nothing of the project.
package resolve
