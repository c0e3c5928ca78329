//go:build linux

package natlab

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// InviteResult is what an INVITE probe got back.
type InviteResult struct {
	Status int           // final status code; 0 when none came
	Took   time.Duration // from sending the INVITE to the final response
	Codes  []int         // every status received, provisional ones included
}

// ProbeInvite sends an offerless INVITE for ruri on conn, waits up to wait
// for its final response and, for a non-2xx one, sends the ACK RFC 3261
// §17.1.1.3 asks for (same branch, the response's To tag), so the
// answering transaction stops retransmitting. Only for calls that are
// expected to fail: a 2xx is not ACKed here.
func ProbeInvite(conn *net.UDPConn, ruri string, wait time.Duration) InviteResult {
	local := conn.LocalAddr().String()
	now := time.Now().UnixNano()
	branch := fmt.Sprintf("z9hG4bK-natlab-probe-%d", now)
	callID := fmt.Sprintf("natlab-probe-%d", now)
	from := fmt.Sprintf("<sip:probe@%s>;tag=probe%d", local, now)
	request := func(method, to string) []byte {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
		fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;rport;branch=%s\r\n", local, branch)
		fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\n", from, to, callID)
		fmt.Fprintf(&b, "CSeq: 1 %s\r\nMax-Forwards: 70\r\n", method)
		fmt.Fprintf(&b, "Contact: <sip:probe@%s>\r\nContent-Length: 0\r\n\r\n", local)
		return []byte(b.String())
	}
	var res InviteResult
	start := time.Now()
	if _, err := conn.Write(request("INVITE", "<"+ruri+">")); err != nil {
		return res
	}
	buf := make([]byte, 65536)
	deadline := start.Add(wait)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			return res // timeout or ICMP error: no final response
		}
		msg := string(buf[:n])
		code := statusCode(buf[:n])
		if code < 0 || !strings.Contains(msg, callID) {
			continue // not ours (a retransmission of an earlier probe)
		}
		res.Codes = append(res.Codes, code)
		if code < 200 {
			continue
		}
		res.Status, res.Took = code, time.Since(start)
		if code >= 300 {
			_, _ = conn.Write(request("ACK", TracedMessage{Text: msg}.Header("To")))
		}
		return res
	}
}
