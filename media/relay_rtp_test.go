package media

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32) []byte {
	p := make([]byte, rtpHeaderLen+160)
	p[0] = 0x80
	p[1] = pt
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return p
}

var pcmuRates = func() *[128]uint32 {
	var r [128]uint32
	r[0] = 8000
	return &r
}()

func TestClassifyDemuxesByFirstBytes(t *testing.T) {
	cases := []struct {
		pkt  []byte
		want packetKind
	}{
		{nil, kindOther},
		{[]byte{0x00, 0x01}, kindSTUN},
		{[]byte{0x10, 0x00, 0x00, 0x01, 'Z', 'R', 'T', 'P'}, kindZRTP}, // RFC 6189 §5
		{[]byte{19, 0x00}, kindZRTP},
		{[]byte{22, 0xfe}, kindDTLS},
		{[]byte{0x80, 0x00}, kindRTP},
		{[]byte{0x80, 0x80 | 111}, kindRTP}, // marker bit set
		{[]byte{0x81, 200}, kindRTCP},       // sender report
		{[]byte{0x80, 201}, kindRTCP},       // receiver report
		{[]byte{0x80, 0x80 | 96}, kindRTP},  // 224 lies above the RTCP range 192-223
		{[]byte{0x80}, kindRTP},             // too short to tell: not RTCP
		{[]byte{'I', 'N', 'V'}, kindOther},  // SIP on a media port
		{[]byte{0xc0, 0x00}, kindOther},     // 192+: not RTP version 2
		{[]byte{64, 0x00}, kindOther},       // 64-79 is TURN channel data
	}
	for _, c := range cases {
		if got := classify(c.pkt, carryRTP); got != c.want {
			t.Errorf("classify(% x) = %d, want %d", c.pkt, got, c.want)
		}
	}
}

// On a udptl stream every datagram is T.38 whatever its first byte: a
// UDPTL packet starts with its sequence number (ITU-T T.38 Annex D).
func TestClassifyUDPTLByProtocol(t *testing.T) {
	for _, pkt := range [][]byte{
		{0x00, 0x01, 0x06, 0x00}, // sequence number 1: would be STUN by its first byte
		{0x11, 0x00, 0x06, 0x00}, // would be ZRTP
		{0x80, 0x00, 0x06, 0x00}, // would be RTP
		{'I', 'N', 'V'},          // would be dropped
	} {
		if got := classify(pkt, carryDatagram); got != kindDatagram {
			t.Errorf("classify(% x, udptl) = %d, want a datagram", pkt, got)
		}
	}
	if got := classify(nil, carryDatagram); got != kindOther {
		t.Errorf("empty datagram classified %d", got)
	}
}

func TestCarriageOfProtocols(t *testing.T) {
	cases := map[string]carriage{
		"RTP/AVP":           carryRTP,
		"RTP/AVPF":          carryRTP,
		"RTP/SAVP":          carryRTP,
		"RTP/SAVPF":         carryRTP,
		"UDP/TLS/RTP/SAVPF": carryRTP,
		"udptl":             carryDatagram,
		"UDPTL":             carryDatagram,
		"UDP/TLS/UDPTL":     carryDatagram,
		"UDP/BFCP":          carryDatagram,
		"TCP/RTP/AVP":       carryNone,
		"TCP/MSRP":          carryNone,
		"TCP":               carryNone,
		"DCCP/RTP/AVP":      carryNone,
	}
	for proto, want := range cases {
		if got := carriageOf(proto); got != want {
			t.Errorf("carriageOf(%q) = %d, want %d", proto, got, want)
		}
	}
}

func TestRxStatsCountsSequenceGaps(t *testing.T) {
	var r rxStats
	var lost uint64
	seqs := []uint16{65530, 65531, 65533, 65534, 2, 3, 1} // 65532, 65535, 0 missing; 1 arrives late
	for i, s := range seqs {
		lost, _ = r.observe(rtpPacket(0, s, uint32(i)*160, 7), int64(i)*20e6, pcmuRates)
	}
	if lost != 3 {
		t.Fatalf("lost = %d, want 3 (65532, 65535 and 0 missing; 1 late but there)", lost)
	}
}

func TestRxStatsNewSSRCKeepsEarlierLoss(t *testing.T) {
	var r rxStats
	r.observe(rtpPacket(0, 10, 0, 1), 0, pcmuRates)
	r.observe(rtpPacket(0, 13, 480, 1), 60e6, pcmuRates) // 11, 12 lost
	lost, _ := r.observe(rtpPacket(0, 5000, 0, 2), 80e6, pcmuRates)
	if lost != 2 {
		t.Fatalf("after SSRC change lost = %d, want 2", lost)
	}
	lost, _ = r.observe(rtpPacket(0, 5001, 160, 2), 100e6, pcmuRates)
	if lost != 2 {
		t.Fatalf("new stream in order: lost = %d, want 2", lost)
	}
	// A jump beyond the dropout limit restarts instead of counting 9000 lost.
	lost, _ = r.observe(rtpPacket(0, 14001, 320, 2), 120e6, pcmuRates)
	if lost != 2 {
		t.Fatalf("after a sequence jump lost = %d, want 2", lost)
	}
}

func TestRxStatsDuplicatesDoNotHideOrInventLoss(t *testing.T) {
	var r rxStats
	var lost uint64
	for i, s := range []uint16{1, 1, 2, 2, 3} {
		lost, _ = r.observe(rtpPacket(0, s, uint32(i)*160, 9), int64(i)*20e6, pcmuRates)
	}
	if lost != 0 {
		t.Fatalf("lost = %d with duplicates only, want 0", lost)
	}
}

func TestRxStatsJitterFollowsRFC3550(t *testing.T) {
	// Arrival offsets (ms) against a 20 ms/160-tick sender; the reference
	// is the RFC 3550 §6.4.1 estimator J += (|D| - J)/16 in floating point.
	late := []float64{0, 3, 0, 12, 1, 0, 7, 7, 0, 2, 30, 0, 0, 5}
	var r rxStats
	var ref, prevTransit float64
	var got float64
	for i, l := range late {
		arrival := time.Duration(float64(i*20)*float64(time.Millisecond) + l*float64(time.Millisecond))
		ts := uint32(1000 + i*160)
		_, got = r.observe(rtpPacket(0, uint16(i), ts, 3), int64(arrival), pcmuRates)
		transit := arrival.Seconds()*8000 - float64(ts)
		if i > 0 {
			ref += (math.Abs(transit-prevTransit) - ref) / 16
		}
		prevTransit = transit
	}
	refMs := ref / 8000 * 1000
	if refMs < 1 || math.Abs(got-refMs) > 0.05 {
		t.Fatalf("jitter = %.3f ms, reference %.3f ms", got, refMs)
	}
}

func TestRxStatsSteadyStreamHasNoJitter(t *testing.T) {
	var r rxStats
	var j float64
	for i := range 50 {
		_, j = r.observe(rtpPacket(0, uint16(i), uint32(i*160), 3), int64(i)*20e6, pcmuRates)
	}
	if j != 0 {
		t.Fatalf("jitter = %v for a perfectly paced stream", j)
	}
}

func TestRxStatsUnknownClockNoJitter(t *testing.T) {
	var r rxStats
	var j float64
	for i := range 5 {
		_, j = r.observe(rtpPacket(96, uint16(i), uint32(i*160), 3), int64(i)*37e6, pcmuRates)
	}
	if j != 0 {
		t.Fatalf("jitter = %v for a payload type without clock rate", j)
	}
}

func TestToClockDoesNotOverflow(t *testing.T) {
	ns := int64(200 * 24 * time.Hour) // 200 days of uptime
	if got, want := toClock(ns, 90000), int64(200*24*3600)*90000; got != want {
		t.Fatalf("toClock = %d, want %d", got, want)
	}
}
