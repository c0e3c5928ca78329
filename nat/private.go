package nat

import "net/netip"

// privatePrefixes are the ranges a host behind a NAT typically numbers
// itself from; a Contact or c= address inside them cannot be reached from
// outside that NAT.
var privatePrefixes = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918 §3
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918 §3
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918 §3
	netip.MustParsePrefix("100.64.0.0/10"),  // RFC 6598 shared (CGN) space
	netip.MustParsePrefix("192.0.0.0/29"),   // RFC 6333 DS-Lite B4/AFTR
	netip.MustParsePrefix("fc00::/7"),       // RFC 4193 unique local
}

// IsPrivate reports whether a is an address that is not routable on the
// public Internet for the purpose of NAT detection: RFC 1918, RFC 6598,
// RFC 6333, IPv6 ULA and link-local. IPv4-mapped IPv6 addresses are judged
// by their IPv4 form.
func IsPrivate(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.IsLinkLocalUnicast() {
		return true
	}
	for _, p := range privatePrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseIPLiteral returns the address in host when host is an IP literal
// (IPv6 optionally in brackets), unmapped; ok is false for names.
func parseIPLiteral(host string) (netip.Addr, bool) {
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
