package main

import (
	"bytes"
	"testing"
)

func TestRTPRoundTrip(t *testing.T) {
	h := rtpHeader{marker: true, payloadType: 0, seq: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef}
	payload := bytes.Repeat([]byte{0xff}, 160)
	pkt := appendRTP(nil, h, payload)
	if len(pkt) != 172 {
		t.Fatalf("packet is %d bytes, want 12 + 160", len(pkt))
	}
	got, p, ok := parseRTP(pkt)
	if !ok || got != h || !bytes.Equal(p, payload) {
		t.Fatalf("parseRTP = %+v %d bytes %v, want %+v", got, len(p), ok, h)
	}
	if _, _, ok := parseRTP([]byte("INVITE sip:a@b SIP/2.0")); ok {
		t.Errorf("a SIP line parsed as RTP")
	}
	if _, _, ok := parseRTP(pkt[:11]); ok {
		t.Errorf("11 bytes parsed as RTP")
	}
}

func TestSeqTrackerGapsAcrossWrap(t *testing.T) {
	var s seqTracker
	var missing uint64
	late := 0
	for _, seq := range []uint16{65533, 65534, 1, 2, 2, 0, 5} {
		m, l := s.observe(seq)
		missing += uint64(m)
		if l {
			late++
		}
	}
	// 65535 and 0 skipped at the wrap (0 comes late), 3 and 4 before 5.
	if missing != 4 || late != 2 {
		t.Errorf("missing %d late %d, want 4 and 2", missing, late)
	}
}

func TestInjectedTag(t *testing.T) {
	if !injected(append(append([]byte{}, InjectTag...), 0, 1)) || injected(bytes.Repeat([]byte{0xff}, 160)) {
		t.Errorf("injected() does not tell the tag")
	}
}
