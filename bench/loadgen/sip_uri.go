package loadgen

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// sipURI is the part of a sip: URI that decides where a request goes.
type sipURI struct {
	user string
	host string // IP literal, IPv6 without brackets
	port uint16 // 0 when absent
	lr   bool   // RFC 3261 §19.1.1: loose-routing parameter
}

func parseSIPURI(s string) (sipURI, error) {
	rest, ok := strings.CutPrefix(s, "sip:")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "SIP:"); !ok {
			return sipURI{}, fmt.Errorf("%q is not a sip: URI", s)
		}
	}
	rest, _, _ = strings.Cut(rest, "?")
	var u sipURI
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		u.user, rest = rest[:at], rest[at+1:]
		u.user, _, _ = strings.Cut(u.user, ":") // drop a password
	}
	hostport, params, _ := strings.Cut(rest, ";")
	for p := range strings.SplitSeq(params, ";") {
		name, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(name, "lr") {
			u.lr = true
		}
	}
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return sipURI{}, fmt.Errorf("%q: unclosed IPv6 reference", s)
		}
		u.host, hostport = hostport[1:end], hostport[end+1:]
		if hostport != "" && hostport[0] != ':' {
			return sipURI{}, fmt.Errorf("%q: junk after IPv6 reference", s)
		}
		hostport = strings.TrimPrefix(hostport, ":")
	} else {
		u.host, hostport, _ = strings.Cut(hostport, ":")
	}
	if hostport != "" {
		p, err := strconv.ParseUint(hostport, 10, 16)
		if err != nil {
			return sipURI{}, fmt.Errorf("%q: bad port", s)
		}
		u.port = uint16(p)
	}
	if u.host == "" {
		return sipURI{}, fmt.Errorf("%q: no host", s)
	}
	return u, nil
}

// addr is where a request to this URI is sent (RFC 3263 without DNS: the
// generator talks to IP literals only; no port means 5060).
func (u sipURI) addr() (netip.AddrPort, error) {
	ip, err := netip.ParseAddr(u.host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("host %q is not an IP address", u.host)
	}
	port := u.port
	if port == 0 {
		port = 5060
	}
	return netip.AddrPortFrom(ip.Unmap(), port), nil
}

// hostPort formats an address as SIP writes it in URIs and Via.
func hostPort(a netip.AddrPort) string {
	return a.String() // "1.2.3.4:5060" or "[::1]:5060"
}

// callIndexFromUser reads n from the user part "bench-<n>".
func callIndexFromUser(user string) (int, bool) {
	digits, ok := strings.CutPrefix(user, "bench-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n >= 0
}
