package sbc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/policy"
)

// awaitBan waits until the shield holds a ban.
func awaitBan(t *testing.T, shield *ingress.Shield) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(shield.Bans()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no source banned")
		}
		time.Sleep(time.Millisecond)
	}
}

// tcpOptions writes an OPTIONS to natsbc over c (a new transaction each
// time: n is in its branch).
func tcpOptions(t *testing.T, c net.Conn, n int, userAgent string) {
	t.Helper()
	local := c.LocalAddr().String()
	msg := fmt.Sprintf("OPTIONS sip:%s;transport=tcp SIP/2.0\r\n"+
		"Via: SIP/2.0/TCP %s;branch=z9hG4bK-shield-%d\r\n"+
		"From: <sip:probe@%s>;tag=f%d\r\nTo: <sip:%s>\r\nCall-ID: shield-%d@%s\r\n"+
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nUser-Agent: %s\r\nContent-Length: 0\r\n\r\n",
		c.RemoteAddr(), local, n, local, n, c.RemoteAddr(), n, local, userAgent)
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write OPTIONS %d: %v", n, err)
	}
}

// statusLine reads the next response's status line, "" when the
// connection ended or nothing came within d.
func statusLine(r *bufio.Reader, c net.Conn, d time.Duration) string {
	_ = c.SetReadDeadline(time.Now().Add(d))
	msg, err := readStreamMessage(r)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(msg, "\r\n")
	return line
}

// Issue 12, item 6: over TCP a source's requests take tokens of the same
// bucket as over UDP: over it one 503 with Retry-After, then silence.
func TestTCPRequestsRateLimited(t *testing.T) {
	t.Parallel()
	addr, _ := newTCPServer(t, policy.Config{}, ingress.ShieldConfig{Rate: 0.001, Burst: 2})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	var got []string
	for i := range 4 {
		tcpOptions(t, c, i, "phone/1.0")
		if i < 3 {
			got = append(got, statusLine(r, c, wait))
		}
	}
	want := []string{"SIP/2.0 200 OK", "SIP/2.0 200 OK", "SIP/2.0 503 Service Unavailable"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("answers %q, want %q", got, want)
	}
	if line := statusLine(r, c, 300*time.Millisecond); line != "" {
		t.Errorf("the fourth request over the rate was answered %q; want silence", line)
	}
}

// Issue 12, items 3 and 6: a scanner's request over TCP is dropped without
// an answer, its source banned, and its connection ends at what it sends
// next.
func TestTCPScannerBannedAndCut(t *testing.T) {
	t.Parallel()
	addr, srv := newTCPServer(t, policy.Config{}, ingress.ShieldConfig{Scanners: []string{"friendly-scanner"}, BanTime: time.Hour})
	shield := srv.Shield()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	tcpOptions(t, c, 1, "friendly-scanner")
	awaitBan(t, shield)
	tcpOptions(t, c, 2, "innocent/1.0")
	// Neither is answered: the first byte read is the end of the stream.
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if b, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("the banned source's connection: read %q, %v; want EOF (closed, nothing answered)", b, err)
	}
	// A new connection from the banned address is refused at accept.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		return // refused outright is fine too
	}
	defer c2.Close()
	_ = c2.SetReadDeadline(time.Now().Add(wait))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("a new connection from the banned source stayed open")
	}
}
