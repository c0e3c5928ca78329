package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func notifyWithState(v string) *sip.Request {
	req := sip.NewRequest(sip.NOTIFY, sip.Uri{Scheme: "sip", Host: "example.com"})
	if v != "" {
		req.AppendHeader(sip.NewHeader("Subscription-State", v))
	}
	return req
}

// RFC 6665 §8.2.3: the state, and the expires parameter when there is one.
func TestSubscriptionState(t *testing.T) {
	for _, tt := range []struct {
		v, state string
		expires  int
		ok       bool
	}{
		{"active;expires=3600", "active", 3600, true},
		{"Active ; Expires = 60 ", "active", 60, true},
		{"pending", "pending", 0, false},
		{"terminated;reason=timeout", "terminated", 0, false},
		{"active;expires=-5", "active", 0, false},
		{"active;expires=soon", "active", 0, false},
		{"", "", 0, false},
	} {
		state, expires, ok := subscriptionState(notifyWithState(tt.v))
		if state != tt.state || expires != tt.expires || ok != tt.ok {
			t.Errorf("%q: %q %d %v, want %q %d %v", tt.v, state, expires, ok, tt.state, tt.expires, tt.ok)
		}
	}
}

func FuzzSubscriptionState(f *testing.F) {
	for _, s := range []string{"active;expires=3600", "terminated;reason=noresource", ";;=", "active;expires=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		state, expires, ok := subscriptionState(notifyWithState(v))
		if expires < 0 || (!ok && expires != 0) {
			t.Fatalf("%q: expires %d ok %v", v, expires, ok)
		}
		_ = state
	})
}
