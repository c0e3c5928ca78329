package sbc

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// dialogHop is where a leg's requests go: the URI of its first route, or
// its remote target (RFC 3261 §12.2.1.1; a strict router is sent to as
// well, requestTarget), located per RFC 3263 §4.
type dialogHop struct {
	addr string // host:port
	// transport, sock and adv are set when the URI asks for another
	// transport than the leg's (transport=, or NAPTR/SRV for a name).
	transport string
	sock      *socket
	adv       netip.AddrPort
}

// dialogHopOf locates u. An IP address (the common case, per message) needs
// neither DNS nor a socket look-up unless its transport= differs from the
// leg's. A URI that says nothing of its transport keeps the one the dialog
// uses: a phone on TCP whose Contact lacks transport= stays on TCP.
func (s *Server) dialogHopOf(u sip.Uri, legTransport string) dialogHop {
	q := uriQuery(u)
	explicit := q.Transport != "" && !strings.EqualFold(q.Transport, legTransport)
	if ip, err := netip.ParseAddr(strings.Trim(q.Host, "[]")); err == nil && !explicit {
		port := q.Port
		if port == 0 {
			port = 5060
		}
		return dialogHop{addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)).String()}
	}
	hops, err := s.locate(q)
	if err != nil {
		// Not resolvable now: as before RFC 3263, sipgo resolves the
		// name itself when the request is sent.
		s.log.Info("next hop not located", "uri", u.String(), "error", err)
		return dialogHop{addr: uriHostPort(u)}
	}
	h := hops[0]
	d := dialogHop{addr: h.dst.String()}
	if (q.Transport != "" || q.Port == 0) && !strings.EqualFold(h.transport, legTransport) {
		d.transport, d.sock, d.adv = h.transport, h.sock, h.adv
	}
	return d
}
