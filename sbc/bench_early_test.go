package sbc

import (
	"log/slog"
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// The per-provisional cost of making the B-leg's early dialog: the same
// route learning the 2xx always did, now also for each 18x with a To tag.
func BenchmarkEarlyDialog(b *testing.B) {
	msg, err := sip.ParseMessage([]byte("SIP/2.0 183 Session Progress\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-1;rport\r\n" +
		"From: <sip:2000@example.com>;tag=b1\r\n" +
		"To: <sip:1000@10.0.0.10>;tag=pbx1\r\n" +
		"Call-ID: bench\r\nCSeq: 1 INVITE\r\n" +
		"Record-Route: <sip:10.0.0.20;lr>\r\n" +
		"Contact: <sip:1000@10.0.0.10:5060>\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		b.Fatal(err)
	}
	res := msg.(*sip.Response)
	res.SetSource("10.0.0.20:5060")
	c := &call{s: &Server{}, log: slog.New(slog.DiscardHandler)}
	far := &leg{side: media.LegB, transport: "UDP", callID: "bench", localTag: "b1",
		remoteTarget: sip.Uri{Scheme: "sip", Host: "10.0.0.10"}, source: netip.MustParseAddrPort("10.0.0.10:5060")}
	b.ReportAllocs()
	for b.Loop() {
		if c.learnEarlyDialog(far, res) == nil {
			b.Fatal("no early dialog")
		}
	}
}
