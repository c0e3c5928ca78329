package loadgen

import (
	"encoding/binary"
	"testing"
)

func TestPacketRoundTrip(t *testing.T) {
	b := make([]byte, rtpHeaderLen+160)
	buildPacket(b, 0xCAFE, 42, BToA)
	stampPacket(b, 65535, 320, 123_456_789)
	if b[0] != 0x80 || b[1] != 0 {
		t.Fatalf("header bytes %#x %#x, want V=2 PT=0", b[0], b[1])
	}
	if ssrc := binary.BigEndian.Uint32(b[8:]); ssrc != ssrcOf(0xCAFE, 42, BToA) {
		t.Fatalf("SSRC %#x", ssrc)
	}
	info, ok := parsePacket(b, 0xCAFE)
	want := packetInfo{call: 42, dir: BToA, seq: 65535, sentNs: 123_456_789}
	if !ok || info != want {
		t.Fatalf("parsePacket = %+v, %v; want %+v", info, ok, want)
	}
	if b[len(b)-1] != pcmuSilence {
		t.Fatal("payload tail is not PCMU silence")
	}
}

func TestParsePacketRejectsForeignPackets(t *testing.T) {
	b := make([]byte, rtpHeaderLen+160)
	buildPacket(b, 1, 0, AToB)
	if _, ok := parsePacket(b, 2); ok {
		t.Error("a packet of another run was accepted")
	}
	if _, ok := parsePacket(b[:rtpHeaderLen+stampLen-1], 1); ok {
		t.Error("a truncated packet was accepted")
	}
	v1 := append([]byte(nil), b...)
	v1[0] = 0x40
	if _, ok := parsePacket(v1, 1); ok {
		t.Error("an RTP version 1 packet was accepted")
	}
}

func TestParsePacketSkipsCSRCsAndExtension(t *testing.T) {
	// A relay that adds a CSRC and a one-word header extension (RFC 3550
	// §5.3.1) moves the payload; the stamp must still be found.
	inner := make([]byte, rtpHeaderLen+40)
	buildPacket(inner, 9, 3, AToB)
	stampPacket(inner, 7, 0, 99)
	b := append([]byte(nil), inner[:rtpHeaderLen]...)
	b[0] |= 0x10 | 1                       // X set, CC=1
	b = append(b, 0, 0, 0, 1)              // CSRC
	b = append(b, 0xBE, 0xDE, 0, 1)        // extension header, length 1 word
	b = append(b, 1, 2, 3, 4)              // extension word
	b = append(b, inner[rtpHeaderLen:]...) // payload
	info, ok := parsePacket(b, 9)
	if !ok || info.call != 3 || info.seq != 7 || info.sentNs != 99 {
		t.Fatalf("parsePacket = %+v, %v", info, ok)
	}
}
