package media

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// FuzzRewriteSDP: no body makes ParseStreams or RewriteSDP panic; both
// accept or reject the same bodies, rejections wrap ErrUnparsableSDP, and
// what RewriteSDP returns parses again with the streams on the relay (see
// checkRewriteReparses) and is still readable by pion/sdp if the input was.
func FuzzRewriteSDP(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join(sdpTestdata, "*.sdp"))
	for _, path := range inputs {
		body, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, false, false)
	}
	f.Add(sdpBody("m=audio 4000/1 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=rtcp:4001 IN IP4 192.0.2.1", "a=candidate:x"), true, true)
	f.Add([]byte("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ::ffff:1.2.3.4/1\nt=0 0\nm=x 1 y z\n"), true, false)
	f.Add(sdpBody("m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa|2^20|1:4;inline:x", "a=crypto:9 AEAD_AES_256_GCM inline:"), false, true)
	f.Fuzz(func(t *testing.T, body []byte, ipv6, keepICE bool) {
		facing := insideFacing
		if ipv6 {
			facing = ipv6Facing
		}
		streams, parseErr := ParseStreams(body)
		out, err := RewriteSDP(body, facing, testRelayPorts(streams), keepICE)
		if (parseErr == nil) != (err == nil) {
			t.Fatalf("ParseStreams error %v but RewriteSDP error %v", parseErr, err)
		}
		if err != nil {
			if !errors.Is(err, ErrUnparsableSDP) || !errors.Is(parseErr, ErrUnparsableSDP) {
				t.Fatalf("rejection does not wrap ErrUnparsableSDP: %v / %v", parseErr, err)
			}
			return
		}
		checkRewriteReparses(t, body, facing, keepICE)
		// pion reads some lines differently at the end of the body than
		// before a line ending: hold it to the input's lines as CRLF lines.
		var before, after sdp.SessionDescription
		if before.Unmarshal(crlfLines(body)) == nil {
			if err := after.Unmarshal(out); err != nil {
				t.Fatalf("pion/sdp read the input but not the output: %v\n%q", err, out)
			}
		}
	})
}

// crlfLines is body with every non-blank line ended by CRLF.
func crlfLines(body []byte) []byte {
	var out []byte
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line != "" {
			out = append(out, line+"\r\n"...)
		}
	}
	return out
}
