package configs

import (
	"net/netip"
	"strings"
	"testing"
)

// The admin endpoint is off unless asked for: the embedded default and a
// file without the section serve nothing, `listen: ""` says off explicitly.
func TestAdminListen(t *testing.T) {
	if a, ok := Default().AdminListen(); ok {
		t.Errorf("default config serves the admin endpoint on %s", a)
	}
	tests := []struct {
		yaml string
		want netip.AddrPort
		err  string
	}{
		{yaml: ""},
		{yaml: "admin:\n  listen: \"\"\n"},
		{yaml: "admin:\n  listen: 127.0.0.1:9090\n", want: netip.MustParseAddrPort("127.0.0.1:9090")},
		{yaml: "admin:\n  listen: \"[::1]:9090\"\n", want: netip.MustParseAddrPort("[::1]:9090")},
		{yaml: "admin:\n  listen: 0.0.0.0:0\n", err: "admin.listen: port 0 is not allowed"},
		{yaml: "admin:\n  listen: 224.0.0.1:9090\n", err: "admin.listen: 224.0.0.1 is a multicast address"},
		{yaml: "admin:\n  listen: 9090\n", err: `admin.listen: "9090" is not IP:PORT`},
	}
	for _, tt := range tests {
		c, err := parseWith(t, tt.yaml)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error = %v; want %q", tt.yaml, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		got, ok := c.AdminListen()
		if got != tt.want || ok != tt.want.IsValid() {
			t.Errorf("%q: AdminListen() = %v, %v; want %v", tt.yaml, got, ok, tt.want)
		}
	}
}
