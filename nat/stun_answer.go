package nat

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// AnswerBinding answers a STUN Binding request that arrived from `from`
// (RFC 5389 §3, §7.3: tell the client the transport address its request
// came from, i.e. its server-reflexive address). It serves STUN keepalives on the SIP sockets
// and on the media relay, where the mapped address tells a phone how its
// NAT maps it.
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
	r, ok := parseBindingRequest(req)
	if !ok || !from.IsValid() {
		return nil, false // RTP and SIP pass here: no allocation for them
	}
	// One allocation: the largest answer is a 420 with 16 unknown types,
	// 20 + 24 (ERROR-CODE) + 36 (UNKNOWN-ATTRIBUTES) + 12 + 8 = 100 bytes;
	// an IPv6 success with FINGERPRINT is 20 + 24 + 24 + 12 + 8 = 88.
	return appendAnswer(make([]byte, 0, 128), &r, from), true
}

// AppendBindingAnswer is AnswerBinding appending to dst, so a relay that
// reuses a buffer per socket answers keepalives without allocating. With
// ok=false dst is returned unchanged.
func AppendBindingAnswer(dst, req []byte, from netip.AddrPort) (resp []byte, ok bool) {
	r, ok := parseBindingRequest(req)
	if !ok || !from.IsValid() {
		return dst, false
	}
	return appendAnswer(dst, &r, from), true
}

func appendAnswer(dst []byte, r *stunRequest, from netip.AddrPort) []byte {
	start := len(dst)
	if r.nUnknown > 0 {
		dst = appendStunHeader(dst, stunBindingError, &r.txID)
		dst = appendErrorCode(dst, 420, "Unknown Attribute")
		dst = appendUnknownAttributes(dst, r.unknown[:r.nUnknown])
	} else {
		dst = appendStunHeader(dst, stunBindingSuccess, &r.txID)
		addr := netip.AddrPortFrom(from.Addr().WithZone("").Unmap(), from.Port())
		dst = appendAddressAttr(dst, attrXORMappedAddress, addr, &r.txID)
		dst = appendAddressAttr(dst, attrMappedAddress, addr, nil)
	}
	dst = appendAttrHeader(dst, attrSoftware, len(stunSoftware))
	dst = appendPadded(dst, stunSoftware)
	if r.hasFingerprint {
		return appendFingerprint(dst, start)
	}
	setStunLength(dst[start:])
	return dst
}

// appendStunHeader writes the 20-byte header (§6); the length is set once
// the attributes are in.
func appendStunHeader(b []byte, msgType uint16, txID *[12]byte) []byte {
	b = binary.BigEndian.AppendUint16(b, msgType)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint32(b, stunMagicCookie)
	return append(b, txID[:]...)
}

func setStunLength(msg []byte) {
	binary.BigEndian.PutUint16(msg[2:4], uint16(len(msg)-stunHeaderSize))
}

func appendAttrHeader(b []byte, typ uint16, n int) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	return binary.BigEndian.AppendUint16(b, uint16(n))
}

// appendPadded appends v and zero padding to a 4-byte boundary (§15).
func appendPadded[T []byte | string](b []byte, v T) []byte {
	b = append(b, v...)
	for n := len(v); n%4 != 0; n++ {
		b = append(b, 0)
	}
	return b
}

// appendAddressAttr writes MAPPED-ADDRESS (§15.1) or, with txID set,
// XOR-MAPPED-ADDRESS (§15.2): port XOR the cookie's top 16 bits, an IPv4
// address XOR the cookie, an IPv6 address XOR the cookie and the
// transaction ID.
func appendAddressAttr(b []byte, typ uint16, a netip.AddrPort, txID *[12]byte) []byte {
	ip := a.Addr()
	family, size := byte(stunFamilyIPv4), 4
	if ip.Is6() {
		family, size = stunFamilyIPv6, 16
	}
	b = appendAttrHeader(b, typ, 4+size)
	b = append(b, 0, family)
	port := a.Port()
	var key [16]byte
	if txID != nil {
		port ^= stunMagicCookie >> 16
		binary.BigEndian.PutUint32(key[0:4], stunMagicCookie)
		copy(key[4:], txID[:])
	}
	b = binary.BigEndian.AppendUint16(b, port)
	raw := ip.As16()
	if size == 4 {
		v4 := ip.As4()
		copy(raw[:4], v4[:])
	}
	for i := range size {
		b = append(b, raw[i]^key[i])
	}
	return b
}

// appendErrorCode writes ERROR-CODE (§15.6): class = code/100 in the low
// three bits of the third byte, number = code%100 in the fourth.
func appendErrorCode(b []byte, code int, reason string) []byte {
	b = appendAttrHeader(b, attrErrorCode, 4+len(reason))
	b = append(b, 0, 0, byte(code/100), byte(code%100))
	return appendPadded(b, reason)
}

// appendUnknownAttributes writes UNKNOWN-ATTRIBUTES (§15.9): the 16-bit
// types, padded like any attribute.
func appendUnknownAttributes(b []byte, types []uint16) []byte {
	b = appendAttrHeader(b, attrUnknownAttrs, 2*len(types))
	for _, t := range types {
		b = binary.BigEndian.AppendUint16(b, t)
	}
	if len(types)%2 != 0 {
		b = append(b, 0, 0)
	}
	return b
}

// appendFingerprint sets the header length to include FINGERPRINT, then
// appends it: CRC-32 of the message so far XOR 0x5354554e (§15.5).
func appendFingerprint(b []byte, start int) []byte {
	msg := b[start:]
	binary.BigEndian.PutUint16(msg[2:4], uint16(len(msg)-stunHeaderSize+8))
	crc := crc32.ChecksumIEEE(msg) ^ stunFingerprintXOR
	b = appendAttrHeader(b, attrFingerprint, 4)
	return binary.BigEndian.AppendUint32(b, crc)
}
