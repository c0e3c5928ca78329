package media

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

func rewriteLines(t *testing.T, body []byte, facing netip.Addr, relay []RelayPorts, keepICE bool) []string {
	t.Helper()
	out, err := RewriteSDP(body, facing, relay, keepICE)
	if err != nil {
		t.Fatalf("RewriteSDP: %v", err)
	}
	if !strings.HasSuffix(string(out), "\r\n") {
		t.Fatalf("output does not end with CRLF: %q", out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
}

func TestRewriteSDPLines(t *testing.T) {
	pair := []RelayPorts{{RTP: 30000, RTCP: 30001}}
	tests := []struct {
		name   string
		body   []byte
		facing netip.Addr
		relay  []RelayPorts
		keep   bool
		want   []string
	}{
		{
			name:   "a=rtcp added when the relay RTCP port is not RTP+1",
			body:   sdpBody("m=audio 4000 RTP/AVP 0", "a=ptime:20", "m=video 0 RTP/AVP 31"),
			facing: outsideFacing,
			relay:  []RelayPorts{{RTP: 30000, RTCP: 30011}, {}},
			want: []string{"v=0", "o=- 1 1 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
				"m=audio 30000 RTP/AVP 0", "a=ptime:20", "a=rtcp:30011", "m=video 0 RTP/AVP 31"},
		},
		{
			name:   "session-level a=rtcp says only the other side's address",
			body:   sdpBody("a=rtcp:4001 IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0"),
			facing: outsideFacing,
			relay:  pair,
			want: []string{"v=0", "o=- 1 1 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
				"m=audio 30000 RTP/AVP 0"},
		},
		{
			name:   "bare LF, blank lines and tabs",
			body:   []byte("v=0\no=-\t1 1 IN IP4 192.0.2.1\n\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio  4000/1  RTP/AVP 0 8\n"),
			facing: outsideFacing,
			relay:  pair,
			want: []string{"v=0", "o=- 1 1 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
				"m=audio 30000 RTP/AVP 0 8"},
		},
		{
			name:   "IPv4-mapped facing is written as IP4",
			body:   sdpBody("m=audio 4000 RTP/AVP 0"),
			facing: netip.MustParseAddr("::ffff:203.0.113.5"),
			relay:  pair,
			want: []string{"v=0", "o=- 1 1 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
				"m=audio 30000 RTP/AVP 0"},
		},
		{
			name:   "IPv6 hold address stays, other lines go IPv6",
			body:   sdpBody("v=0", "o=- 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP6 ::", "t=0 0", "m=audio 4000 RTP/AVP 0", "a=rtcp:4001 IN IP6 2001:db8::1"),
			facing: ipv6Facing,
			relay:  pair,
			want: []string{"v=0", "o=- 1 1 IN IP6 2001:db8:ff::5", "s=-", "c=IN IP6 ::", "t=0 0",
				"m=audio 30000 RTP/AVP 0", "a=rtcp:30001 IN IP6 2001:db8:ff::5"},
		},
		{
			name:   "ICE removed at both levels",
			body:   sdpBody("a=ice-lite", "a=ice-options:trickle", "m=audio 4000 RTP/AVP 0", "a=ice-ufrag:x", "a=ice-pwd:y", "a=candidate:1 1 UDP 1 192.0.2.1 4000 typ host", "a=remote-candidates:1 192.0.2.9 5000", "a=end-of-candidates", "a=ice-mismatch", "a=ice-pacing:50", "a=icecream"),
			facing: outsideFacing,
			relay:  pair,
			want: []string{"v=0", "o=- 1 1 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0",
				"m=audio 30000 RTP/AVP 0", "a=icecream"},
		},
		{
			name:   "ICE kept when told",
			body:   sdpBody("a=ice-lite", "m=audio 4000 RTP/AVP 0", "a=candidate:1 1 UDP 1 192.0.2.1 4000 typ host", "a=end-of-candidates"),
			facing: outsideFacing,
			relay:  pair,
			keep:   true,
			want: []string{"v=0", "o=- 1 1 IN IP4 203.0.113.5", "s=-", "c=IN IP4 203.0.113.5", "t=0 0", "a=ice-lite",
				"m=audio 30000 RTP/AVP 0", "a=candidate:1 1 UDP 1 192.0.2.1 4000 typ host", "a=end-of-candidates"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rewriteLines(t, tc.body, tc.facing, tc.relay, tc.keep)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestRewriteSDPCallerMistakes(t *testing.T) {
	body := sdpBody("m=audio 4000 RTP/AVP 0", "m=video 0 RTP/AVP 31")
	tests := []struct {
		name   string
		facing netip.Addr
		relay  []RelayPorts
		ok     bool
	}{
		{"disabled stream needs no ports", outsideFacing, []RelayPorts{{RTP: 30000, RTCP: 30001}, {}}, true},
		{"too few relay pairs", outsideFacing, []RelayPorts{{RTP: 30000, RTCP: 30001}}, false},
		{"enabled stream without ports", outsideFacing, []RelayPorts{{}, {}}, false},
		{"port out of range", outsideFacing, []RelayPorts{{RTP: 70000, RTCP: 70001}, {}}, false},
		{"no facing address", netip.Addr{}, []RelayPorts{{RTP: 30000, RTCP: 30001}, {}}, false},
		{"unspecified facing address", netip.IPv4Unspecified(), []RelayPorts{{RTP: 30000, RTCP: 30001}, {}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RewriteSDP(body, tc.facing, tc.relay, false)
			if (err == nil) != tc.ok {
				t.Fatalf("error %v, want ok=%t", err, tc.ok)
			}
			// A caller's mistake must not read as the peer's fault (488).
			if errors.Is(err, ErrUnparsableSDP) {
				t.Errorf("error %v wraps ErrUnparsableSDP", err)
			}
		})
	}
}

// TestRewriteSDPReparses reads every rewritten test body back: each stream
// now points at the relay on the facing address and keeps its meaning.
func TestRewriteSDPReparses(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join(sdpTestdata, "*.sdp"))
	for _, path := range inputs {
		for _, facing := range []netip.Addr{insideFacing, ipv6Facing} {
			name := filepath.Base(path) + "/" + facing.String()
			t.Run(name, func(t *testing.T) {
				checkRewriteReparses(t, readTestdata(t, filepath.Base(path)), facing, false)
			})
		}
	}
}

// checkRewriteReparses rewrites body (which must parse) and checks the
// result; the fuzz target shares it.
func checkRewriteReparses(t testing.TB, body []byte, facing netip.Addr, keepICE bool) {
	t.Helper()
	before, err := ParseStreams(body)
	if err != nil {
		t.Fatalf("ParseStreams: %v", err)
	}
	relay := testRelayPorts(before)
	out, err := RewriteSDP(body, facing, relay, keepICE)
	if err != nil {
		t.Fatalf("RewriteSDP of a body ParseStreams read: %v", err)
	}
	after, err := ParseStreams(out)
	if err != nil {
		t.Fatalf("rewritten body does not parse: %v\n%s", err, out)
	}
	if len(after) != len(before) {
		t.Fatalf("%d streams after, %d before", len(after), len(before))
	}
	for i, b := range before {
		a := after[i]
		if a.Media != b.Media || a.Direction != b.Direction || a.RTCPMux != b.RTCPMux || a.OnHold() != b.OnHold() {
			t.Errorf("stream %d changed meaning: %+v, was %+v", i, a, b)
		}
		if a.Proto != b.Proto {
			t.Errorf("stream %d protocol %q, was %q", i, a.Proto, b.Proto)
		}
		if !b.Relayed() {
			// Disabled stays disabled, TCP is declined (port 0).
			if a.Port != 0 {
				t.Errorf("stream %d (port %d, %s) not relayed, yet it got port %d", i, b.Port, b.Proto, a.Port)
			}
			continue
		}
		wantAddr := facing.Unmap()
		if b.Addr.IsUnspecified() && !b.ICEDefault() {
			wantAddr = b.Addr
		}
		if a.Port != relay[i].RTP || a.Addr != wantAddr {
			t.Errorf("stream %d at %s, want %s port %d", i, a.RTPAddrPort(), wantAddr, relay[i].RTP)
		}
		if a.RTCPPort != relay[i].RTCP || (a.RTCPAddr != facing.Unmap() && a.RTCPAddr != wantAddr) {
			t.Errorf("stream %d RTCP at %s, want port %d", i, a.RTCPAddrPort(), relay[i].RTCP)
		}
	}
	if !strings.HasSuffix(string(out), "\r\n") || strings.Contains(strings.ReplaceAll(string(out), "\r\n", ""), "\n") {
		t.Errorf("output lines do not all end with CRLF: %q", out)
	}
	again, err := RewriteSDP(out, facing, relay, keepICE)
	if err != nil || string(again) != string(out) {
		t.Errorf("rewriting the output again changes it (err %v):\n%s\nwas\n%s", err, again, out)
	}
}
