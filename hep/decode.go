package hep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrShort reports input that ends before the packet or a chunk does.
var ErrShort = errors.New("hep: packet too short")

// Decode parses one HEP3 packet, which must fill b exactly (a UDP datagram;
// on a TCP stream, read the 6-byte header first for the length).
//
// Decode reads what Append writes: it requires every chunk Append always
// sends (family, protocol, both addresses, both ports, both timestamps,
// payload type, capture id, payload), so that a packet it accepts encodes
// again to one no longer than the original and nothing is cut. Chunks of
// other vendors and generic chunks it does not know are skipped; when a
// chunk repeats, the last one counts. Decode never panics and copies what
// it keeps, so b may be reused.
func Decode(b []byte) (Packet, error) {
	var p Packet
	if len(b) < headerLen {
		return p, ErrShort
	}
	if string(b[:4]) != "HEP3" {
		return p, errors.New("hep: not a HEP3 packet (no \"HEP3\" magic)")
	}
	total := int(binary.BigEndian.Uint16(b[4:6]))
	switch {
	case total < headerLen:
		return p, fmt.Errorf("hep: total length %d is shorter than the header", total)
	case total > len(b):
		return p, fmt.Errorf("%w: total length %d, have %d bytes", ErrShort, total, len(b))
	case total < len(b):
		return p, fmt.Errorf("hep: %d bytes after the packet's total length %d", len(b)-total, total)
	}

	var (
		seen                    uint32 // bit per chunk type below 32
		family                  uint8
		v4src, v4dst            [4]byte
		v6src, v6dst            [16]byte
		srcPort, dstPort        uint16
		sec, usec               uint32
		payload                 []byte
		password, correlationID []byte
	)
	for rest := b[headerLen:total]; len(rest) > 0; {
		if len(rest) < chunkHeaderLen {
			return Packet{}, fmt.Errorf("%w: %d bytes left, a chunk header needs 6", ErrShort, len(rest))
		}
		vendor := binary.BigEndian.Uint16(rest[0:2])
		typ := binary.BigEndian.Uint16(rest[2:4])
		n := int(binary.BigEndian.Uint16(rest[4:6]))
		if n < chunkHeaderLen {
			return Packet{}, fmt.Errorf("hep: chunk 0x%04x length %d is shorter than its header", typ, n)
		}
		if n > len(rest) {
			return Packet{}, fmt.Errorf("%w: chunk 0x%04x length %d, %d bytes left", ErrShort, typ, n, len(rest))
		}
		v := rest[chunkHeaderLen:n]
		rest = rest[n:]
		if vendor != vendorGeneric {
			continue // vendor-specific: not ours to read
		}
		var err error
		switch typ {
		case chunkFamily:
			err = fixed(typ, v, 1)
			if err == nil {
				family = v[0]
			}
		case chunkProto:
			err = fixed(typ, v, 1)
			if err == nil {
				p.Proto = v[0]
			}
		case chunkIPv4Src:
			err = fixed(typ, v, 4)
			copy(v4src[:], v)
		case chunkIPv4Dst:
			err = fixed(typ, v, 4)
			copy(v4dst[:], v)
		case chunkIPv6Src:
			err = fixed(typ, v, 16)
			copy(v6src[:], v)
		case chunkIPv6Dst:
			err = fixed(typ, v, 16)
			copy(v6dst[:], v)
		case chunkSrcPort:
			err = fixed(typ, v, 2)
			if err == nil {
				srcPort = binary.BigEndian.Uint16(v)
			}
		case chunkDstPort:
			err = fixed(typ, v, 2)
			if err == nil {
				dstPort = binary.BigEndian.Uint16(v)
			}
		case chunkTimeSec:
			err = fixed(typ, v, 4)
			if err == nil {
				sec = binary.BigEndian.Uint32(v)
			}
		case chunkTimeUsec:
			err = fixed(typ, v, 4)
			if err == nil {
				usec = binary.BigEndian.Uint32(v)
			}
		case chunkType:
			err = fixed(typ, v, 1)
			if err == nil {
				p.Type = v[0]
			}
		case chunkCaptureID:
			err = fixed(typ, v, 4)
			if err == nil {
				p.CaptureID = binary.BigEndian.Uint32(v)
			}
		case chunkAuthKey:
			password = v
		case chunkPayload:
			payload = v
		case chunkCorrelationID:
			correlationID = v
		default:
			continue // a generic chunk natsbc does not use
		}
		if err != nil {
			return Packet{}, err
		}
		seen |= 1 << typ
	}

	for _, typ := range []uint16{chunkFamily, chunkProto, chunkSrcPort, chunkDstPort,
		chunkTimeSec, chunkTimeUsec, chunkType, chunkCaptureID, chunkPayload} {
		if seen&(1<<typ) == 0 {
			return Packet{}, fmt.Errorf("hep: no chunk 0x%04x", typ)
		}
	}

	// The family chunk says which address chunks hold the addresses.
	// Mapped IPv6 addresses come back as IPv4, as Append sends them.
	var src, dst netip.Addr
	switch family {
	case familyIPv4:
		if seen&(1<<chunkIPv4Src) == 0 || seen&(1<<chunkIPv4Dst) == 0 {
			return Packet{}, errors.New("hep: IPv4 family without IPv4 address chunks 0x0003/0x0004")
		}
		src, dst = netip.AddrFrom4(v4src), netip.AddrFrom4(v4dst)
	case familyIPv6:
		if seen&(1<<chunkIPv6Src) == 0 || seen&(1<<chunkIPv6Dst) == 0 {
			return Packet{}, errors.New("hep: IPv6 family without IPv6 address chunks 0x0005/0x0006")
		}
		src, dst = netip.AddrFrom16(v6src).Unmap(), netip.AddrFrom16(v6dst).Unmap()
	default:
		return Packet{}, fmt.Errorf("hep: unknown IP family %d", family)
	}
	p.Src = netip.AddrPortFrom(src, srcPort)
	p.Dst = netip.AddrPortFrom(dst, dstPort)

	// A microseconds offset of a second or more is no offset; refusing it
	// keeps seconds within uint32 when the packet is encoded again.
	if usec >= 1_000_000 {
		return Packet{}, fmt.Errorf("hep: timestamp microseconds %d out of range", usec)
	}
	if sec != 0 || usec != 0 {
		p.Time = time.Unix(int64(sec), int64(usec)*1000).UTC()
	}

	p.Password = string(password)
	p.CorrelationID = string(correlationID)
	if len(payload) > 0 {
		p.Payload = append([]byte(nil), payload...)
	}
	return p, nil
}

// fixed checks the value length of a fixed-size chunk.
func fixed(typ uint16, v []byte, n int) error {
	if len(v) != n {
		return fmt.Errorf("hep: chunk 0x%04x holds %d bytes, want %d", typ, len(v), n)
	}
	return nil
}
