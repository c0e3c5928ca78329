package media

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// go test ./media -run 'Golden' -update rewrites the .golden files; review
// their diff before committing it.
var updateSDPGolden = flag.Bool("update", false, "rewrite media/testdata/sdp/*.golden")

// sdpGoldenCases rewrite a body from testdata/sdp as it goes out on the
// other leg; the output is <name>.golden.
var sdpGoldenCases = []struct {
	name    string
	input   string // file in testdata/sdp
	facing  netip.Addr
	keepICE bool
}{
	{"asterisk_offer", "asterisk_offer.sdp", outsideFacing, false},
	{"asterisk_offer_to_ipv6", "asterisk_offer.sdp", ipv6Facing, false},
	{"asterisk_hold_sendonly", "asterisk_hold_sendonly.sdp", outsideFacing, false},
	{"asterisk_t38_reinvite", "asterisk_t38_reinvite.sdp", outsideFacing, false},
	{"freeswitch_answer", "freeswitch_answer.sdp", insideFacing, false},
	{"freeswitch_hold_answer_recvonly", "freeswitch_hold_answer_recvonly.sdp", insideFacing, false},
	{"linphone_ice_offer", "linphone_ice_offer.sdp", insideFacing, false},
	{"linphone_ice_offer_keepice", "linphone_ice_offer.sdp", insideFacing, true},
	{"linphone_ice_answer_inactive_video", "linphone_ice_answer_inactive_video.sdp", insideFacing, false},
	{"carrier_offer_av_disabled", "carrier_offer_av_disabled.sdp", insideFacing, false},
	{"oldstyle_hold_c0", "oldstyle_hold_c0.sdp", insideFacing, false},
	{"phone_hold_session_inactive", "phone_hold_session_inactive.sdp", insideFacing, false},
	{"srtp_rtcpmux_offer", "srtp_rtcpmux_offer.sdp", insideFacing, false},
	{"ipv6_offer", "ipv6_offer.sdp", ipv6Facing, false},
	{"ipv6_offer_to_ipv4", "ipv6_offer.sdp", insideFacing, false},
	{"webrtc_dtls_offer", "webrtc_dtls_offer.sdp", insideFacing, false},
}

func TestRewriteSDPGolden(t *testing.T) {
	for _, tc := range sdpGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in := readTestdata(t, tc.input)
			streams, err := ParseStreams(in)
			if err != nil {
				t.Fatalf("ParseStreams: %v", err)
			}
			out, err := RewriteSDP(in, tc.facing, testRelayPorts(streams), tc.keepICE)
			if err != nil {
				t.Fatalf("RewriteSDP: %v", err)
			}
			compareGolden(t, tc.name+".golden", out)
			checkNoAddressLeaks(t, in, out, tc.keepICE)
			checkPionAgrees(t, in, out)
		})
	}
}

// TestParseStreamsGolden records what ParseStreams reads from every input
// in <input>.streams.golden, one line per m= line.
func TestParseStreamsGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(sdpTestdata, "*.sdp"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no test data: %v", err)
	}
	for _, path := range inputs {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			streams, err := ParseStreams(readTestdata(t, name))
			if err != nil {
				t.Fatalf("ParseStreams: %v", err)
			}
			var b strings.Builder
			for _, s := range streams {
				b.WriteString(describeStream(s))
				b.WriteByte('\n')
			}
			compareGolden(t, strings.TrimSuffix(name, ".sdp")+".streams.golden", []byte(b.String()))
		})
	}
}

func describeStream(s Stream) string {
	pts := make([]int, 0, len(s.ClockRates))
	for pt := range s.ClockRates {
		pts = append(pts, int(pt))
	}
	slices.Sort(pts)
	var clock []string
	for _, pt := range pts {
		clock = append(clock, fmt.Sprintf("%d:%d", pt, s.ClockRates[uint8(pt)]))
	}
	line := fmt.Sprintf("%d %s %s relayed=%t rtp=%s rtcp=%s mux=%t dir=%s hold=%t clock=%s",
		s.Index, s.Media, s.Proto, s.Relayed(), s.RTPAddrPort(), s.RTCPAddrPort(), s.RTCPMux, s.Direction, s.OnHold(),
		strings.Join(clock, ","))
	if len(s.Crypto) > 0 {
		var suites []string
		for _, c := range s.Crypto {
			suites = append(suites, fmt.Sprintf("%d:%s", c.Tag, c.Suite))
		}
		line += " crypto=" + strings.Join(suites, ",")
	}
	if sec := s.Security; len(sec.Fingerprints) > 0 || sec.ICEUfrag != "" || sec.MID != "" {
		line += fmt.Sprintf(" dtls=%t fingerprints=%d setup=%s ice=%s/%s mid=%s bundled=%t",
			s.DTLS(), len(sec.Fingerprints), sec.Setup, sec.ICEUfrag, sec.ICEPwd, sec.MID, sec.Bundled)
	}
	return line
}

func compareGolden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join(sdpTestdata, name)
	if *updateSDPGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update and review the diff)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// checkNoAddressLeaks fails when an address of the author's side (any c=,
// o= or a=rtcp address, or an ICE candidate's) is still in the output,
// other than the hold address 0.0.0.0. With keepICE the candidates are the
// policy's choice to pass, so only their lines may hold them.
func checkNoAddressLeaks(t *testing.T, in, out []byte, keepICE bool) {
	t.Helper()
	for _, addr := range authorAddresses(in) {
		for _, line := range strings.Split(string(out), "\r\n") {
			if !strings.Contains(line, addr) {
				continue
			}
			name, _ := attrName(strings.TrimPrefix(line, "a="))
			if keepICE && strings.HasPrefix(line, "a=") && isICEAttribute(name) {
				continue
			}
			t.Errorf("address %s of the other side leaks in %q", addr, line)
		}
	}
}

func authorAddresses(body []byte) []string {
	var addrs []string
	for _, line := range strings.Split(string(body), "\r\n") {
		fields := strings.Fields(line)
		for _, f := range fields {
			if a, err := netip.ParseAddr(f); err == nil && !a.IsUnspecified() {
				addrs = append(addrs, a.String())
			}
		}
	}
	return addrs
}

// checkPionAgrees holds the output to pion/sdp as a second parser: what
// pion read before the rewrite it still reads after it (pion rejects media
// types it does not know, such as T.38's m=image).
func checkPionAgrees(t *testing.T, in, out []byte) {
	t.Helper()
	var before, after sdp.SessionDescription
	if before.Unmarshal(in) != nil {
		return
	}
	if err := after.Unmarshal(out); err != nil {
		t.Errorf("pion/sdp cannot read the output: %v", err)
		return
	}
	if len(after.MediaDescriptions) != len(before.MediaDescriptions) {
		t.Errorf("pion/sdp reads %d m= lines, the input had %d", len(after.MediaDescriptions), len(before.MediaDescriptions))
	}
}
