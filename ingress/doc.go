// Package ingress is natsbc's guard in front of sipgo: what every message
// passes before the B2BUA sees it. On UDP, GuardedPacketConn wraps a
// socket and reads each datagram first: garbage is answered 400 when it
// can be answered (ingress builds that answer from the raw bytes, since
// sipgo could not parse them) and dropped otherwise, with rate-limited
// logs; STUN and keepalive datagrams go to their own handling; a NATed
// sender's request gets rport forced (RFC 3581). On every transport,
// CheckRequest and CheckResponse refuse what sipgo parsed but natsbc must
// not relay (missing or duplicated mandatory headers, hostile sizes, line
// breaks in values). The signalling core (sbc) calls these and nothing
// else of it; ingress knows nothing of calls.
package ingress
