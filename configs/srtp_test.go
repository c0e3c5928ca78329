package configs

import (
	"strings"
	"testing"
)

// media.srtp is set per peer, per socket and as the default; each maps
// to what the signalling core reads, and a wrong spelling names its line.
func TestSRTPKnobs(t *testing.T) {
	c, err := Parse("t.yaml", []byte("media:\n  srtp: none\n"+
		"listen:\n  - name: browsers\n    address: 0.0.0.0:5062\n    transport: tcp\n    srtp: dtls\n"+
		"peers:\n  - name: carrier\n    networks: [198.51.100.0/24]\n    srtp: sdes\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SBC().MediaSRTP; got != "none" {
		t.Errorf("media.srtp maps to %q", got)
	}
	if got := c.Listen()[0].SRTP; got != "dtls" {
		t.Errorf("listen srtp maps to %q", got)
	}
	if got := c.Policy().Peers[0].SRTP; got != "sdes" {
		t.Errorf("peer srtp maps to %q", got)
	}
	for _, tc := range []struct{ yaml, where string }{
		{"media:\n  srtp: zrtp\n", "t.yaml:2"},
		{"peers:\n  - name: p\n    networks: [192.0.2.0/24]\n    srtp: SDES\n", "t.yaml:4"},
	} {
		_, err := parseWith(t, tc.yaml)
		if err == nil || !strings.Contains(err.Error(), tc.where) || !strings.Contains(err.Error(), "passthrough, none, sdes, dtls") {
			t.Errorf("%q: error %v, want one at %s naming the modes", tc.yaml, err, tc.where)
		}
	}
	_, err = Parse("t.yaml", []byte("listen:\n  - address: 0.0.0.0:5060\n    srtp: maybe\n"))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:3") {
		t.Errorf("listen srtp error %v, want one at t.yaml:3", err)
	}
}
