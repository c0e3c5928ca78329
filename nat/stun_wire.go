package nat

import (
	"encoding/binary"
	"sync"

	"github.com/pion/stun/v3"
)

// stunSoftware is the SOFTWARE value natsbc puts in its messages (§15.10).
const stunSoftware = "natsbc"

// softwareAttr is built once so answering and asking do not convert the
// string.
var softwareAttr = stun.NewSoftware(stunSoftware)

// maxUnknownReported bounds the UNKNOWN-ATTRIBUTES list of a 420 so a
// hostile request cannot make natsbc build a large response.
const maxUnknownReported = 16

// bindingExchange is one request and its answer as pion Messages. pion
// decodes into and encodes from a Message's own attribute list; keeping
// Messages in a pool lets those lists be reused, so answering does not
// allocate once the pool is warm. (A Message on the stack does not do:
// Decode stores into the list through its receiver, which moves the
// list's array to the heap.)
type bindingExchange struct {
	req, resp      stun.Message
	unknown        [maxUnknownReported]stun.AttrType
	nUnknown       int
	hasFingerprint bool

	// Room for the usual requests (an ICE check carries about eight
	// attributes) and for any answer (at most five), in the same
	// allocation as the exchange.
	reqAttrs  [16]stun.RawAttribute
	respAttrs [5]stun.RawAttribute

	// reqCopy holds a checked request while MESSAGE-INTEGRITY is verified:
	// pion rewrites the header's length and appends the HMAC in the spare
	// capacity of the message it checks, which must not be the caller's.
	reqCopy [maxCheckedRequest + stunHMACSize]byte
}

// maxPooledReqAttrs: a request with a few thousand attributes makes pion
// grow the list; such a list is not worth keeping.
const maxPooledReqAttrs = 64

var exchangePool = sync.Pool{New: func() any {
	x := new(bindingExchange)
	x.req.Attributes = x.reqAttrs[:0]
	x.resp.Attributes = x.respAttrs[:0]
	return x
}}

// release returns x to the pool without references to the caller's
// buffers, which its Raw fields and attribute values point into.
func (x *bindingExchange) release() {
	if cap(x.req.Attributes) > maxPooledReqAttrs {
		return
	}
	// A checked request's list may have been cut short after
	// MESSAGE-INTEGRITY: clear up to the capacity.
	clear(x.req.Attributes[:cap(x.req.Attributes)])
	clear(x.resp.Attributes)
	x.req.Attributes, x.resp.Attributes = x.req.Attributes[:0], x.resp.Attributes[:0]
	x.req.Raw, x.resp.Raw = nil, nil
	x.nUnknown, x.hasFingerprint = 0, false
	exchangePool.Put(x)
}

// mayBeBindingRequest is the check that runs before any decoding, so RTP,
// RTCP, DTLS and SIP sharing the socket cost a few byte compares.
//
// RFC 5389 §6: the two top bits of a STUN message are zero, the message
// length counts attribute bytes (a multiple of 4) and the magic cookie
// follows; RFC 7983 (updating RFC 5764 §5.1.2) demultiplexes on that first
// byte. A UDP datagram
// holds exactly one message, so its length must match the header's.
// The type must be Binding request (§18.1); a classic RFC 3489 request
// without the cookie is dropped: the cookie is what tells STUN apart.
func mayBeBindingRequest(b []byte) bool {
	if !stun.IsMessage(b) || b[0]&0xC0 != 0 {
		return false
	}
	if binary.BigEndian.Uint16(b[0:2]) != stun.BindingRequest.Value() {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	return n%4 == 0 && 20+n == len(b)
}

// decodeRequest decodes b with pion and applies the RFC 5389 §7.3 checks
// pion leaves to the server. false: not a well-formed Binding request,
// to be dropped silently. x.req refers to b until release.
func (x *bindingExchange) decodeRequest(b []byte) bool {
	if !mayBeBindingRequest(b) {
		return false
	}
	x.req.Raw = b
	x.nUnknown, x.hasFingerprint = 0, false
	if x.req.Decode() != nil || x.req.Type != stun.BindingRequest {
		return false
	}
	attrs := x.req.Attributes
	afterIntegrity := false
	for i, a := range attrs {
		// §15.5: FINGERPRINT is the last attribute.
		if a.Type == stun.AttrFingerprint && i != len(attrs)-1 {
			return false
		}
		// §7.3.1: comprehension-required attributes natsbc does not know
		// make a 420. §15.4: attributes after MESSAGE-INTEGRITY (except
		// FINGERPRINT) are ignored, so they cannot cause a 420 either.
		if !afterIntegrity && a.Type.Required() && !understoodAttr(a.Type) &&
			x.nUnknown < maxUnknownReported {
			x.unknown[x.nUnknown] = a.Type
			x.nUnknown++
		}
		if a.Type == stun.AttrMessageIntegrity || a.Type == stun.AttrMessageIntegritySHA256 {
			afterIntegrity = true
		}
	}
	// §7.3: a FINGERPRINT that does not match means the datagram is not
	// STUN at all: drop it.
	x.hasFingerprint = len(attrs) > 0 && attrs[len(attrs)-1].Type == stun.AttrFingerprint
	return !x.hasFingerprint || stun.Fingerprint.Check(&x.req) == nil
}

// understoodAttr lists the comprehension-required attributes a Binding
// server without credentials can accept. Credential attributes are
// understood but not checked: natsbc answers Binding requests without
// authentication (RFC 5389 §10 makes credentials a usage's choice), and an
// ICE agent simply discards an answer that lacks MESSAGE-INTEGRITY.
// RFC 8489 §18.3.1 adds the SHA-256 and USERHASH credentials a newer
// client may send; RFC 8445 §16.1 adds PRIORITY and USE-CANDIDATE, as ICE
// connectivity checks are Binding requests too.
func understoodAttr(t stun.AttrType) bool {
	switch t {
	case stun.AttrMappedAddress, stun.AttrUsername, stun.AttrMessageIntegrity,
		stun.AttrErrorCode, stun.AttrUnknownAttributes, stun.AttrRealm,
		stun.AttrNonce, stun.AttrXORMappedAddress,
		stun.AttrMessageIntegritySHA256, stun.AttrPasswordAlgorithm,
		stun.AttrUserhash, stun.AttrPriority, stun.AttrUseCandidate:
		return true
	}
	return false
}
