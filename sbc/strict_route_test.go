package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestRequestTarget(t *testing.T) {
	uri := func(s string) sip.Uri {
		var u sip.Uri
		if err := sip.ParseUri(s, &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	target := uri("sip:bob@192.0.2.9:5070")
	tests := []struct {
		name   string
		routes []string
		ruri   string
		route  []string
	}{
		{"no route set", nil, "sip:bob@192.0.2.9:5070", nil},
		{"loose router", []string{"sip:p1.example.com;lr", "sip:p2.example.com;lr"}, "sip:bob@192.0.2.9:5070",
			[]string{"sip:p1.example.com;lr", "sip:p2.example.com;lr"}},
		{"lr=on counts as loose", []string{"sip:p1.example.com;lr=on"}, "sip:bob@192.0.2.9:5070", []string{"sip:p1.example.com;lr=on"}},
		{"strict router first", []string{"sip:p1.example.com;method=INVITE", "sip:p2.example.com;lr"}, "sip:p1.example.com",
			[]string{"sip:p2.example.com;lr", "sip:bob@192.0.2.9:5070"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var routes []sip.Uri
			for _, r := range tt.routes {
				routes = append(routes, uri(r))
			}
			ruri, out := requestTarget(target, routes)
			if ruri.String() != tt.ruri {
				t.Errorf("R-URI %s, want %s", ruri.String(), tt.ruri)
			}
			var got []string
			for _, r := range out {
				got = append(got, r.String())
			}
			if len(got) != len(tt.route) {
				t.Fatalf("Route %v, want %v", got, tt.route)
			}
			for i := range got {
				if got[i] != tt.route[i] {
					t.Errorf("Route %v, want %v", got, tt.route)
				}
			}
			if len(routes) > 0 && routes[0].String() != tt.routes[0] {
				t.Errorf("the route set itself was changed: %s", routes[0].String())
			}
		})
	}
}
