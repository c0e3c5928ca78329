package sbc

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// A PBX's 407 challenge and the caller's retried credentials cross natsbc
// as they are: a B2BUA that drops them makes every call through a
// challenging PBX fail (RFC 3261 §22.3).
func TestDigestHeadersCrossTheCall(t *testing.T) {
	challenge := mustParse(t, `
SIP/2.0 407 Proxy Authentication Required
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK.b
From: <sip:alice@example.org>;tag=b
To: <sip:bob@example.org>;tag=pbx
Call-ID: b-leg
CSeq: 1 INVITE
Proxy-Authenticate: Digest realm="example.org", nonce="abc", qop="auth"
WWW-Authenticate: Digest realm="other", nonce="def"
Content-Length: 0

`)
	reply := sip.NewResponse(407, "Proxy Authentication Required")
	copyEndToEnd(reply, challenge, policy.Peer{Name: "pbx", Role: policy.RolePBX})
	for _, want := range []string{`Proxy-Authenticate: Digest realm="example.org", nonce="abc", qop="auth"`, `WWW-Authenticate: Digest realm="other", nonce="def"`} {
		if !strings.Contains(reply.String(), want) {
			t.Errorf("challenge lost %q:\n%s", want, reply)
		}
	}

	retry := mustParse(t, `
INVITE sip:bob@example.org SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK.2
From: <sip:alice@example.org>;tag=a
To: <sip:bob@example.org>
Call-ID: a-leg
CSeq: 2 INVITE
Contact: <sip:alice@192.168.1.10:5060>
Max-Forwards: 70
Proxy-Authorization: Digest username="alice", realm="example.org", nonce="abc", uri="sip:bob@example.org", response="0123"
Authorization: Digest username="alice", realm="other", nonce="def", uri="sip:bob@example.org", response="4567"
Content-Length: 0

`)
	out := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "example.org"})
	copyEndToEnd(out, retry, policy.Peer{})
	for _, want := range []string{`Proxy-Authorization: Digest username="alice", realm="example.org", nonce="abc", uri="sip:bob@example.org", response="0123"`, `Authorization: Digest username="alice"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("credentials lost %q:\n%s", want, out)
		}
	}
}

// RFC 3325 §5: identity headers pass only from a trusted peer.
func TestIdentityHeadersOnlyFromTrustedPeers(t *testing.T) {
	in := mustParse(t, `
INVITE sip:bob@example.org SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK.1
From: <sip:alice@example.org>;tag=a
To: <sip:bob@example.org>
Call-ID: c
CSeq: 1 INVITE
P-Asserted-Identity: <sip:ceo@example.org>
p-preferred-identity: <sip:ceo@example.org>
Remote-Party-ID: <sip:ceo@example.org>;party=calling
Privacy: id
X-Kept: yes
Content-Length: 0

`)
	identity := []string{"P-Asserted-Identity", "p-preferred-identity", "Remote-Party-ID", "Privacy"}
	for _, tc := range []struct {
		name   string
		sender policy.Peer
		keep   bool
	}{
		{"unknown source", policy.Peer{}, false},
		{"endpoint", policy.Peer{Name: "phones", Role: policy.RoleEndpoint}, false},
		{"untrusted trunk", policy.Peer{Name: "carrier", Role: policy.RoleTrunk}, false},
		{"trusted trunk", policy.Peer{Name: "carrier", Role: policy.RoleTrunk, TrustIdentity: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "10.0.0.10"})
			copyEndToEnd(out, in, tc.sender)
			text := out.String()
			for _, h := range identity {
				if got := strings.Contains(text, h+":"); got != tc.keep {
					t.Errorf("%s carried = %v, want %v:\n%s", h, got, tc.keep, text)
				}
			}
			if !strings.Contains(text, "X-Kept: yes") {
				t.Errorf("end-to-end header lost:\n%s", text)
			}
		})
	}
}

// Every relay path classifies a header the same way: one table.
func TestHeaderClassesCoverCompactForms(t *testing.T) {
	pairs := map[string]string{"v": "via", "m": "contact", "i": "call-id", "f": "from", "t": "to", "l": "content-length", "c": "content-type"}
	for short, long := range pairs {
		if classOf(short) != classOf(long) {
			t.Errorf("compact %q is %d, %q is %d", short, classOf(short), long, classOf(long))
		}
	}
	if classOf("Proxy-Authorization") != endToEnd || classOf("WWW-Authenticate") != endToEnd {
		t.Error("digest headers must be end-to-end")
	}
}

// natsbc's own option tags join the Supported line already there: a B-leg
// INVITE says "Supported: timer, 100rel" once, not in two lines that a
// simple parser reads only the first of.
func TestAddOptionTagJoinsOneLine(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "10.0.0.10"})
	addOptionTag(req, "Supported", "timer")
	addOptionTag(req, "Supported", "100rel")
	addOptionTag(req, "Supported", "timer")
	got := req.GetHeaders("Supported")
	if len(got) != 1 || got[0].Value() != "timer, 100rel" {
		t.Fatalf("Supported headers = %v, want one line \"timer, 100rel\"", got)
	}
}
