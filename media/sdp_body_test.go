package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const tinySDP = "v=0\r\no=- 1 1 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\nm=audio 8000 RTP/AVP 0\r\n"

func TestSDPOfFindsTheSDP(t *testing.T) {
	nested := "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain\r\n\r\nno SDP here\r\n" +
		"--inner\r\nContent-Type: application/sdp\r\n\r\n" + tinySDP + "\r\n--inner--\r\n" +
		"\r\n--outer--\r\n"
	cases := []struct {
		name, contentType, body string
		want                    string // "" when there is no SDP
	}{
		{"plain", "application/sdp", tinySDP, tinySDP},
		{"plain with parameters and case", "Application/SDP; charset=UTF-8", tinySDP, tinySDP},
		{"not SDP", "application/dtmf-relay", "Signal=1\r\n", ""},
		{"empty SDP", "application/sdp", "\r\n", ""},
		{"multipart, SDP second", `multipart/mixed; boundary="b 1"`,
			"preamble\r\n--b 1\r\nContent-Type: application/isup\r\n\r\n\x01\x02\r\n--b 1\r\ncontent-type: application/sdp\r\n\r\n" + tinySDP + "\r\n--b 1--\r\nepilogue",
			tinySDP},
		{"multipart, bare LF", "multipart/mixed;boundary=x",
			"--x\nContent-Type: application/sdp\n\n" + strings.ReplaceAll(tinySDP, "\r\n", "\n") + "\n--x--\n",
			strings.ReplaceAll(tinySDP, "\r\n", "\n")},
		{"multipart without SDP", "multipart/mixed;boundary=x",
			"--x\r\nContent-Type: application/isup\r\n\r\n\x01\r\n--x--\r\n", ""},
		{"part without Content-Type is text/plain", "multipart/mixed;boundary=x",
			"--x\r\n\r\n" + tinySDP + "\r\n--x--\r\n", ""},
		{"nested alternative", "multipart/mixed;boundary=outer", nested, tinySDP},
		{"boundary inside a line is no delimiter", "multipart/mixed;boundary=x",
			"--x\r\nContent-Type: application/sdp\r\n\r\n" + tinySDP + "a=x:--x\r\n\r\n--x--\r\n", tinySDP + "a=x:--x\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := SDPOf(c.contentType, []byte(c.body))
			if ok != (c.want != "") || string(got) != c.want {
				t.Fatalf("SDPOf = %q, %t; want %q", got, ok, c.want)
			}
		})
	}
}

// A multipart body whose parts cannot be told apart may hide SDP: it is
// refused (488), not passed on with the author's addresses in it.
func TestRewriteRefusesUnreadableMultipart(t *testing.T) {
	for name, c := range map[string]struct{ contentType, body string }{
		"no boundary parameter": {"multipart/mixed", "--x\r\nContent-Type: application/sdp\r\n\r\n" + tinySDP + "\r\n--x--\r\n"},
		"no closing boundary":   {"multipart/mixed;boundary=x", "--x\r\nContent-Type: application/sdp\r\n\r\n" + tinySDP},
		"no boundary line":      {"multipart/mixed;boundary=x", tinySDP},
		"nested too deep": {"multipart/mixed;boundary=a",
			"--a\r\nContent-Type: multipart/mixed;boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed;boundary=c\r\n\r\n" +
				"--c\r\nContent-Type: multipart/mixed;boundary=d\r\n\r\n--d\r\n\r\n--d--\r\n\r\n--c--\r\n\r\n--b--\r\n\r\n--a--\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newSessionRig(t, Config{})
			if _, err := r.s.Rewrite(LegA, c.contentType, []byte(c.body), facingB); !errors.Is(err, ErrUnparsableSDP) {
				t.Fatalf("Rewrite: %v, want ErrUnparsableSDP", err)
			}
		})
	}
}

func TestRewriteMultipartKeepsTheOtherParts(t *testing.T) {
	r := newSessionRig(t, Config{})
	head := "--x\r\nContent-Type: application/isup; version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n\x01\x00\x49\n\x00\r\n" +
		"--x\r\nContent-Type: application/sdp\r\nContent-Disposition: session\r\n\r\n"
	tail := "\r\n--x--\r\n"
	out, err := r.s.Rewrite(LegA, "multipart/mixed;boundary=x", []byte(head+tinySDP+tail), facingB)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(head)) || !bytes.HasSuffix(out, []byte(tail)) {
		t.Fatalf("the other parts changed:\n%q", out)
	}
	sdp, _ := SDPOf("multipart/mixed;boundary=x", out)
	streams, err := ParseStreams(sdp)
	if err != nil || streams[0].Addr != facingB || bytes.Contains(out, []byte("192.168.1.20")) {
		t.Fatalf("SDP part not anchored (%v):\n%s", err, out)
	}
	// A body without SDP passes as it came.
	info := []byte("--x\r\nContent-Type: application/isup\r\n\r\n\x01\r\n--x--\r\n")
	if out, err := r.s.Rewrite(LegA, "multipart/mixed;boundary=x", info, facingB); err != nil || !bytes.Equal(out, info) {
		t.Fatalf("a multipart body without SDP changed: %q, %v", out, err)
	}
}

// FuzzLocateSDP: any body and Content-Type, however broken, is located
// without a panic, and the SDP found lies inside the body, so putting it
// back gives the body unchanged.
func FuzzLocateSDP(f *testing.F) {
	f.Add("multipart/mixed;boundary=x", "--x\r\nContent-Type: application/sdp\r\n\r\n"+tinySDP+"\r\n--x--\r\n")
	f.Add("multipart/mixed;boundary=x", "--x\n\n--x--")
	f.Add("multipart/alternative; boundary=\"a b\"", "--a b\r\nContent-Type: multipart/mixed;boundary=a\r\n\r\n--a\r\n--a b--")
	f.Add("application/sdp", tinySDP)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		start, end, ok, err := locateSDP(contentType, []byte(body), 0)
		if err != nil || !ok {
			return
		}
		if start < 0 || start > end || end > len(body) {
			t.Fatalf("SDP at %d:%d of a %d-byte body", start, end, len(body))
		}
		if got := replaceSDP([]byte(body), start, end, []byte(body[start:end])); string(got) != body {
			t.Fatalf("putting the SDP back changed the body:\n%q\n%q", body, got)
		}
	})
}
