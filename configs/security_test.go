package configs

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/ingress"
)

// The shield's defaults; a `security:` section and a listener's
// `endpoints` reach it; nonsense fails with file:line.
func TestSecuritySection(t *testing.T) {
	c, err := parseWith(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if sh := c.Shield(); sh.Rate != 20 || sh.Burst != 40 || sh.BanAfter != 200 || sh.BanTime != time.Hour || len(sh.Scanners) == 0 {
		t.Errorf("default shield %+v", sh)
	}
	if sh := c.Shield(); sh.AuthFailures != 10 || sh.AuthWindow != 10*time.Minute || c.SBC().RealSourceHeader != "X-Real-Source" {
		t.Errorf("default brute-force watch %d/%v, header %q", sh.AuthFailures, sh.AuthWindow, c.SBC().RealSourceHeader)
	}
	if eps := c.Listen(); len(eps) == 0 || eps[0].Endpoints.Restricted {
		t.Errorf("default endpoints %+v, want any", eps)
	}

	c, err = Parse("t.yaml", []byte(`security:
  deny: [203.0.113.66]
  allow: [198.51.100.0/24, 10.0.0.0/8]
  rate: 5
  burst: 10
  ban_after: 50
  ban_time: 10m
  scanners: [evil-ua]
listen:
  - name: outside
    address: 0.0.0.0:5060
    endpoints: [198.51.100.0/24]
  - name: inside
    address: 0.0.0.0:5070
    endpoints: none
`))
	if err != nil {
		t.Fatal(err)
	}
	sh := c.Shield()
	if sh.Rate != 5 || sh.Burst != 10 || sh.BanAfter != 50 || sh.BanTime != 10*time.Minute ||
		len(sh.Scanners) != 1 || sh.Scanners[0] != "evil-ua" || len(sh.Deny) != 1 || len(sh.Allow) != 2 {
		t.Errorf("shield %+v", sh)
	}
	want := map[string]ingress.Endpoints{
		"outside": {Restricted: true, Nets: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}},
		"inside":  {Restricted: true},
	}
	for _, l := range c.Listen() {
		w := want[l.Name]
		if l.Endpoints.Restricted != w.Restricted || len(l.Endpoints.Nets) != len(w.Nets) {
			t.Errorf("%s endpoints %+v, want %+v", l.Name, l.Endpoints, w)
		}
	}

	for yaml, msg := range map[string]string{
		"security:\n  rate: -1\n":                                   "t.yaml:2:9: security.rate: -1 is negative",
		"security:\n  rate: 5\n  burst: 0\n":                        "security.burst: 0 lets no request through",
		"security:\n  ban_time: 0s\n":                               "security.ban_time: 0s must be at least 1s",
		"security:\n  real_source_header: \"X Real\"\n":             `security.real_source_header: "X Real" is not a header name`,
		"security:\n  auth_window: 0s\n":                            "security.auth_window: 0s must be at least 1s",
		"security:\n  deny: [not-a-network]\n":                      "t.yaml:2:10",
		"listen:\n  - address: 0.0.0.0:5060\n    endpoints: some\n": `"some" is not any, none or a list of networks`,
	} {
		_, err := Parse("t.yaml", []byte(yaml+"listen:\n  - address: 0.0.0.0:5062\n"))
		if strings.Contains(yaml, "listen:") {
			_, err = Parse("t.yaml", []byte(yaml))
		}
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q", yaml, err, msg)
		}
	}
}
