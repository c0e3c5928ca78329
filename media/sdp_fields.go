package media

import (
	"net/netip"
	"strings"
)

// origin is the o= line split into its fields.
//
// RFC 8866 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype>
// <unicast-address>
type origin struct {
	username, sessID, sessVersion, netType, addrType, address string
}

func parseOrigin(num int, value string) (origin, error) {
	var o origin
	var rest string
	o.username, rest = nextField(value)
	o.sessID, rest = nextField(rest)
	o.sessVersion, rest = nextField(rest)
	o.netType, rest = nextField(rest)
	o.addrType, rest = nextField(rest)
	o.address, rest = nextField(rest)
	switch {
	case o.address == "" || rest != "":
		return o, unparsable(num, "o= needs six fields")
	case o.netType != "IN":
		return o, unparsable(num, "o= network type %q is not IN", clip(o.netType))
	case o.addrType != "IP4" && o.addrType != "IP6":
		return o, unparsable(num, "o= address type %q is not IP4 or IP6", clip(o.addrType))
	}
	return o, nil
}

func checkOrigin(l sdpLine) error {
	_, err := parseOrigin(l.num, l.value)
	return err
}

// parseConnection reads the address of a c= line.
//
// RFC 8866 §5.7: c=<nettype> <addrtype> <connection-address>, where a
// multicast address may carry /<ttl> and /<number of addresses>. natsbc
// relays to one unicast address, so those suffixes are read past, and a
// host name (which natsbc would have to resolve on the call path) is not
// acceptable.
func parseConnection(num int, what, value string) (netip.Addr, error) {
	netType, rest := nextField(value)
	addrType, rest := nextField(rest)
	address, rest := nextField(rest)
	if address == "" || rest != "" {
		return netip.Addr{}, unparsable(num, "%s address needs <nettype> <addrtype> <address>", what)
	}
	if netType != "IN" {
		return netip.Addr{}, unparsable(num, "%s network type %q is not IN", what, clip(netType))
	}
	host, _, _ := strings.Cut(address, "/")
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, unparsable(num, "%s address %q is not an IP address", what, clip(host))
	}
	switch addrType {
	case "IP4":
		if !addr.Is4() {
			return netip.Addr{}, unparsable(num, "%s address %q is not IP4", what, clip(host))
		}
	case "IP6":
		if !addr.Is6() {
			return netip.Addr{}, unparsable(num, "%s address %q is not IP6", what, clip(host))
		}
	default:
		return netip.Addr{}, unparsable(num, "%s address type %q is not IP4 or IP6", what, clip(addrType))
	}
	// An IPv4-mapped IPv6 address is the IPv4 host: the relay sends there.
	return addr.Unmap(), nil
}

// parseRTCP reads the value of an a=rtcp attribute.
//
// RFC 3605 §2.1: a=rtcp:<port> [<nettype> <addrtype> <connection-address>]
func parseRTCP(num int, value string) (port int, addr netip.Addr, hasAddr bool, err error) {
	portText, rest := nextField(value)
	port, ok := parseDecimal(portText, 65535)
	if !ok || port == 0 {
		return 0, netip.Addr{}, false, unparsable(num, "a=rtcp port %q is not a port number", clip(portText))
	}
	if rest == "" {
		return port, netip.Addr{}, false, nil
	}
	addr, err = parseConnection(num, "a=rtcp", rest)
	if err != nil {
		return 0, netip.Addr{}, false, err
	}
	return port, addr, true, nil
}
