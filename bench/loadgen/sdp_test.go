package loadgen

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestSDPBodyReadsBack(t *testing.T) {
	for _, a := range []string{"127.0.0.10:20002", "[::1]:30000"} {
		addr := netip.MustParseAddrPort(a)
		got, err := sdpAudioAddr([]byte(sdpBody(addr, 3, 20*time.Millisecond)))
		if err != nil || got != addr {
			t.Errorf("%s: read back %v, %v", a, got, err)
		}
	}
}

func TestSDPAudioAddrPicksTheRightConnectionLine(t *testing.T) {
	const head = "o=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"
	cases := []struct {
		name, body, want string
	}{
		{"session level", "v=0\r\n" + head + "c=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n", "10.0.0.1:4000"},
		{"media level wins", "v=0\r\n" + head + "c=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\n", "10.0.0.2:4000"},
		{"video first", "v=0\r\n" + head + "m=video 5000 RTP/AVP 96\r\nc=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.3\r\n", "10.0.0.3:4000"},
		{"only the first audio", "v=0\r\n" + head + "c=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 6000 RTP/AVP 0\r\nc=IN IP4 10.0.0.7\r\n", "10.0.0.1:4000"},
		{"LF only", "v=0\n" + strings.ReplaceAll(head, "\r\n", "\n") + "c=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n", "10.0.0.1:4000"},
	}
	for _, tc := range cases {
		got, err := sdpAudioAddr([]byte(tc.body))
		if err != nil || got.String() != tc.want {
			t.Errorf("%s: %v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	for name, bad := range map[string]string{
		"no audio":   "v=0\r\n" + head + "c=IN IP4 10.0.0.1\r\nm=video 4000 RTP/AVP 0\r\n",
		"port 0":     "v=0\r\n" + head + "c=IN IP4 10.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n",
		"no address": "v=0\r\n" + head + "m=audio 4000 RTP/AVP 0\r\n",
		"host name":  "v=0\r\n" + head + "c=IN IP4 example.org\r\nm=audio 4000 RTP/AVP 0\r\n",
	} {
		if got, err := sdpAudioAddr([]byte(bad)); err == nil {
			t.Errorf("%s: accepted as %v", name, got)
		}
	}
}
