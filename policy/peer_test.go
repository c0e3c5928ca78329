package policy

import (
	"net/netip"
	"testing"
)

// An unknown source and a peer that says nothing latch strictly: relaxed
// latching lets strangers' packets into a call, so only an explicit
// "relaxed" may turn it on.
func TestRelaxedLatchOnlyWhenAsked(t *testing.T) {
	for _, tt := range []struct {
		latch string
		want  bool
	}{{"", false}, {LatchStrict, false}, {LatchRelaxed, true}, {"Relaxed", false}} {
		if got := (Peer{Latch: tt.latch}).RelaxedLatch(); got != tt.want {
			t.Errorf("Peer{Latch: %q}.RelaxedLatch() = %v; want %v", tt.latch, got, tt.want)
		}
	}
	if (Peer{}).RelaxedLatch() || (Peer{}).KeepICE {
		t.Error("the unknown peer must latch strictly and drop ICE attributes")
	}
}

// The media knobs of a configured peer reach whoever classifies its source.
func TestClassifyKeepsMediaKnobs(t *testing.T) {
	p := mustPolicy(t, Config{Peers: []Peer{
		{Name: "carrier", Networks: prefixes("198.51.100.0/24"), Latch: LatchRelaxed, KeepICE: true},
		{Name: "pbx", Networks: prefixes("10.0.0.10/32"), Address: "10.0.0.10:5060", Role: RolePBX},
	}})
	c := p.Classify(netip.MustParseAddr("198.51.100.7"))
	if c.Name != "carrier" || !c.RelaxedLatch() || !c.KeepICE {
		t.Errorf("Classify(carrier) = %+v; want relaxed latching and ICE kept", c)
	}
	pbx := p.Classify(netip.MustParseAddr("10.0.0.10"))
	if pbx.RelaxedLatch() || pbx.KeepICE {
		t.Errorf("Classify(pbx) = %+v; want the strict, ICE-free defaults", pbx)
	}
	if byName, _ := p.Peer("carrier"); !byName.RelaxedLatch() || !byName.KeepICE {
		t.Errorf("Peer(carrier) = %+v; want the knobs kept", byName)
	}
}
