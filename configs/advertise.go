package configs

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// stunPrefix marks an advertise value naming a STUN server, written as
// the stun: URI of RFC 7064 §3.1 (stun:host[:port]).
const stunPrefix = "stun:"

// DefaultSTUNPort is the port of a stun: server written without one
// (RFC 5389 §9, RFC 7064 §3.1).
const DefaultSTUNPort = 3478

// parseAdvertise reads a listen socket's advertise value: a public IP, or
// stun:HOST[:PORT] for natsbc to learn it (ip invalid, stun "host:port").
func parseAdvertise(s string) (ip netip.Addr, stun string, err error) {
	if rest, ok := strings.CutPrefix(s, stunPrefix); ok {
		stun, err = parseSTUNServer(rest)
		if err != nil {
			return netip.Addr{}, "", fmt.Errorf("%q: %v", s, err)
		}
		return netip.Addr{}, stun, nil
	}
	ip, err = parseAddr(s)
	if err != nil {
		return netip.Addr{}, "", fmt.Errorf("%q is not an IP address or stun:HOST[:PORT]", s)
	}
	return ip, "", nil
}

// parseSTUNServer reads HOST[:PORT] (IPv6 in brackets) and returns
// "host:port" with the default port filled in.
func parseSTUNServer(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("no STUN server: write stun:HOST or stun:HOST:PORT")
	}
	host, port := s, strconv.Itoa(DefaultSTUNPort)
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		host = s[1 : len(s)-1]
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1:
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return "", fmt.Errorf("the STUN server is not HOST or HOST:PORT (IPv6 in brackets)")
		}
		host, port = h, p
	case strings.Contains(s, ":"):
		return "", fmt.Errorf("an IPv6 STUN server needs brackets: stun:[%s]", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not in 1..65535", port)
	}
	if !isIP(host) && !isHostName(host) {
		return "", fmt.Errorf("%q is not an IP address or a host name", host)
	}
	return net.JoinHostPort(host, port), nil
}

// isHostName accepts DNS names as RFC 1123 §2.1 writes them: labels of
// letters, digits and '-', not starting or ending with '-'.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			ok := c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}

func (d *decoder) advertise(ip *netip.Addr, stun *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		a, st, err := parseAdvertise(s)
		if err != nil {
			d.fail(n, path, "%v", err)
			return
		}
		*ip, *stun = a, st
	}
}
