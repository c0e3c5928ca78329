package configs

import (
	"fmt"
	"net/netip"
	"strings"
)

// parseAddrPort reads a listen address: an IP (not a host name: a socket
// binds to an address) and a port, IPv6 in brackets.
func parseAddrPort(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err == nil {
		return ap, nil
	}
	host, port, serr := splitHostPort(s)
	switch {
	case serr != nil:
		return netip.AddrPort{}, fmt.Errorf("%q is not IP:PORT (IPv6 in brackets: [::]:5060)", s)
	case !isIP(host):
		return netip.AddrPort{}, fmt.Errorf("%q: %q is not an IP address", s, host)
	case strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "["):
		return netip.AddrPort{}, fmt.Errorf("%q: an IPv6 address needs brackets: [%s]:%s", s, host, port)
	default:
		return netip.AddrPort{}, fmt.Errorf("%q: port %q is not in 1..65535", s, port)
	}
}

func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", fmt.Errorf("no port")
	}
	host, port = s[:i], s[i+1:]
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return host, port, nil
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// parseAddr reads an IP, allowing IPv6 in brackets as people write it.
func parseAddr(s string) (netip.Addr, error) {
	t := s
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		t = t[1 : len(t)-1]
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	return a, nil
}

// parseNetwork reads a peer network: a CIDR prefix, or one IP meaning
// just that host.
func parseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%q has bits set after the prefix length; did you mean %s?", s, p.Masked())
	}
	return p, nil
}
