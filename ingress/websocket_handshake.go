package ingress

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// maxHandshake bounds the HTTP upgrade request natsbc reads.
const maxHandshake = 8 << 10

// readHandshake reads the HTTP upgrade request (RFC 6455 §4.1) up to its
// empty line, and passes it on when it asks for the sip subprotocol.
func (c *wsConn) readHandshake() error {
	var head []byte
	for {
		line, err := c.br.ReadSlice('\n')
		head = append(head, line...)
		if len(head) > maxHandshake {
			c.refuse("431 Request Header Fields Too Large", "upgrade request too large")
			return errWSProtocol
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			return err
		}
		if bytes.Equal(line, []byte("\r\n")) || bytes.Equal(line, []byte("\n")) {
			break
		}
	}
	if !asksForSIP(head) {
		c.refuse("400 Bad Request", "no sip subprotocol")
		return errWSNotSIP
	}
	if !originAllowed(head, c.origins) {
		c.refuse("403 Forbidden", "origin not allowed")
		return errWSOrigin
	}
	c.headDone = true
	c.pending = head
	// The guard beneath held the request to an absolute deadline; from
	// here its idle timeout governs.
	if g, ok := c.Conn.(interface{ upgradeRead() }); ok {
		g.upgradeRead()
	}
	return nil
}

// headerValues returns the values of the header fields called name in an
// upgrade request, trimmed.
func headerValues(head []byte, name string) []string {
	var values []string
	for _, line := range strings.Split(string(head), "\n") {
		n, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			values = append(values, strings.TrimSpace(value))
		}
	}
	return values
}

// asksForSIP reports whether an upgrade request lists "sip" in its
// Sec-WebSocket-Protocol header(s) (RFC 6455 §4.1 item 10; RFC 7118 §4.1).
func asksForSIP(head []byte) bool {
	for _, value := range headerValues(head, "Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(value, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "sip") {
				return true
			}
		}
	}
	return false
}

// originAllowed reports whether the upgrade may proceed. RFC 6455 §10.2:
// a browser sends the Origin of the page that opens the WebSocket, so a
// server refuses pages it does not serve (cross-site WebSocket
// hijacking); a client that is not a browser sends none and is let in.
// Origins compare case-insensitively (RFC 6454 §6.2: scheme and host are
// lower-cased when serialised).
func originAllowed(head []byte, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	values := headerValues(head, "Origin")
	switch len(values) {
	case 0:
		return true
	case 1:
		for _, a := range allowed {
			if strings.EqualFold(values[0], a) {
				return true
			}
		}
	}
	return false // not listed, or more than one Origin
}

// refuse answers an upgrade natsbc does not pass to sipgo.
func (c *wsConn) refuse(status, why string) {
	c.refused(c.RemoteAddr(), why)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _ = io.WriteString(c.Conn, "HTTP/1.1 "+status+"\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}
