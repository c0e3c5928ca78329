package media

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sdpTestdata = "testdata/sdp"

var (
	outsideFacing = netip.MustParseAddr("203.0.113.5") // towards phones and carriers
	insideFacing  = netip.MustParseAddr("10.0.0.5")    // towards the PBX
	ipv6Facing    = netip.MustParseAddr("2001:db8:ff::5")
)

// sdpBody joins lines with CRLF, after a minimal valid session head unless
// the first line is v=.
func sdpBody(lines ...string) []byte {
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "v=") {
		head := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"}
		lines = append(head, lines...)
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// testRelayPorts gives enabled stream i the pair 20000+2i/20001+2i.
func testRelayPorts(streams []Stream) []RelayPorts {
	relay := make([]RelayPorts, len(streams))
	for i, s := range streams {
		if s.Port != 0 {
			relay[i] = RelayPorts{RTP: 20000 + 2*i, RTCP: 20001 + 2*i}
		}
	}
	return relay
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sdpTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
