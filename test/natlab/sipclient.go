//go:build linux

package natlab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// SIPRequest renders a minimal request from the socket's local address;
// callID "" leaves the Call-ID header out (for malformed-input tests).
func SIPRequest(conn *net.UDPConn, method, ruri, callID string, maxForwards int, extra ...string) []byte {
	local := conn.LocalAddr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK-natlab-%d\r\n", local, time.Now().UnixNano())
	fmt.Fprintf(&b, "From: <sip:probe@%s>;tag=natlab%d\r\n", local, os.Getpid())
	fmt.Fprintf(&b, "To: <%s>\r\n", ruri)
	if callID != "" {
		fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	}
	fmt.Fprintf(&b, "CSeq: 1 %s\r\n", method)
	fmt.Fprintf(&b, "Max-Forwards: %d\r\n", maxForwards)
	fmt.Fprintf(&b, "Contact: <sip:probe@%s>\r\n", local)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// ReadStatuses collects the status codes of the responses arriving on
// conn within wait. Datagrams that are not SIP responses are reported as -1.
func ReadStatuses(conn *net.UDPConn, wait time.Duration) []int {
	var codes []int
	buf := make([]byte, 65536)
	deadline := time.Now().Add(wait)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return codes
			}
			// ICMP unreachable and the like: nothing more will come.
			return codes
		}
		codes = append(codes, statusCode(buf[:n]))
	}
}

func statusCode(msg []byte) int {
	line, _, _ := strings.Cut(string(msg), "\r\n")
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return -1
	}
	c, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return c
}
