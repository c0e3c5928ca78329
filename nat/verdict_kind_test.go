package nat

import (
	"net/netip"
	"slices"
	"testing"
)

func TestClassify(t *testing.T) {
	const (
		public     = "203.0.113.7:40123" // the NAT's mapping for the SIP socket
		publicSTUN = "203.0.113.7:40999" // the mapping a symmetric NAT gave the STUN socket
		private    = "192.168.1.20:5060"
	)
	memory := NewSTUNMemory(STUNMemoryConfig{})
	memory.Remember(netip.MustParseAddrPort(public))
	memory.Remember(netip.MustParseAddrPort(publicSTUN))
	memory.Remember(netip.MustParseAddrPort("198.51.100.9:5060"))

	ap := func(s string) netip.AddrPort {
		if s == "" {
			return netip.AddrPort{}
		}
		return netip.MustParseAddrPort(s)
	}
	// observe builds the Detect verdict a REGISTER with this Contact and
	// Via, sent from source, would get.
	observe := func(transport, contact, via, source string) Verdict {
		o := Observation{Transport: transport, Source: ap(source)}
		if c := ap(contact); c.IsValid() {
			o.ContactHost, o.ContactPort = c.Addr().String(), int(c.Port())
		}
		if v := ap(via); v.IsValid() {
			o.ViaHost, o.ViaPort = v.Addr().String(), int(v.Port())
		}
		return Detect(o)
	}
	cases := []struct {
		name                 string
		transport            string
		contact, via, source string
		memory               *STUNMemory
		want                 Kind
		wantReasons          []string
		wantKeepalive        bool
	}{
		{
			name: "public phone, never did STUN", transport: "udp",
			contact: "198.51.100.20:5060", via: "198.51.100.20:5060", source: "198.51.100.20:5060",
			memory: memory, want: KindNoNAT, wantReasons: nil,
		},
		{
			name: "private Contact behind a NAT", transport: "udp",
			contact: private, via: private, source: public,
			memory: memory, want: KindNAT, wantKeepalive: true,
			wantReasons: []string{"contact-private", "via-host-differs", "via-port-differs", "contact-port-differs"},
		},
		{
			name: "phone learned its mapping from natsbc and uses it", transport: "udp",
			contact: public, via: public, source: public,
			memory: memory, want: KindNATAware, wantKeepalive: true,
			wantReasons: []string{ReasonContactSTUNMapped, ReasonContactIsSource},
		},
		{
			name: "STUN-learned Contact but private Via still NAT-aware", transport: "udp",
			contact: public, via: private, source: public,
			memory: memory, want: KindNATAware, wantKeepalive: true,
			wantReasons: []string{ReasonContactSTUNMapped, ReasonContactIsSource, "via-host-differs", "via-port-differs"},
		},
		{
			name: "STUN mapping differs from the SIP mapping", transport: "udp",
			contact: publicSTUN, via: publicSTUN, source: public,
			memory: memory, want: KindSymmetricNAT, wantKeepalive: true,
			wantReasons: []string{ReasonContactSTUNMapped, ReasonSourceDiffers, "via-port-differs", "contact-port-differs"},
		},
		{
			name: "same Contact without STUN knowledge is no NAT", transport: "udp",
			contact: public, via: public, source: public,
			memory: nil, want: KindNoNAT,
		},
		{
			name: "public Contact nobody was told, other port: weak only", transport: "udp",
			contact: "203.0.113.7:5060", via: public, source: public,
			memory: memory, want: KindNoNAT, wantReasons: []string{"contact-port-differs"},
		},
		{
			name: "TCP: connection port differs, same IP is NAT-aware", transport: "tcp",
			contact: public, via: public, source: "203.0.113.7:51000",
			memory: memory, want: KindNATAware, wantKeepalive: true,
			wantReasons: []string{ReasonContactSTUNMapped, ReasonContactIsSource},
		},
		{
			name: "TCP: NAT used another public IP", transport: "tcp",
			contact: "198.51.100.9:5060", via: "198.51.100.9:5060", source: "203.0.113.8:51000",
			memory: memory, want: KindSymmetricNAT, wantKeepalive: true,
			wantReasons: []string{ReasonContactSTUNMapped, ReasonSourceDiffers, "via-host-differs"},
		},
		{
			name: "no Contact IP", transport: "udp",
			contact: "", via: private, source: public,
			memory: memory, want: KindNAT, wantKeepalive: true,
			wantReasons: []string{"via-host-differs", "via-port-differs"},
		},
		{
			name: "no source: nothing to compare", transport: "udp",
			contact: public, via: public, source: "",
			memory: memory, want: KindNoNAT,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := observe(c.transport, c.contact, c.via, c.source)
			kind, reasons := ClassifyTransport(c.transport, v, ap(c.contact), ap(c.source), c.memory)
			if kind != c.want || !slices.Equal(reasons, c.wantReasons) {
				t.Errorf("got %q %q, want %q %q", kind, reasons, c.want, c.wantReasons)
			}
			if kind.NeedsKeepalive() != c.wantKeepalive {
				t.Errorf("NeedsKeepalive = %v, want %v", kind.NeedsKeepalive(), c.wantKeepalive)
			}
			if c.transport == "udp" {
				k2, r2 := Classify(v, ap(c.contact), ap(c.source), c.memory)
				if k2 != kind || !slices.Equal(r2, reasons) {
					t.Errorf("Classify differs from ClassifyTransport(udp): %q %q", k2, r2)
				}
			}
		})
	}
}

func TestKindNeedsKeepalive(t *testing.T) {
	for k, want := range map[Kind]bool{KindNoNAT: false, KindNAT: true, KindNATAware: true, KindSymmetricNAT: true, "": false} {
		if k.NeedsKeepalive() != want {
			t.Errorf("%q.NeedsKeepalive() = %v", k, !want)
		}
	}
}
