package sbc

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/nat"
	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/registrar"
)

// registrationVerdict runs the NAT checks on a REGISTER (Contact and Via
// against the real source) and the STUN knowledge natsbc has of the phone.
// Policy wins over detection: nat: never means no keepalive, nat: always
// means keepalive whatever the checks say.
func (s *Server) registrationVerdict(req *sip.Request, source netip.AddrPort) registrar.Verdict {
	obs := nat.Observation{Transport: lower(req.Transport()), Source: source}
	var contact netip.AddrPort
	if c := firstContact(req); c != nil {
		obs.ContactHost, obs.ContactPort = c.Host, c.Port
		contact = uriAddrPort(*c)
	}
	if v := req.Via(); v != nil {
		obs.ViaHost, obs.ViaPort = v.Host, v.Port
	}
	detected := nat.Detect(obs)
	s.ops.checksFired("register", detected)
	kind, reasons := nat.ClassifyTransport(obs.Transport, detected, contact, source, s.stunSeen)
	out := registrar.Verdict{Kind: string(kind), Checks: reasons, Keepalive: kind.NeedsKeepalive()}
	switch s.policy.Classify(source.Addr()).NAT {
	case policy.NATNever:
		out.Keepalive = false
		out.Checks = append(out.Checks, "policy nat=never")
	case policy.NATAlways:
		out.Keepalive = true
		out.Checks = append(out.Checks, "policy nat=always")
	}
	return out
}

// uriAddrPort is a URI's host:port when the host is an IP literal.
func uriAddrPort(u sip.Uri) netip.AddrPort {
	ip, err := netip.ParseAddr(strings.Trim(u.Host, "[]"))
	if err != nil {
		return netip.AddrPort{}
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port))
}
