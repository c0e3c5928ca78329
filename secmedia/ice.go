package secmedia

import (
	"crypto/rand"
	"net/netip"

	"github.com/natsbc/natsbc/nat"
	"github.com/pion/stun/v3"
)

// ICE credential lengths natsbc generates. RFC 8445 §5.3: ice-ufrag is at
// least 4 ice-chars and ice-pwd at least 22; 8 and 24 characters of 64
// possible values give 48 and 144 random bits.
const (
	iceUfragLen = 8
	icePwdLen   = 24
)

// iceChars are the characters of RFC 8839's ice-char (ALPHA / DIGIT /
// "+" / "/"), 64 of them, so a random byte's low six bits pick one
// without bias.
const iceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// NewICECredentials returns a fresh ice-ufrag and ice-pwd for natsbc's side
// of a leg, from crypto/rand: the pwd keys every check's MESSAGE-INTEGRITY,
// so a guessable one would let a stranger pass checks (RFC 8445 §5.3).
func NewICECredentials() (ufrag, pwd string) {
	return randomICEChars(iceUfragLen), randomICEChars(icePwdLen)
}

func randomICEChars(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	for i := range b {
		b[i] = iceChars[b[i]&0x3f]
	}
	return string(b)
}

// ICELite is natsbc's side of a leg as an ICE-lite agent (RFC 8445 §2.5):
// it has only host candidates (its relay ports), never sends checks, and
// answers the full agent's checks, which also keep the peer's NAT binding
// and consent alive (RFC 7675).
type ICELite struct {
	LocalUfrag, LocalPwd string // what natsbc's SDP announced
	// RemoteUfrag is the peer's ice-ufrag; "" accepts any (the peer's
	// SDP may not have arrived when its first checks do).
	RemoteUfrag string
}

// Answer answers a connectivity check (RFC 8445 §7.3), a STUN Binding
// request from src, appending to dst a success response that carries
// XOR-MAPPED-ADDRESS = src (the peer's reflexive address as natsbc sees
// it), MESSAGE-INTEGRITY keyed with LocalPwd and FINGERPRINT.
//
// The request must carry USERNAME "LocalUfrag:RemoteUfrag" (§7.2.2) and
// MESSAGE-INTEGRITY that verifies with LocalPwd (RFC 5389 §10.1.2), and a
// FINGERPRINT that verifies if it has one. Anything else gets ok=false and
// nothing appended. useCandidate
// reports USE-CANDIDATE: the controlling agent nominated this pair
// (§7.3.1.5), so the relay may latch the peer's media to src.
//
// STUN is read and written by package nat, as for every Binding request
// natsbc answers.
func (i *ICELite) Answer(dst, req []byte, src netip.AddrPort) (resp []byte, useCandidate, ok bool) {
	if i.LocalUfrag == "" || i.LocalPwd == "" {
		return dst, false, false
	}
	resp, ok = nat.AppendCheckedBindingAnswer(dst, req, src, []byte(i.LocalPwd), func(m *stun.Message) bool {
		user, err := m.Get(stun.AttrUsername)
		if err != nil || !i.usernameMatches(user) {
			return false
		}
		useCandidate = m.Contains(stun.AttrUseCandidate)
		return true
	})
	return resp, useCandidate && ok, ok
}

// usernameMatches reports whether a check's USERNAME is addressed to
// natsbc and comes from the peer: RFC 8445 §7.2.2 has the sender write the
// receiver's ufrag, a colon, then its own.
func (i *ICELite) usernameMatches(user []byte) bool {
	n := len(i.LocalUfrag)
	// The sender's fragment is never empty (RFC 8445 §5.3).
	if len(user) <= n+1 || string(user[:n]) != i.LocalUfrag || user[n] != ':' {
		return false
	}
	return i.RemoteUfrag == "" || string(user[n+1:]) == i.RemoteUfrag
}
