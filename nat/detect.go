package nat

import (
	"net/netip"
	"strings"
)

// Observation is what a message says about its sender next to where it
// really came from. The caller extracts it from SIP/SDP; nat only compares.
type Observation struct {
	Transport   string         // "udp" | "tcp" | "tls" | "ws" | "wss"
	Source      netip.AddrPort // where the message really came from
	ViaHost     string         // top Via sent-by host (IP or name)
	ViaPort     int            // top Via sent-by port (0 = absent → 5060)
	ContactHost string         // first Contact URI host ("" if none)
	ContactPort int            // 0 = absent → 5060
	// SDPAddrs are the connection addresses (c=) of the SDP's enabled
	// streams, as the caller's SDP reader found them (none without SDP).
	SDPAddrs []netip.Addr
}

// Check names one NAT test. The strings are stable: they appear in logs
// and on recorded dialogs/bindings.
type Check string

const (
	// CheckContactPrivate: the Contact host is a private IP that is not the
	// source IP (strong).
	CheckContactPrivate Check = "contact-private"
	// CheckContactUnroutable: the Contact host is a name under .invalid
	// (RFC 6761 §6.4: never resolves), as WebSocket clients write it (RFC
	// 7118 §5.2): nothing but the flow the message came on reaches the
	// sender (strong).
	CheckContactUnroutable Check = "contact-unroutable"
	// CheckViaHost: the top Via sent-by is an IP literal other than the
	// source IP (strong).
	CheckViaHost Check = "via-host-differs"
	// CheckViaPort: over UDP, the top Via port is not the source port
	// (strong).
	CheckViaPort Check = "via-port-differs"
	// CheckSDPPrivate: the SDP c= is a private IP other than the source IP
	// (strong).
	CheckSDPPrivate Check = "sdp-private"
	// CheckSDPDiffers: the SDP c= is a public IP other than the source IP
	// (weak: media servers and B2BUAs legitimately do that).
	CheckSDPDiffers Check = "sdp-differs"
	// CheckContactPort: over UDP, the Contact port is not the source port
	// (weak: a UA may listen on one port and send from another).
	CheckContactPort Check = "contact-port-differs"
)

// Strong reports whether the check alone is evidence of a NAT.
func (c Check) Strong() bool {
	switch c {
	case CheckContactPrivate, CheckContactUnroutable, CheckViaHost, CheckViaPort, CheckSDPPrivate:
		return true
	}
	return false
}

// Verdict lists the checks that fired, in the order of the constants above.
type Verdict struct {
	Checks []Check
}

// defaultSIPPort is used when a Via or Contact carries no port
// (RFC 3261 §18.1.1, §19.1.2).
const defaultSIPPort = 5060

// Detect runs every check against o. An observation without a valid
// source cannot be compared with anything and yields an empty verdict.
func Detect(o Observation) Verdict {
	if !o.Source.IsValid() {
		return Verdict{}
	}
	src := o.Source.Addr().WithZone("").Unmap()
	srcPort := int(o.Source.Port())
	udp := strings.EqualFold(o.Transport, "udp")

	var v Verdict
	add := func(c Check) { v.Checks = append(v.Checks, c) }

	contact, contactIsIP := parseIPLiteral(o.ContactHost)
	// An inside host that reaches us without translation shows its own
	// private address in Contact and as source: that is not a NAT.
	if contactIsIP && IsPrivate(contact) && contact != src {
		add(CheckContactPrivate)
	}
	if h := strings.TrimSuffix(strings.ToLower(o.ContactHost), "."); h == "invalid" || strings.HasSuffix(h, ".invalid") {
		add(CheckContactUnroutable)
	}
	// A host name in Via is no evidence: only an IP literal can be compared.
	if via, ok := parseIPLiteral(o.ViaHost); ok && via != src {
		add(CheckViaHost)
	}
	// Over TCP the source port is an ephemeral one, so ports say nothing.
	if udp && o.ViaHost != "" && portOrDefault(o.ViaPort) != srcPort {
		add(CheckViaPort)
	}
	sdpPrivate, sdpDiffers := sdpChecks(o.SDPAddrs, src)
	if sdpPrivate {
		add(CheckSDPPrivate)
	}
	if sdpDiffers {
		add(CheckSDPDiffers)
	}
	if udp && o.ContactHost != "" && portOrDefault(o.ContactPort) != srcPort {
		add(CheckContactPort)
	}
	return v
}

// sdpChecks compares every stream's address with the source: a fax or
// video stream names its author's address as well as the audio does.
func sdpChecks(addrs []netip.Addr, src netip.Addr) (private, differs bool) {
	for _, a := range addrs {
		a = a.WithZone("").Unmap()
		// c=0.0.0.0 is the old way to put a call on hold (RFC 3264 §8.4),
		// not an address.
		if !a.IsValid() || a.IsUnspecified() || a == src {
			continue
		}
		if IsPrivate(a) {
			private = true
		} else {
			differs = true
		}
	}
	return private, differs
}

func portOrDefault(p int) int {
	if p == 0 {
		return defaultSIPPort
	}
	return p
}

// NATed reports whether a strong check fired; weak checks never decide.
func (v Verdict) NATed() bool {
	for _, c := range v.Checks {
		if c.Strong() {
			return true
		}
	}
	return false
}

// String renders the verdict for logs: "no NAT",
// "NAT (contact-private, via-port-differs)" or "no NAT (weak: sdp-differs)".
func (v Verdict) String() string {
	if len(v.Checks) == 0 {
		return "no NAT"
	}
	names := make([]string, len(v.Checks))
	for i, c := range v.Checks {
		names[i] = string(c)
	}
	list := strings.Join(names, ", ")
	if v.NATed() {
		return "NAT (" + list + ")"
	}
	return "no NAT (weak: " + list + ")"
}
