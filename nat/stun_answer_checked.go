package nat

import (
	"crypto/sha1"
	"net/netip"

	"github.com/pion/stun/v3"
)

// maxCheckedRequest bounds the requests AppendCheckedBindingAnswer takes.
// An ICE check is about 100 bytes; its longest part is USERNAME, two ufrags
// of at most 256 characters (RFC 8445 §5.3), so 576 leaves room for any
// real check while a request natsbc copies stays small.
const maxCheckedRequest = 576

// stunHMACSize is the size of a MESSAGE-INTEGRITY value (RFC 5389 §15.4).
const stunHMACSize = sha1.Size

// AppendCheckedBindingAnswer answers a Binding request that carries
// short-term credentials (RFC 5389 §10.1.2), such as an ICE connectivity
// check (RFC 8445 §7.3), appending the answer to dst. The request must be
// well formed as for AppendBindingAnswer and carry USERNAME and
// MESSAGE-INTEGRITY; accept sees it (to check USERNAME and read other
// attributes) before its MESSAGE-INTEGRITY is verified with key. Only the
// attributes before MESSAGE-INTEGRITY are in the message accept sees:
// §15.4 says the rest (but FINGERPRINT) are ignored, as anyone on the path
// could have added them.
//
// The success answer is AppendBindingAnswer's plus MESSAGE-INTEGRITY keyed
// with key and, always, FINGERPRINT (RFC 8445 §7). Everything else
// (a request accept refuses, a wrong key, an unknown
// comprehension-required attribute) gets no answer, ok=false and dst
// unchanged: an error response would tell whoever scans the port that it
// is live and whether a guessed username exists.
//
// accept must not keep the message: it refers to natsbc's copy of req,
// reused after the call.
func AppendCheckedBindingAnswer(dst, req []byte, from netip.AddrPort, key []byte,
	accept func(req *stun.Message) bool) (resp []byte, ok bool) {
	if !from.IsValid() || len(key) == 0 || len(req) > maxCheckedRequest || !mayBeBindingRequest(req) {
		return dst, false
	}
	x := exchangePool.Get().(*bindingExchange)
	defer x.release()
	// pion's integrity check writes into the message it checks (the
	// header's length while hashing, the HMAC after its end): it checks
	// a copy, which also leaves the caller's buffer untouched.
	n := copy(x.reqCopy[:], req)
	if !x.decodeRequest(x.reqCopy[:n:n+stunHMACSize]) || x.nUnknown > 0 {
		return dst, false
	}
	if !x.keepUpToIntegrity() || !x.req.Contains(stun.AttrUsername) || !accept(&x.req) {
		return dst, false
	}
	if stun.MessageIntegrity(key).Check(&x.req) != nil {
		return dst, false
	}
	return x.appendAnswer(dst, from, key)
}

// keepUpToIntegrity cuts x.req's attribute list after MESSAGE-INTEGRITY
// (RFC 5389 §15.4: what follows it is not covered and is ignored);
// false when the request has none.
func (x *bindingExchange) keepUpToIntegrity() bool {
	for i, a := range x.req.Attributes {
		if a.Type == stun.AttrMessageIntegrity {
			x.req.Attributes = x.req.Attributes[:i+1]
			return true
		}
	}
	return false
}
