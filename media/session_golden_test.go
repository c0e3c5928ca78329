package media

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// sessionStep is one body through a session: from a leg, read from
// testdata/sdp, with the o= version natsbc must write on the other leg.
type sessionStep struct {
	from        Leg
	contentType string
	input       string
	version     uint64
}

const (
	ctSDP       = "application/sdp"
	ctMultipart = "multipart/mixed;boundary=unique-boundary-1"
)

// sessionGoldenCases run bodies through one relay session in order (leg a
// is a carrier outside, leg b a PBX inside); the outputs, one after the
// other, are <name>.golden.
var sessionGoldenCases = []struct {
	name  string
	steps []sessionStep
}{
	// RFC 5621: a carrier's INVITE carries SDP and ISUP. The SDP part is
	// anchored; the ISUP part, the boundaries and the part headers pass
	// byte for byte.
	{"session_multipart_isup", []sessionStep{
		{LegA, ctMultipart, "carrier_sdp_isup.mime", 1},
		{LegB, ctSDP, "asterisk_offer.sdp", 1},
	}},
	// RFC 3264 §8: natsbc owns each leg's o= line. A session refresh that
	// changes nothing but the author's version keeps natsbc's; the T.38
	// re-INVITE (m=audio becomes m=image udptl on the same relay ports)
	// changes the SDP on both legs, so both versions go up by one.
	{"session_t38_reinvite", []sessionStep{
		{LegA, ctSDP, "freeswitch_answer.sdp", 1},
		{LegB, ctSDP, "asterisk_offer.sdp", 1},
		{LegB, ctSDP, "asterisk_refresh_same.sdp", 1},
		{LegA, ctSDP, "freeswitch_answer.sdp", 1},
		{LegB, ctSDP, "asterisk_t38_reinvite.sdp", 2},
		{LegA, ctSDP, "freeswitch_t38_answer.sdp", 2},
		{LegB, ctSDP, "asterisk_t38_reinvite.sdp", 2},
		{LegB, ctSDP, "asterisk_hold_sendonly.sdp", 3},
	}},
}

func TestSessionRewriteGolden(t *testing.T) {
	for _, tc := range sessionGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newSessionRig(t, Config{})
			rs := r.s.(*relaySession)
			facing := [2]netip.Addr{outsideFacing, insideFacing}
			var all bytes.Buffer
			for i, step := range tc.steps {
				in := readTestdata(t, step.input)
				to := step.from.other()
				out, err := r.s.Rewrite(step.from, step.contentType, in, facing[to])
				if err != nil {
					t.Fatalf("step %d (%s): %v", i, step.input, err)
				}
				sdp, ok := SDPOf(step.contentType, out)
				if !ok {
					t.Fatalf("step %d: no SDP in the output:\n%s", i, out)
				}
				checkNoAddressLeaks(t, in, out, false)
				checkOriginLine(t, i, sdp, rs.origins[to].sessID, step.version)
				// The session ids are random: the golden file names them.
				id := strconv.FormatUint(rs.origins[to].sessID, 10)
				out = bytes.ReplaceAll(out, []byte(" "+id+" "), []byte(" <id of leg "+to.String()+"> "))
				fmt.Fprintf(&all, "=== %d: %s from leg %s, sent on leg %s (%s)\r\n", i, step.input, step.from, to, step.contentType)
				all.Write(out)
			}
			compareGolden(t, tc.name+".golden", all.Bytes())
		})
	}
}

// checkOriginLine: o=natsbc <the leg's id> <version> (RFC 3264 §8).
func checkOriginLine(t *testing.T, step int, sdp []byte, sessID, version uint64) {
	t.Helper()
	for _, line := range strings.Split(string(sdp), "\r\n") {
		if o, ok := strings.CutPrefix(line, "o="); ok {
			f := strings.Fields(o)
			want := []string{originUser, strconv.FormatUint(sessID, 10), strconv.FormatUint(version, 10)}
			if len(f) != 6 || f[0] != want[0] || f[1] != want[1] || f[2] != want[2] {
				t.Errorf("step %d: %q, want o=%s", step, line, strings.Join(want, " "))
			}
			return
		}
	}
	t.Errorf("step %d: no o= line", step)
}
