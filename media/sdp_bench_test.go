package media

import "testing"

// BenchmarkRewriteSDP rewrites a two-stream Linphone offer with ICE (the
// largest test body) and an Asterisk offer, as sbc does once per SDP.
func BenchmarkRewriteSDP(b *testing.B) {
	for _, name := range []string{"linphone_ice_offer.sdp", "asterisk_offer.sdp"} {
		b.Run(name, func(b *testing.B) {
			body := readTestdata(b, name)
			streams, err := ParseStreams(body)
			if err != nil {
				b.Fatal(err)
			}
			relay := testRelayPorts(streams)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := RewriteSDP(body, insideFacing, relay, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseStreams(b *testing.B) {
	body := readTestdata(b, "linphone_ice_offer.sdp")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStreams(body); err != nil {
			b.Fatal(err)
		}
	}
}
