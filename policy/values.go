package policy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Roles, NAT modes and transports in the order they are listed in messages.
var (
	roles      = []Role{RoleEndpoint, RolePBX, RoleProxy, RoleTrunk}
	natModes   = []NATMode{NATAuto, NATAlways, NATNever}
	transports = []string{"udp", "tcp", "tls"}
)

// ParseRole accepts the configuration spelling of a role; "" gives the
// default, RoleEndpoint.
func ParseRole(s string) (Role, error) {
	if s == "" {
		return RoleEndpoint, nil
	}
	for _, r := range roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", s, joinList(roles))
}

// ParseNATMode accepts the configuration spelling of a NAT mode; "" gives
// the default, NATAuto.
func ParseNATMode(s string) (NATMode, error) {
	if s == "" {
		return NATAuto, nil
	}
	for _, m := range natModes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", s, joinList(natModes))
}

// ParseTransport accepts "udp", "tcp" or "tls"; "" gives the default, "udp".
func ParseTransport(s string) (string, error) {
	if s == "" {
		return "udp", nil
	}
	for _, t := range transports {
		if t == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", s, joinList(transports))
}

// CheckName reports whether s may name a peer. Names appear in routes,
// where "*" and "request-uri" have their own meaning and a colon would read
// as HOST:PORT, so names are limited to letters, digits, '.', '_' and '-'.
func CheckName(s string) error {
	switch s {
	case "":
		return fmt.Errorf("a name is required")
	case Any, ToRequestURI:
		return fmt.Errorf("%q is reserved in routes and cannot name a peer", s)
	}
	for _, c := range s {
		ok := c == '.' || c == '_' || c == '-' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("%q may hold only letters, digits, '.', '_' and '-'", s)
		}
	}
	return nil
}

// CheckDomain reports whether s may be one of a peer's domains: a host
// name (or address) as it appears in a Request-URI, or "*" for any.
func CheckDomain(s string) error {
	if s == "" || strings.ContainsAny(s, " \t/:;@<>") {
		return fmt.Errorf("%q is not a host name (or *)", s)
	}
	return nil
}

// SplitPeerAddress reads a peer's address: HOST:PORT, or a HOST alone
// (port 0), whose port RFC 3263 finds (SRV for a name, 5060 for an IP).
func SplitPeerAddress(s string) (host string, port int, err error) {
	if ip, perr := netip.ParseAddr(strings.Trim(s, "[]")); perr == nil && !strings.Contains(s, "]:") {
		return ip.String(), 0, nil
	}
	if s != "" && !strings.Contains(s, ":") {
		if strings.ContainsAny(s, " \t/") {
			return "", 0, fmt.Errorf("%q is not an IP address or a host name", s)
		}
		return s, 0, nil
	}
	return SplitHostPort(s)
}

// SplitHostPort splits "host:port" (IPv6 in brackets) and checks that the
// port is in 1..65535 and the host is not empty.
func SplitHostPort(s string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not HOST:PORT (IPv6 in brackets: [2001:db8::1]:5060)", s)
	}
	if h == "" {
		return "", 0, fmt.Errorf("%q has no host", s)
	}
	if strings.ContainsAny(h, " \t/") {
		return "", 0, fmt.Errorf("%q: host %q is not an IP address or a host name", s, h)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("%q: port %q is not in 1..65535", s, p)
	}
	return h, n, nil
}

func joinList[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
