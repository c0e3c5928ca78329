package nat

import (
	"net"
	"net/netip"

	"github.com/pion/stun/v3"
)

// AnswerBinding answers a STUN Binding request that arrived from `from`
// (RFC 5389 §3, §7.3: tell the client the transport address its request
// came from, i.e. its server-reflexive address). It serves STUN
// keepalives on the SIP sockets and on the media relay, where the mapped
// address tells a phone how its NAT maps it. The message is decoded and
// built with pion/stun.
//
// ok=false: req is not a well-formed Binding request (wrong class or
// method, no magic cookie, bad length, bad FINGERPRINT, …) and must be
// dropped silently (§7.3). Classic RFC 3489 requests (no magic cookie) are
// dropped too: the cookie is what tells STUN from RTP and SIP on a shared
// socket (RFC 5389 §6, RFC 7983); every RFC 5389 client sends it.
//
// ok=true: resp is either a success response carrying XOR-MAPPED-ADDRESS
// = from (§15.2), MAPPED-ADDRESS = from for clients that only read that
// (§15.1, §12.2), SOFTWARE (§15.10) and FINGERPRINT when the request had
// one (§7.3.3), or a 420 error listing the request's unknown
// comprehension-required attributes (§7.3.1).
func AnswerBinding(req []byte, from netip.AddrPort) (resp []byte, ok bool) {
	// The one allocation is the answer; RTP and SIP leave with nil.
	return AppendBindingAnswer(nil, req, from)
}

// maxAnswerSize bounds every answer, so growing dst once up front lets
// pion write the whole message in place: the largest is an IPv6 success
// to a checked request, 20 + 24 + 24 + 12 + 24 (MESSAGE-INTEGRITY) + 8
// (FINGERPRINT) = 112 bytes; a 420 with 16 unknown types is 20 + 28
// (ERROR-CODE) + 36 (UNKNOWN-ATTRIBUTES) + 12 (SOFTWARE) + 8 = 104.
const maxAnswerSize = 128

// AppendBindingAnswer is AnswerBinding appending to dst, so a relay that
// reuses a buffer per socket answers keepalives without allocating. With
// ok=false dst is returned unchanged.
func AppendBindingAnswer(dst, req []byte, from netip.AddrPort) (resp []byte, ok bool) {
	if !from.IsValid() || !mayBeBindingRequest(req) {
		return dst, false // RTP and SIP pass here, touching nothing
	}
	x := exchangePool.Get().(*bindingExchange)
	defer x.release()
	if !x.decodeRequest(req) {
		return dst, false
	}
	return x.appendAnswer(dst, from, nil)
}

// appendAnswer appends the answer to the decoded x.req to dst, signed
// with key when key is not nil.
func (x *bindingExchange) appendAnswer(dst []byte, from netip.AddrPort, key stun.MessageIntegrity) ([]byte, bool) {
	start := len(dst)
	out := dst
	if cap(dst)-start < maxAnswerSize {
		// Not slices.Grow: under the race detector it allocates twice.
		out = make([]byte, start, start+maxAnswerSize)
		copy(out, dst)
	}
	// pion appends to Raw; starting it empty in out's spare capacity makes
	// the answer land right after dst's contents.
	x.resp.Raw = out[start:start]
	x.resp.Attributes = x.resp.Attributes[:0]
	if x.buildAnswer(from, key) != nil {
		return dst, false // cannot happen: every address fits
	}
	raw := x.resp.Raw
	if &raw[0] == &out[start : start+1][0] { // written in place
		return out[:start+len(raw)], true
	}
	return append(out[:start], raw...), true // pion had to grow Raw elsewhere
}

// buildAnswer writes the answer to x.req into x.resp (RFC 5389 §7.3.1),
// with MESSAGE-INTEGRITY keyed by key when key is not nil.
func (x *bindingExchange) buildAnswer(from netip.AddrPort, key stun.MessageIntegrity) error {
	m := &x.resp
	m.TransactionID = x.req.TransactionID
	m.Type = stun.BindingSuccess
	if x.nUnknown > 0 {
		m.Type = stun.BindingError
	}
	m.Length = 0
	m.WriteHeader()
	if x.nUnknown > 0 {
		// §7.3.1: 420 (Unknown Attribute) with UNKNOWN-ATTRIBUTES (§15.9)
		// listing the comprehension-required types not understood.
		if err := stun.CodeUnknownAttribute.AddTo(m); err != nil {
			return err
		}
		if err := stun.UnknownAttributes(x.unknown[:x.nUnknown]).AddTo(m); err != nil {
			return err
		}
	} else {
		// §15.2 XOR-MAPPED-ADDRESS and §15.1 MAPPED-ADDRESS carry the
		// source address. A dual-stack socket reports IPv4 peers as
		// ::ffff:a.b.c.d; pion writes those as IPv4 (family 0x01), which
		// is what the client's own socket knows. A zone means nothing to
		// the peer and is dropped.
		ip16 := from.Addr().WithZone("").Unmap().As16()
		ip, port := net.IP(ip16[:]), int(from.Port())
		if err := (stun.XORMappedAddress{IP: ip, Port: port}).AddTo(m); err != nil {
			return err
		}
		if err := (&stun.MappedAddress{IP: ip, Port: port}).AddTo(m); err != nil {
			return err
		}
	}
	if err := softwareAttr.AddTo(m); err != nil { // §15.10
		return err
	}
	// §10.1.2: the answer to a checked request carries MESSAGE-INTEGRITY
	// with the same key, and nothing but FINGERPRINT after it (§15.4).
	if key != nil {
		if err := key.AddTo(m); err != nil {
			return err
		}
	}
	// §7.3.3 / §15.5: FINGERPRINT in the answer when the request had one;
	// always in the answer to a checked request (RFC 8445 §7: ICE uses
	// FINGERPRINT in connectivity checks).
	if x.hasFingerprint || key != nil {
		return stun.Fingerprint.AddTo(m)
	}
	return nil
}
