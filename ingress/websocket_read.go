package ingress

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Read hands sipgo the upgrade request, then data frames only.
func (c *wsConn) Read(b []byte) (int, error) {
	for len(c.pending) == 0 {
		var err error
		if !c.headDone {
			err = c.readHandshake()
		} else {
			err = c.readFrame()
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(b, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// readFrame reads one frame. A control frame is answered here; the last
// frame of a data message leaves the whole message in pending, as one
// masked text frame (sipgo's reader wants client frames masked; the mask
// is zero, the payload already clear).
func (c *wsConn) readFrame() error {
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		return err
	}
	// RFC 6455 §5.1: a server MUST close a connection on an unmasked
	// client frame; §5.2: RSV bits without a negotiated extension, and
	// reserved opcodes, fail the connection; §5.5: control frames are at
	// most 125 bytes and not fragmented.
	switch {
	case !h.Masked:
		return c.fail(ws.StatusProtocolError, errWSProtocol, "unmasked client frame")
	case h.Rsv != 0, h.OpCode.IsReserved():
		return c.fail(ws.StatusProtocolError, errWSProtocol, "reserved bits or opcode")
	case h.OpCode.IsControl() && (h.Length > 125 || !h.Fin):
		return c.fail(ws.StatusProtocolError, errWSProtocol, "control frame fragmented or over 125 bytes")
	// Compared with the room left, not as a sum: a 63-bit length (§5.2)
	// added to what is held would wrap negative and pass.
	case !h.OpCode.IsControl() && h.Length > int64(c.maxMessage-len(c.msg)):
		return c.fail(ws.StatusMessageTooBig, errWSTooLarge, "message larger than max_message_size")
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return err
	}
	ws.Cipher(payload, h.Mask, 0)

	switch h.OpCode {
	case ws.OpPing:
		// §5.5.3: the Pong carries the Ping's application data. The
		// pinger writes it: the read side never waits on a peer that
		// stopped reading.
		c.queuePong(payload)
		return nil
	case ws.OpPong:
		return nil // its arrival kept the connection from idling out
	case ws.OpClose:
		if err := c.checkClose(payload); err != nil {
			return err
		}
		// §5.5.1: answer with a Close (echoing the status code), then
		// the TCP connection ends.
		echo := payload
		if len(echo) > 2 {
			echo = echo[:2]
		}
		_ = c.writeControl(ws.OpClose, echo)
		return io.EOF
	case ws.OpContinuation:
		if !c.inMsg {
			return c.fail(ws.StatusProtocolError, errWSProtocol, "continuation without a message")
		}
	default: // text or binary: a new message
		if c.inMsg {
			return c.fail(ws.StatusProtocolError, errWSProtocol, "new message inside a fragmented one")
		}
		c.inMsg, c.msg = true, c.msg[:0]
		c.msgText = h.OpCode == ws.OpText
	}
	c.msg = append(c.msg, payload...)
	if !h.Fin {
		return nil
	}
	c.inMsg = false
	// §8.1: a text message that is not UTF-8 fails the connection, with
	// 1007 (§7.4.1). Checked whole: a fragment may end inside a character.
	if c.msgText && !utf8.Valid(c.msg) {
		return c.fail(ws.StatusInvalidFramePayloadData, errWSProtocol, "text message not UTF-8")
	}
	out := ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Length: int64(len(c.msg))}
	var buf bytes.Buffer
	buf.Grow(ws.HeaderSize(out) + len(c.msg))
	_ = ws.WriteHeader(&buf, out)
	buf.Write(c.msg)
	c.pending = buf.Bytes()
	c.msg = nil
	return nil
}

// checkClose fails a Close frame whose body breaks §5.5.1: one byte (a
// status code is two), a status code no endpoint may send (§7.4.1,
// §7.4.2: 1004-1006, 1015, unassigned 1016-2999, under 1000), or a
// reason that is not UTF-8 (1007).
func (c *wsConn) checkClose(payload []byte) error {
	switch len(payload) {
	case 0:
		return nil
	case 1:
		return c.fail(ws.StatusProtocolError, errWSProtocol, "Close frame with a 1-byte body")
	}
	code, reason := ws.ParseCloseFrameData(payload)
	switch err := ws.CheckCloseFrameData(code, reason); {
	case errors.Is(err, ws.ErrProtocolInvalidUTF8):
		return c.fail(ws.StatusInvalidFramePayloadData, errWSProtocol, "Close reason not UTF-8")
	case err != nil:
		return c.fail(ws.StatusProtocolError, errWSProtocol, "Close frame with an invalid status code")
	}
	return nil
}

// fail ends the connection with a Close frame of code (§7.1.7).
func (c *wsConn) fail(code ws.StatusCode, err error, why string) error {
	c.refused(c.RemoteAddr(), why)
	_ = c.writeControl(ws.OpClose, ws.NewCloseFrameBody(code, ""))
	return err
}

// queuePong hands the pinger a Pong to write. §5.5.3: an endpoint "MAY
// elect to send a Pong frame for only the most recently processed Ping
// frame", so one still waiting is replaced. Only the read side calls it.
func (c *wsConn) queuePong(payload []byte) {
	for {
		select {
		case c.pong <- payload:
			return
		default:
		}
		select {
		case <-c.pong:
		default:
		}
	}
}
