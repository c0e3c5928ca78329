package nat

import (
	"encoding/binary"
	"hash/crc32"
)

// STUN wire constants, RFC 5389 §6 (header) and §18.2 (attribute registry).
const (
	stunHeaderSize  = 20
	stunMagicCookie = 0x2112A442

	stunBindingRequest = 0x0001 // class request, method Binding (§6, §18.1)
	stunBindingSuccess = 0x0101 // class success response, method Binding
	stunBindingError   = 0x0111 // class error response, method Binding

	attrMappedAddress    = 0x0001
	attrUsername         = 0x0006
	attrMessageIntegrity = 0x0008
	attrErrorCode        = 0x0009
	attrUnknownAttrs     = 0x000A
	attrRealm            = 0x0014
	attrNonce            = 0x0015
	attrXORMappedAddress = 0x0020
	attrSoftware         = 0x8022
	attrFingerprint      = 0x8028

	// RFC 8489 §18.3.1 additions a newer client may send.
	attrMessageIntegritySHA256 = 0x001C
	attrPasswordAlgorithm      = 0x001D
	attrUserhash               = 0x001E
	// RFC 8445 §16.1: ICE connectivity checks are Binding requests too.
	attrPriority     = 0x0024
	attrUseCandidate = 0x0025

	// §15.5: FINGERPRINT is the CRC-32 of the message XORed with this.
	stunFingerprintXOR = 0x5354554e

	stunFamilyIPv4 = 0x01
	stunFamilyIPv6 = 0x02
)

// stunSoftware is the SOFTWARE value natsbc puts in its responses (§15.10).
const stunSoftware = "natsbc"

// maxUnknownReported bounds the UNKNOWN-ATTRIBUTES list of a 420 so a
// hostile request cannot make natsbc build a large response.
const maxUnknownReported = 16

// stunRequest is what a Binding request says, as far as natsbc cares.
type stunRequest struct {
	txID           [12]byte
	hasFingerprint bool
	unknown        [maxUnknownReported]uint16
	nUnknown       int
}

// comprehensionRequired: RFC 5389 §15, types 0x0000-0x7FFF must be
// understood or the request rejected with 420.
func comprehensionRequired(t uint16) bool { return t < 0x8000 }

// understoodAttr lists the comprehension-required attributes a Binding
// server without credentials can accept. Credential attributes are
// understood but not checked: natsbc answers Binding requests without
// authentication (RFC 5389 §10 makes credentials a usage's choice), and an
// ICE agent simply discards an answer that lacks MESSAGE-INTEGRITY.
func understoodAttr(t uint16) bool {
	switch t {
	case attrMappedAddress, attrUsername, attrMessageIntegrity, attrErrorCode,
		attrUnknownAttrs, attrRealm, attrNonce, attrXORMappedAddress,
		attrMessageIntegritySHA256, attrPasswordAlgorithm, attrUserhash,
		attrPriority, attrUseCandidate:
		return true
	}
	return false
}

// parseBindingRequest checks the RFC 5389 §7.3 rules for a request
// received over UDP and walks its attributes. ok=false means "not a
// well-formed Binding request": the caller must drop it silently.
func parseBindingRequest(b []byte) (req stunRequest, ok bool) {
	// §6: the two top bits are zero, the length counts attribute bytes
	// (a multiple of 4) and the magic cookie is present. A datagram holds
	// exactly one message.
	if len(b) < stunHeaderSize || b[0]&0xC0 != 0 {
		return req, false
	}
	if binary.BigEndian.Uint16(b[0:2]) != stunBindingRequest {
		return req, false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n%4 != 0 || stunHeaderSize+n != len(b) {
		return req, false
	}
	if binary.BigEndian.Uint32(b[4:8]) != stunMagicCookie {
		return req, false
	}
	copy(req.txID[:], b[8:20])

	afterIntegrity := false
	for off := stunHeaderSize; off < len(b); {
		if len(b)-off < 4 {
			return req, false
		}
		typ := binary.BigEndian.Uint16(b[off : off+2])
		vlen := int(binary.BigEndian.Uint16(b[off+2 : off+4]))
		end := off + 4 + vlen
		padded := off + 4 + (vlen+3)&^3
		if padded > len(b) {
			return req, false
		}
		if typ == attrFingerprint {
			// §15.5: FINGERPRINT is last and covers everything before it;
			// §7.3: a wrong one means the message is not STUN: drop it.
			if vlen != 4 || padded != len(b) {
				return req, false
			}
			want := crc32.ChecksumIEEE(b[:off]) ^ stunFingerprintXOR
			if binary.BigEndian.Uint32(b[off+4:end]) != want {
				return req, false
			}
			req.hasFingerprint = true
			break
		}
		// §15.4: attributes after MESSAGE-INTEGRITY (except FINGERPRINT)
		// are ignored, so they cannot cause a 420 either.
		if !afterIntegrity && comprehensionRequired(typ) && !understoodAttr(typ) &&
			req.nUnknown < maxUnknownReported {
			req.unknown[req.nUnknown] = typ
			req.nUnknown++
		}
		if typ == attrMessageIntegrity || typ == attrMessageIntegritySHA256 {
			afterIntegrity = true
		}
		off = padded
	}
	return req, true
}
