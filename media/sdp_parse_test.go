package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func parseOne(t *testing.T, body []byte) Stream {
	t.Helper()
	streams, err := ParseStreams(body)
	if err != nil {
		t.Fatalf("ParseStreams: %v", err)
	}
	if len(streams) != 1 {
		t.Fatalf("got %d streams, want 1", len(streams))
	}
	return streams[0]
}

func TestParseStreamsDirection(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string
		want     Direction
		wantHold bool
	}{
		{"default", []string{"m=audio 4000 RTP/AVP 0"}, SendRecv, false},
		{"media sendonly", []string{"m=audio 4000 RTP/AVP 0", "a=sendonly"}, SendOnly, true},
		{"media inactive", []string{"m=audio 4000 RTP/AVP 0", "a=inactive"}, Inactive, true},
		{"media recvonly is not the author's hold", []string{"m=audio 4000 RTP/AVP 0", "a=recvonly"}, RecvOnly, false},
		{"session level applies", []string{"a=sendonly", "m=audio 4000 RTP/AVP 0"}, SendOnly, true},
		{"media level wins", []string{"a=inactive", "m=audio 4000 RTP/AVP 0", "a=sendrecv"}, SendRecv, false},
		{"old-style hold", []string{"m=audio 4000 RTP/AVP 0", "c=IN IP4 0.0.0.0"}, SendRecv, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := parseOne(t, sdpBody(tc.lines...))
			if s.Direction != tc.want || s.OnHold() != tc.wantHold {
				t.Errorf("direction %q hold %t, want %q hold %t", s.Direction, s.OnHold(), tc.want, tc.wantHold)
			}
		})
	}
}

func TestParseStreamsAddresses(t *testing.T) {
	tests := []struct {
		name          string
		lines         []string
		rtp, rtcp     string
		mux, disabled bool
	}{
		{"session c=, rtcp port+1", []string{"m=audio 4000 RTP/AVP 0"}, "192.0.2.1:4000", "192.0.2.1:4001", false, false},
		{"media c= wins", []string{"m=audio 4000 RTP/AVP 0", "c=IN IP4 198.51.100.9"}, "198.51.100.9:4000", "198.51.100.9:4001", false, false},
		{"a=rtcp port only", []string{"m=audio 4000 RTP/AVP 0", "a=rtcp:5009"}, "192.0.2.1:4000", "192.0.2.1:5009", false, false},
		{"a=rtcp with address", []string{"m=audio 4000 RTP/AVP 0", "a=rtcp:5009 IN IP4 198.51.100.3"}, "192.0.2.1:4000", "198.51.100.3:5009", false, false},
		{"rtcp-mux", []string{"m=audio 4000 RTP/AVP 0", "a=rtcp-mux"}, "192.0.2.1:4000", "192.0.2.1:4000", true, false},
		{"IPv6", []string{"m=audio 4000 RTP/AVP 0", "c=IN IP6 2001:db8::7"}, "[2001:db8::7]:4000", "[2001:db8::7]:4001", false, false},
		{"IPv4-mapped is the IPv4 host", []string{"m=audio 4000 RTP/AVP 0", "c=IN IP6 ::ffff:198.51.100.4"}, "198.51.100.4:4000", "198.51.100.4:4001", false, false},
		{"multicast ttl read past", []string{"m=audio 4000 RTP/AVP 0", "c=IN IP4 233.252.0.1/127"}, "233.252.0.1:4000", "233.252.0.1:4001", false, false},
		{"port 65535 has no port+1", []string{"m=audio 65535 RTP/AVP 0"}, "192.0.2.1:65535", "192.0.2.1:0", false, false},
		{"port count 1", []string{"m=audio 4000/1 RTP/AVP 0"}, "192.0.2.1:4000", "192.0.2.1:4001", false, false},
		{"disabled", []string{"m=video 0 RTP/AVP 31", "a=rtcp:4001"}, "192.0.2.1:0", "192.0.2.1:0", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := parseOne(t, sdpBody(tc.lines...))
			if got := s.RTPAddrPort().String(); got != tc.rtp {
				t.Errorf("RTP %s, want %s", got, tc.rtp)
			}
			if got := s.RTCPAddrPort().String(); got != tc.rtcp {
				t.Errorf("RTCP %s, want %s", got, tc.rtcp)
			}
			if s.RTCPMux != tc.mux || (s.Port == 0) != tc.disabled {
				t.Errorf("mux %t port %d, want mux %t disabled %t", s.RTCPMux, s.Port, tc.mux, tc.disabled)
			}
		})
	}
}

func TestParseStreamsDisabledWithoutConnection(t *testing.T) {
	body := sdpBody("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0",
		"m=audio 4000 RTP/AVP 0", "c=IN IP4 192.0.2.1", "m=video 0 RTP/AVP 31")
	streams, err := ParseStreams(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 2 || streams[1].Port != 0 || streams[1].Addr.IsValid() {
		t.Errorf("got %+v, want a disabled second stream with no address", streams)
	}
}

func TestParseStreamsClockRates(t *testing.T) {
	s := parseOne(t, sdpBody(
		"m=audio 4000 RTP/AVP 0 9 96 97 98 101 120",
		"a=rtpmap:96 opus/48000/2",
		"a=rtpmap:97 AMR-WB/16000/1",
		"a=rtpmap:101 telephone-event/8000",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:98 broken",    // no clock rate: skipped
		"a=rtpmap:99 iLBC/8000", // not on the m= line: skipped
		"a=rtpmap:200 x/8000",   // not a payload type: skipped
	))
	want := map[uint8]uint32{0: 8000, 9: 8000, 96: 48000, 97: 16000, 101: 8000}
	if fmt.Sprint(s.ClockRates) != fmt.Sprint(want) {
		t.Errorf("clock rates %v, want %v", s.ClockRates, want)
	}
	if t38 := parseOne(t, sdpBody("m=image 4000 udptl t38")); len(t38.ClockRates) != 0 {
		t.Errorf("udptl stream has clock rates %v", t38.ClockRates)
	}
}

func TestParseStreamsAcceptsBareLF(t *testing.T) {
	body := strings.ReplaceAll(string(sdpBody("m=audio 4000 RTP/AVP 0")), "\r\n", "\n")
	s := parseOne(t, []byte(body+"\n\n"))
	if s.RTPAddrPort() != netip.MustParseAddrPort("192.0.2.1:4000") {
		t.Errorf("got %s", s.RTPAddrPort())
	}
}

// unparsableBodies are rejected by ParseStreams and RewriteSDP alike, each
// with the reason in the error.
var unparsableBodies = []struct {
	name string
	body []byte
	why  string
}{
	{"empty", nil, "empty body"},
	{"blank lines only", []byte("\r\n\r\n"), "empty body"},
	{"not SDP", []byte("hello\r\n"), "is not a <type>=<value> line"},
	{"version 1", sdpBody("v=1", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"), "starts with v=0"},
	{"starts with o=", []byte("o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n"), "starts with v=0"},
	{"stray CR", []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\rc=IN IP4 192.0.2.9\r\n"), "stray CR"},
	{"NUL", sdpBody("a=x\x00y"), "NUL"},
	{"upper-case type", sdpBody("A=sendonly"), "<type>=<value>"},
	{"unknown type", sdpBody("x=1"), "not a session-level line"},
	{"o= in a media section", sdpBody("m=audio 4000 RTP/AVP 0", "o=- 1 1 IN IP4 192.0.2.1"), "not a media-level line"},
	{"no o=", []byte("v=0\r\ns=-\r\nt=0 0\r\n"), "no o= line"},
	{"no s=", []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n"), "no s= line"},
	{"no t=", []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"), "no t= line"},
	{"second v=", []byte("v=0\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"), "second v= line"},
	{"second o=", sdpBody("o=- 2 2 IN IP4 192.0.2.1"), "second o= line"},
	{"second s=", sdpBody("s=again"), "second s= line"},
	{"o= five fields", []byte("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n"), "six fields"},
	{"o= seven fields", []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1 x\r\ns=-\r\nt=0 0\r\n"), "six fields"},
	{"o= address type", []byte("v=0\r\no=- 1 1 IN IP5 192.0.2.1\r\ns=-\r\nt=0 0\r\n"), "not IP4 or IP6"},
	{"second session c=", sdpBody("c=IN IP4 192.0.2.2", "m=audio 4000 RTP/AVP 0"), "second session-level c="},
	{"second media c=", sdpBody("m=audio 4000 RTP/AVP 0", "c=IN IP4 192.0.2.2", "c=IN IP4 192.0.2.3"), "second c= line"},
	{"c= host name", sdpBody("m=audio 4000 RTP/AVP 0", "c=IN IP4 media.example.com"), "not an IP address"},
	{"c= family mismatch", sdpBody("m=audio 4000 RTP/AVP 0", "c=IN IP4 2001:db8::1"), "is not IP4"},
	{"c= IP6 with IPv4", sdpBody("m=audio 4000 RTP/AVP 0", "c=IN IP6 192.0.2.1"), "is not IP6"},
	{"c= zone", sdpBody("m=audio 4000 RTP/AVP 0", "c=IN IP6 fe80::1%eth0"), "not an IP address"},
	{"c= network type", sdpBody("m=audio 4000 RTP/AVP 0", "c=ATM NSAP 47.0091"), "not IN"},
	{"c= short", sdpBody("m=audio 4000 RTP/AVP 0", "c=IN IP4"), "needs"},
	{"m= no format", sdpBody("m=audio 4000 RTP/AVP"), "m= needs"},
	{"m= signed port", sdpBody("m=audio +4000 RTP/AVP 0"), "not a port number"},
	{"m= port too big", sdpBody("m=audio 70000 RTP/AVP 0"), "not a port number"},
	{"m= two port pairs", sdpBody("m=video 4000/2 RTP/AVP 31"), "asks for 2 port pairs"},
	{"m= port count 0", sdpBody("m=video 4000/0 RTP/AVP 31"), "not a number of ports"},
	{"enabled stream without c=", []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), "has no c= line"},
	{"a=rtcp port", sdpBody("m=audio 4000 RTP/AVP 0", "a=rtcp:x"), "a=rtcp port"},
	{"a=rtcp port 0", sdpBody("m=audio 4000 RTP/AVP 0", "a=rtcp:0"), "a=rtcp port"},
	{"a=rtcp address", sdpBody("m=audio 4000 RTP/AVP 0", "a=rtcp:4001 IN IP4 rtcp.example.com"), "a=rtcp address"},
	{"too many m= lines", sdpBody(slicesRepeat("m=audio 4000 RTP/AVP 0", MaxStreamsBound+1)...), "more than 32 m= lines"},
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestUnparsableSDP(t *testing.T) {
	for _, tc := range unparsableBodies {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStreams(tc.body)
			checkUnparsable(t, "ParseStreams", err, tc.why)
			_, err = RewriteSDP(tc.body, outsideFacing, make([]RelayPorts, MaxStreamsBound+1), false)
			checkUnparsable(t, "RewriteSDP", err, tc.why)
		})
	}
}

func checkUnparsable(t *testing.T, fn string, err error, why string) {
	t.Helper()
	if !errors.Is(err, ErrUnparsableSDP) {
		t.Errorf("%s: error %v, want ErrUnparsableSDP", fn, err)
		return
	}
	if !strings.Contains(err.Error(), why) {
		t.Errorf("%s: error %q does not say %q", fn, err, why)
	}
}

func TestParseStreamsClipsHostileInput(t *testing.T) {
	_, err := ParseStreams([]byte(strings.Repeat("z", 10000)))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("error of %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}
}

func TestDirectionSendsReceives(t *testing.T) {
	for _, tc := range []struct {
		d               Direction
		sends, receives bool
	}{
		{SendRecv, true, true}, {SendOnly, true, false}, {RecvOnly, false, true}, {Inactive, false, false},
	} {
		if tc.d.Sends() != tc.sends || tc.d.Receives() != tc.receives {
			t.Errorf("%s: sends %t receives %t, want %t %t", tc.d, tc.d.Sends(), tc.d.Receives(), tc.sends, tc.receives)
		}
	}
}

func TestParseOrigin(t *testing.T) {
	o, err := ParseOrigin(readTestdata(t, "asterisk_t38_reinvite.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Origin{"-", "1681210930", "1681210932", "10.0.0.10"}); o != want {
		t.Fatalf("ParseOrigin = %+v, want %+v", o, want)
	}
	if _, err := ParseOrigin([]byte("v=0\r\ns=-\r\nt=0 0\r\n")); err == nil {
		t.Fatal("a body without o= has an origin")
	}
}
