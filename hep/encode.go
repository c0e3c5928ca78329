package hep

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"
)

// Payload types, the value of chunk 0x000b. HEP3: "protocol type
// (SIP/H323/RTP/MGCP/M2UA)"; the numbers are the ones Homer assigns.
const (
	TypeSIP  = 1   // 0x01 SIP
	TypeSDP  = 3   // 0x03 SDP
	TypeRTP  = 4   // 0x04 RTP
	TypeRTCP = 5   // 0x05 RTCP, as JSON (what Homer stores and shows)
	TypeDNS  = 53  // 0x35 DNS, as JSON
	TypeCDR  = 60  // 0x3c call record (JSON, XML or text)
	TypeLog  = 100 // 0x64 log line
)

// IP family values of chunk 0x0001: the Linux AF_INET and AF_INET6, which
// is what collectors compare against.
const (
	familyIPv4 = 2
	familyIPv6 = 10
)

// maxLen is the largest packet the uint16 total length can describe.
const maxLen = 0xffff

// headerLen is "HEP3" plus the uint16 total length; chunkHeaderLen is
// vendor id, chunk type id and chunk length, each a uint16.
const (
	headerLen      = 6
	chunkHeaderLen = 6
)

// Packet is one captured message and where it went.
type Packet struct {
	Src, Dst netip.AddrPort
	// Proto is the IP protocol: 17 UDP, 6 TCP, 132 SCTP.
	Proto uint8
	// Time is when the message was sent or received. It travels in
	// seconds and microseconds since 1970 as uint32, so it must lie
	// between 1970 and 2106; the zero Time travels as 0 and comes back
	// as the zero Time.
	Time      time.Time
	CaptureID uint32
	// Password is the auth key (chunk 0x000e); not sent when empty.
	Password string
	// Type is the payload type: TypeSIP, TypeRTCP, TypeLog, ...
	Type uint8
	// CorrelationID (chunk 0x0011) ties a packet to others, for example
	// an RTCP report or a log line to its call's Call-ID; not sent when
	// empty.
	CorrelationID string
	Payload       []byte
}

// Append appends p encoded as one HEP3 packet to dst and returns the
// extended slice. It does not allocate when dst has the capacity.
//
// Addresses are sent in one family, as chunk 0x0001 says there is one:
// IPv4-mapped IPv6 addresses are sent as IPv4, and when one side is IPv4
// and the other IPv6 the IPv4 one is sent mapped (::ffff:a.b.c.d). An
// invalid (zero) address is sent as 0.0.0.0; zones are dropped.
//
// A HEP3 packet is at most 65535 bytes (its length is a uint16); what does
// not fit is cut from the end of the payload first, then of the
// correlation id, then of the password, so the packet stays well formed.
func Append(dst []byte, p *Packet) []byte {
	src, dstAddr := p.Src.Addr().Unmap(), p.Dst.Addr().Unmap()
	if !src.IsValid() {
		src = netip.IPv4Unspecified()
	}
	if !dstAddr.IsValid() {
		dstAddr = netip.IPv4Unspecified()
	}
	v4 := src.Is4() && dstAddr.Is4()

	// Fixed part: header, family, protocol, two addresses, two ports,
	// seconds, microseconds, payload type, capture id, and the payload's
	// chunk header, which is always sent.
	n := headerLen + 2*(chunkHeaderLen+1) + 2*(chunkHeaderLen+2) +
		3*(chunkHeaderLen+4) + (chunkHeaderLen + 1) + chunkHeaderLen
	if v4 {
		n += 2 * (chunkHeaderLen + 4)
	} else {
		n += 2 * (chunkHeaderLen + 16)
	}
	if p.Password != "" {
		n += chunkHeaderLen
	}
	if p.CorrelationID != "" {
		n += chunkHeaderLen
	}
	// What is left for the values is shared out in this order; the fixed
	// part is far below maxLen, so room never goes negative.
	room := maxLen - n
	password := p.Password[:min(len(p.Password), room)]
	room -= len(password)
	corr := p.CorrelationID[:min(len(p.CorrelationID), room)]
	room -= len(corr)
	payload := p.Payload[:min(len(p.Payload), room)]
	n += len(password) + len(corr) + len(payload)

	dst = slices.Grow(dst, n)
	// HEP3 header: "HEP3" and the total length, header included.
	dst = append(dst, "HEP3"...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))

	// HEP3 chunk 0x0001: uint8 IP protocol family.
	// HEP3 chunk 0x0002: uint8 IP protocol ID.
	if v4 {
		dst = appendUint8(dst, chunkFamily, familyIPv4)
	} else {
		dst = appendUint8(dst, chunkFamily, familyIPv6)
	}
	dst = appendUint8(dst, chunkProto, p.Proto)

	// HEP3 chunks 0x0003/0x0004: inet4-addr IPv4 source/destination
	// address; 0x0005/0x0006: inet6-addr IPv6 source/destination address.
	if v4 {
		s, d := src.As4(), dstAddr.As4()
		dst = appendBytes(dst, chunkIPv4Src, s[:])
		dst = appendBytes(dst, chunkIPv4Dst, d[:])
	} else {
		s, d := src.As16(), dstAddr.As16()
		dst = appendBytes(dst, chunkIPv6Src, s[:])
		dst = appendBytes(dst, chunkIPv6Dst, d[:])
	}

	// HEP3 chunks 0x0007/0x0008: uint16 protocol source/destination port.
	dst = appendUint16(dst, chunkSrcPort, p.Src.Port())
	dst = appendUint16(dst, chunkDstPort, p.Dst.Port())

	// HEP3 chunk 0x0009: uint32 timestamp, seconds since 01/01/1970;
	// 0x000a: uint32 timestamp microseconds offset (added to timestamp).
	var sec, usec uint32
	if !p.Time.IsZero() {
		sec = uint32(p.Time.Unix())
		usec = uint32(p.Time.Nanosecond() / 1000)
	}
	dst = appendUint32(dst, chunkTimeSec, sec)
	dst = appendUint32(dst, chunkTimeUsec, usec)

	// HEP3 chunk 0x000b: uint8 protocol type (SIP/H323/RTP/MGCP/M2UA).
	dst = appendUint8(dst, chunkType, p.Type)
	// HEP3 chunk 0x000c: uint32 capture agent ID.
	dst = appendUint32(dst, chunkCaptureID, p.CaptureID)

	// HEP3 chunk 0x000e: octet-string authenticate key.
	if p.Password != "" {
		dst = appendString(dst, chunkAuthKey, password)
	}
	// HEP3 chunk 0x000f: octet-string captured packet payload.
	dst = appendBytes(dst, chunkPayload, payload)
	// HEP3 chunk 0x0011: octet-string internal correlation id.
	if p.CorrelationID != "" {
		dst = appendString(dst, chunkCorrelationID, corr)
	}
	return dst
}

// appendChunkHeader writes a generic chunk's header for a value of n
// bytes. HEP3: "chunk vendor ID 0x0000 ... generic chunk types"; the chunk
// length includes the 6 bytes of the header.
func appendChunkHeader(dst []byte, typ uint16, n int) []byte {
	dst = binary.BigEndian.AppendUint16(dst, vendorGeneric)
	dst = binary.BigEndian.AppendUint16(dst, typ)
	return binary.BigEndian.AppendUint16(dst, uint16(chunkHeaderLen+n))
}

func appendUint8(dst []byte, typ uint16, v uint8) []byte {
	return append(appendChunkHeader(dst, typ, 1), v)
}

func appendUint16(dst []byte, typ uint16, v uint16) []byte {
	return binary.BigEndian.AppendUint16(appendChunkHeader(dst, typ, 2), v)
}

func appendUint32(dst []byte, typ uint16, v uint32) []byte {
	return binary.BigEndian.AppendUint32(appendChunkHeader(dst, typ, 4), v)
}

func appendBytes(dst []byte, typ uint16, v []byte) []byte {
	return append(appendChunkHeader(dst, typ, len(v)), v...)
}

func appendString(dst []byte, typ uint16, v string) []byte {
	return append(appendChunkHeader(dst, typ, len(v)), v...)
}
