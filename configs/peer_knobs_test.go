package configs

import "testing"

func TestPeerMediaKnobs(t *testing.T) {
	c, err := parseWith(t, "peers:\n  - name: a\n    networks: [192.0.2.0/24]\n    latching: relaxed\n    keep_ice: true\n  - name: b\n    networks: [198.51.100.0/24]\n")
	if err != nil {
		t.Fatal(err)
	}
	pol := c.Policy()
	if a := pol.Peers[0]; a.Latch != "relaxed" || !a.KeepICE {
		t.Errorf("peer a = %+v; want relaxed latching, ICE kept", a)
	}
	if b := pol.Peers[1]; b.Latch != "strict" || b.KeepICE {
		t.Errorf("peer b = %+v; want the defaults strict, ICE removed", b)
	}
}

func TestPeerLargeRequestsKnob(t *testing.T) {
	c, err := parseWith(t, "peers:\n  - name: a\n    networks: [192.0.2.0/24]\n    large_requests: udp\n  - name: b\n    networks: [198.51.100.0/24]\n")
	if err != nil {
		t.Fatal(err)
	}
	pol := c.Policy()
	if a := pol.Peers[0]; !a.LargeOverUDP() {
		t.Errorf("peer a = %+v; want large requests over UDP", a)
	}
	if b := pol.Peers[1]; b.LargeOverUDP() {
		t.Errorf("peer b = %+v; want the default: large requests over TCP", b)
	}
}
