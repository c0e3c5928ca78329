package sbc

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar"
)

func parseReq(t *testing.T, headers ...string) *sip.Request {
	t.Helper()
	raw := sipMsg("REGISTER sip:example.com SIP/2.0", append([]string{
		"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-1",
		"From: <sip:alice@Example.COM>;tag=1",
		"To: <sip:alice@Example.COM>",
		"Call-ID: c1",
		"CSeq: 1 REGISTER",
	}, headers...), "")
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m.(*sip.Request)
}

func TestParseRegister(t *testing.T) {
	r, rej := parseRegister(parseReq(t,
		"Contact: <sip:alice@192.168.1.10:5060>;expires=120, <sip:alice@192.168.1.10:5070>",
		"Contact: <sip:alice@[fd00::1]:5060;transport=tcp>;q=0.5",
		"Expires: 300"))
	if rej != nil {
		t.Fatal(rej)
	}
	if r.aor != "sip:alice@example.com" {
		t.Errorf("aor = %q", r.aor)
	}
	want := []int{120, 300, 300}
	if len(r.contacts) != 3 {
		t.Fatalf("%d contacts, want 3", len(r.contacts))
	}
	for i, c := range r.contacts {
		if c.asked != want[i] {
			t.Errorf("contact %d asked %d, want %d", i, c.asked, want[i])
		}
		if !strings.HasPrefix(c.key, r.aor+"\x00sip:alice@") {
			t.Errorf("contact %d key %q", i, c.key)
		}
	}
	if r.wildcard || r.contacts[0].asked == 0 {
		t.Error("a registration read as un-register")
	}

	r, rej = parseRegister(parseReq(t, "Contact: *", "Expires: 0"))
	if rej != nil || !r.wildcard || len(r.contacts) != 0 {
		t.Errorf("Contact: * with Expires: 0: %+v %v", r, rej)
	}
	r, _ = parseRegister(parseReq(t, "Contact: <sip:alice@192.168.1.10>;expires=0"))
	if len(r.contacts) != 1 || r.contacts[0].asked != 0 {
		t.Errorf("expires=0 not an un-register: %+v", r)
	}
	r, _ = parseRegister(parseReq(t, "Contact: <sip:alice@192.168.1.10>"))
	if r.contacts[0].asked != registrar.NoExpires {
		t.Errorf("no expires anywhere: asked %d, want registrar.NoExpires", r.contacts[0].asked)
	}
}

// RFC 3261 §10.3 step 6 and §20.19: what a registrar answers 400.
func TestParseRegisterRejects(t *testing.T) {
	for name, hs := range map[string][]string{
		"star without Expires 0": {"Contact: *"},
		"star with others":       {"Contact: *, <sip:alice@10.0.0.1>", "Expires: 0"},
		"negative Expires":       {"Contact: <sip:alice@10.0.0.1>", "Expires: -5"},
		"bad expires param":      {"Contact: <sip:alice@10.0.0.1>;expires=soon"},
	} {
		if _, rej := parseRegister(parseReq(t, hs...)); rej == nil || rej.Code != 400 {
			t.Errorf("%s: got %v, want 400", name, rej)
		}
	}
}
