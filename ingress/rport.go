package ingress

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// forceRport adds rport to the top Via of a UDP request whose sent-by is
// not where it came from, and returns the request re-serialised (nil when
// nothing changes).
//
// RFC 3581 §4 lets a server answer the source port only when the client
// asked with rport. A phone behind a NAT that did not ask would get every
// response at its private Via port, on the NAT's public address, where no
// mapping exists. natsbc answers most responses itself and sends them to
// the source anyway, but sipgo's transactions build some on their own
// (the 487 after a CANCEL, retransmissions): adding rport before sipgo
// sees the request makes all of them symmetric. It is Kamailio's
// force_rport() for NATed end-points.
func forceRport(req *sip.Request, src netip.AddrPort, allowed func(netip.AddrPort) bool) []byte {
	via := req.Via()
	if via == nil || !src.IsValid() {
		return nil
	}
	if _, has := via.Params.Get("rport"); has {
		return nil
	}
	port := via.Port
	if port == 0 {
		port = 5060
	}
	host, err := netip.ParseAddr(via.Host)
	if err == nil && host.Unmap() == src.Addr().Unmap() && port == int(src.Port()) {
		return nil
	}
	if allowed != nil && !allowed(src) {
		return nil
	}
	via.Params.Add("rport", "")
	return []byte(req.String())
}
