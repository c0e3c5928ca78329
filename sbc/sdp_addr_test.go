package sbc

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestSDPConnectionAddrsReadsWhatMediaAnchors(t *testing.T) {
	t38 := "v=0\r\no=- 1 2 IN IP4 192.168.1.30\r\ns=-\r\nc=IN IP4 192.168.1.30\r\nt=0 0\r\n" +
		"m=image 4000 udptl t38\r\na=T38FaxVersion:0\r\n"
	av := "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\nc=IN IP4 10.1.2.3\r\nm=image 0 udptl t38\r\nc=IN IP4 10.9.9.9\r\n"
	multipart := "--b\r\nContent-Type: application/isup\r\n\r\n\x01\r\n--b\r\nContent-Type: application/sdp\r\n\r\n" + t38 + "\r\n--b--\r\n"
	cases := []struct {
		name, contentType, body string
		want                    []string
	}{
		// pion/sdp, which nat detection used, read nothing of a T.38 body.
		{"T.38", "application/sdp", t38, []string{"192.168.1.30"}},
		{"every enabled stream, not only the first", "application/sdp", av, []string{"198.51.100.7", "10.1.2.3"}},
		{"multipart", "multipart/mixed;boundary=b", multipart, []string{"192.168.1.30"}},
		{"not SDP", "application/dtmf-relay", "Signal=1\r\n", nil},
		{"unreadable SDP", "application/sdp", "hello", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{User: "bob", Host: "example.com"})
			ct := sip.ContentTypeHeader(c.contentType)
			req.AppendHeader(&ct)
			req.SetBody([]byte(c.body))
			var want []netip.Addr
			for _, a := range c.want {
				want = append(want, netip.MustParseAddr(a))
			}
			if got := sdpConnectionAddrs(req); !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}
