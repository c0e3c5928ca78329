package hep

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// unhex turns a commented hex listing into bytes: everything after "//"
// on a line is a comment, white space is ignored.
func unhex(t testing.TB, listing string) []byte {
	t.Helper()
	var clean strings.Builder
	for line := range strings.Lines(listing) {
		line, _, _ = strings.Cut(line, "//")
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// v4Packet is an IPv4 SIP packet with a password and a correlation id.
var v4Packet = Packet{
	Src:           netip.MustParseAddrPort("10.0.0.1:5060"),
	Dst:           netip.MustParseAddrPort("192.168.1.20:5080"),
	Proto:         17,
	Time:          time.Unix(1700000000, 123456000).UTC(),
	CaptureID:     2001,
	Password:      "secret",
	Type:          TypeSIP,
	CorrelationID: "abc@host",
	Payload:       []byte("OPTIONS sip:x SIP/2.0\r\n\r\n"),
}

// v4Hex is v4Packet as the HEP3 specification lays it out, written by
// hand: vendor id, chunk type, chunk length (header included), value.
const v4Hex = `
48 45 50 33  0096                      // "HEP3", total length 150
0000 0001 0007  02                     // IP protocol family: AF_INET
0000 0002 0007  11                     // IP protocol ID: 17 (UDP)
0000 0003 000a  0a 00 00 01            // IPv4 source address 10.0.0.1
0000 0004 000a  c0 a8 01 14            // IPv4 destination address 192.168.1.20
0000 0007 0008  13c4                   // source port 5060
0000 0008 0008  13d8                   // destination port 5080
0000 0009 000a  6553f100               // timestamp seconds 1700000000
0000 000a 000a  0001e240               // timestamp microseconds 123456
0000 000b 0007  01                     // protocol type: SIP
0000 000c 000a  000007d1               // capture agent ID 2001
0000 000e 000c  73 65 63 72 65 74      // authenticate key "secret"
0000 000f 001f                         // captured payload, 25 bytes:
  4f 50 54 49 4f 4e 53 20 73 69 70 3a  //   "OPTIONS sip:"
  78 20 53 49 50 2f 32 2e 30 0d 0a 0d  //   "x SIP/2.0\r\n\r"
  0a                                   //   "\n"
0000 0011 000e  61 62 63 40 68 6f 73 74 // internal correlation id "abc@host"
`

// v6Packet is an IPv6 RTCP packet with neither password nor correlation id.
var v6Packet = Packet{
	Src:     netip.MustParseAddrPort("[2001:db8::1]:5060"),
	Dst:     netip.MustParseAddrPort("[2001:db8::2]:5061"),
	Proto:   6,
	Time:    time.Unix(1700000001, 1000).UTC(),
	Type:    TypeRTCP,
	Payload: []byte("{}"),
}

const v6Hex = `
48 45 50 33  007d                      // "HEP3", total length 125
0000 0001 0007  0a                     // IP protocol family: AF_INET6
0000 0002 0007  06                     // IP protocol ID: 6 (TCP)
0000 0005 0016                         // IPv6 source address 2001:db8::1
  20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 01
0000 0006 0016                         // IPv6 destination address 2001:db8::2
  20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 02
0000 0007 0008  13c4                   // source port 5060
0000 0008 0008  13c5                   // destination port 5061
0000 0009 000a  6553f101               // timestamp seconds 1700000001
0000 000a 000a  00000001               // timestamp microseconds 1
0000 000b 0007  05                     // protocol type: RTCP (JSON)
0000 000c 000a  00000000               // capture agent ID 0
0000 000f 0008  7b 7d                  // captured payload "{}"
`

// mixedPacket has an IPv4 source and an IPv6 destination: both go as IPv6,
// the IPv4 one mapped.
var mixedPacket = Packet{
	Src:     netip.MustParseAddrPort("10.0.0.1:5060"),
	Dst:     netip.MustParseAddrPort("[2001:db8::2]:5060"),
	Proto:   17,
	Time:    time.Unix(1700000002, 0).UTC(),
	Type:    TypeSIP,
	Payload: []byte("x"),
}

const mixedHex = `
48 45 50 33  007c                      // "HEP3", total length 124
0000 0001 0007  0a                     // IP protocol family: AF_INET6
0000 0002 0007  11                     // IP protocol ID: 17 (UDP)
0000 0005 0016                         // IPv6 source address ::ffff:10.0.0.1
  00 00 00 00 00 00 00 00  00 00 ff ff 0a 00 00 01
0000 0006 0016                         // IPv6 destination address 2001:db8::2
  20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 02
0000 0007 0008  13c4                   // source port 5060
0000 0008 0008  13c4                   // destination port 5060
0000 0009 000a  6553f102               // timestamp seconds 1700000002
0000 000a 000a  00000000               // timestamp microseconds 0
0000 000b 0007  01                     // protocol type: SIP
0000 000c 000a  00000000               // capture agent ID 0
0000 000f 0007  78                     // captured payload "x"
`

// diff describes how two packets differ, "" when they are equal.
func diff(got, want Packet) string {
	var d []string
	f := func(name string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s %v, want %v", name, g, w))
		}
	}
	f("Src", got.Src, want.Src)
	f("Dst", got.Dst, want.Dst)
	f("Proto", got.Proto, want.Proto)
	if !got.Time.Equal(want.Time) {
		d = append(d, fmt.Sprintf("Time %v, want %v", got.Time, want.Time))
	}
	f("CaptureID", got.CaptureID, want.CaptureID)
	f("Password", got.Password, want.Password)
	f("Type", got.Type, want.Type)
	f("CorrelationID", got.CorrelationID, want.CorrelationID)
	if !bytes.Equal(got.Payload, want.Payload) {
		d = append(d, fmt.Sprintf("Payload %q, want %q", got.Payload, want.Payload))
	}
	return strings.Join(d, "; ")
}

func TestAppendReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Packet
		hex  string
	}{
		{"ipv4", v4Packet, v4Hex},
		{"ipv6", v6Packet, v6Hex},
		{"mixed", mixedPacket, mixedHex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			got := Append(nil, &tc.p)
			if !bytes.Equal(got, want) {
				t.Fatalf("Append:\n got %x\nwant %x", got, want)
			}
			// Append appends: what is already in dst stays.
			if got := Append([]byte("xy"), &tc.p); !bytes.Equal(got, append([]byte("xy"), want...)) {
				t.Fatalf("Append after a prefix:\n got %x", got)
			}
			p, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(p, tc.p); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// Mapped addresses on both sides are IPv4 addresses: they go as IPv4.
func TestAppendUnmaps(t *testing.T) {
	p := v4Packet
	p.Src = netip.MustParseAddrPort("[::ffff:10.0.0.1]:5060")
	p.Dst = netip.MustParseAddrPort("[::ffff:192.168.1.20]:5080")
	if got, want := Append(nil, &p), unhex(t, v4Hex); !bytes.Equal(got, want) {
		t.Fatalf("Append:\n got %x\nwant %x", got, want)
	}
}

func TestAppendZeroTimeAndAddresses(t *testing.T) {
	p := Packet{Payload: []byte("x")}
	got, err := Decode(Append(nil, &p))
	if err != nil {
		t.Fatal(err)
	}
	want := Packet{
		Src:     netip.AddrPortFrom(netip.IPv4Unspecified(), 0),
		Dst:     netip.AddrPortFrom(netip.IPv4Unspecified(), 0),
		Payload: []byte("x"),
	}
	if d := diff(got, want); d != "" || !got.Time.IsZero() {
		t.Fatalf("%s (time %v)", d, got.Time)
	}
}

// A packet cannot exceed 65535 bytes: the payload is cut to fit.
func TestAppendTooLong(t *testing.T) {
	p := v4Packet
	p.Payload = bytes.Repeat([]byte("a"), 70000)
	b := Append(nil, &p)
	if len(b) != maxLen {
		t.Fatalf("len %d, want %d", len(b), maxLen)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Password != p.Password || got.CorrelationID != p.CorrelationID ||
		len(got.Payload) != maxLen-(150-25) {
		t.Fatalf("password %q, correlation id %q, payload %d bytes", got.Password, got.CorrelationID, len(got.Payload))
	}

	// Even a password that cannot fit leaves a well-formed packet.
	p.Password = strings.Repeat("p", 70000)
	if _, err := Decode(Append(nil, &p)); err != nil {
		t.Fatal(err)
	}
}

func TestAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		buf = Append(buf[:0], &v4Packet)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Append, want 0", allocs)
	}
}

// withChunks returns the packet b with extra chunks added at the end and
// its total length fixed.
func withChunks(b []byte, chunks ...string) []byte {
	out := append([]byte(nil), b...)
	for _, c := range chunks {
		raw, err := hex.DecodeString(strings.ReplaceAll(c, " ", ""))
		if err != nil {
			panic(err)
		}
		out = append(out, raw...)
	}
	out[4], out[5] = byte(len(out)>>8), byte(len(out))
	return out
}

func TestDecodeSkips(t *testing.T) {
	b := withChunks(unhex(t, v6Hex),
		"0001 000f 0009 616263", // a vendor's chunk, even with a generic type id
		"0000 0012 0008 0064",   // VLAN ID: generic, not used by natsbc
		"0000 0010 0008 1f8b",   // compressed payload: not read
	)
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(got, v6Packet); d != "" {
		t.Fatal(d)
	}
}

// A repeated chunk: the last one counts.
func TestDecodeRepeated(t *testing.T) {
	got, err := Decode(withChunks(unhex(t, v6Hex), "0000 000f 0009 616263"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Payload) != "abc" {
		t.Fatalf("payload %q", got.Payload)
	}
}

// Decode copies: the input buffer may be reused at once.
func TestDecodeCopies(t *testing.T) {
	b := unhex(t, v4Hex)
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	clear(b)
	if d := diff(got, v4Packet); d != "" {
		t.Fatal(d)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := unhex(t, v4Hex)
	// without removes the chunk that starts at offset off.
	without := func(off int) []byte {
		n := int(good[off+4])<<8 | int(good[off+5])
		b := append(append([]byte(nil), good[:off]...), good[off+n:]...)
		b[4], b[5] = byte(len(b)>>8), byte(len(b))
		return b
	}
	patched := func(off int, v ...byte) []byte {
		b := append([]byte(nil), good...)
		copy(b[off:], v)
		return b
	}
	// Offsets in v4Hex: the family chunk starts at 6, the microseconds
	// chunk at 66, the payload chunk at 105.
	for _, tc := range []struct {
		name  string
		b     []byte
		short bool
		want  string // part of the error message
	}{
		{"empty", nil, true, "too short"},
		{"header only part", []byte("HEP3\x00"), true, "too short"},
		{"magic", patched(3, '2'), false, "magic"},
		{"total below header", patched(4, 0, 5), false, "shorter than the header"},
		{"total beyond input", good[:len(good)-1], true, "total length 150, have 149"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), false, "1 bytes after"},
		{"cut in a chunk header", withChunks(good, "0000 00"), true, "a chunk header needs 6"},
		{"chunk length below header", withChunks(good, "0000 0012 0005"), false, "chunk 0x0012 length 5"},
		{"chunk beyond packet", withChunks(good, "0000 0012 0009 00"), true, "chunk 0x0012 length 9"},
		{"no payload", without(105), false, "no chunk 0x000f"},
		{"no family", without(6), false, "no chunk 0x0001"},
		{"unknown family", patched(6+6, 7), false, "unknown IP family 7"},
		{"family says IPv6", patched(6+6, 10), false, "without IPv6 address chunks"},
		{"port of 3 bytes", withChunks(good, "0000 0007 0009 000000"), false, "0x0007 holds 3 bytes"},
		{"microseconds out of range", patched(66+6, 0x00, 0x0f, 0x42, 0x40), false, "microseconds 1000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.b)
			if err == nil {
				t.Fatalf("Decode(%x) accepted", tc.b)
			}
			if errors.Is(err, ErrShort) != tc.short || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q: want ErrShort %v and %q", err, tc.short, tc.want)
			}
		})
	}
}

// FuzzDecode: Decode never panics, and a packet it accepts encodes to one
// that decodes to the same packet.
func FuzzDecode(f *testing.F) {
	for _, h := range []string{v4Hex, v6Hex, mixedHex} {
		b := unhex(f, h)
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(withChunks(b, "0001 0001 0007 02", "0000 0020 0008 0102"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		again := Append(nil, &p)
		if len(again) > len(b) {
			t.Fatalf("encoded again in %d bytes, was %d", len(again), len(b))
		}
		q, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode(Append(%+v)): %v", p, err)
		}
		if d := diff(q, p); d != "" {
			t.Fatal(d)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], &v4Packet)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecode(b *testing.B) {
	buf := Append(nil, &v4Packet)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}
