package ingress

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/gobwas/ws"
)

// defaultControlWriteTimeout bounds natsbc's own frame writes.
const defaultControlWriteTimeout = 10 * time.Second

// Write is sipgo's: the upgrade response, then frames (tracked).
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if !c.upgraded {
		c.trackResponse(p)
	} else {
		c.out.feed(p)
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		// A frame cut in the middle leaves no boundary to write at: the
		// connection is over.
		c.closed = true
		_ = c.Conn.Close()
	}
	if !c.out.inFrame() || c.closed {
		c.cond.Broadcast()
	}
	return n, err
}

// trackResponse notes the end of sipgo's upgrade response: frames follow
// it only when it said 101 (RFC 6455 §4.2.2).
func (c *wsConn) trackResponse(p []byte) {
	c.respTail = append(c.respTail, p...)
	if i := bytes.Index(c.respTail, []byte("\r\n\r\n")); i >= 0 {
		c.upgraded = bytes.HasPrefix(c.respTail, []byte("HTTP/1.1 101"))
		rest := c.respTail[i+4:]
		c.respTail = nil
		if c.upgraded {
			c.out.feed(rest)
		}
		c.cond.Broadcast()
	} else if len(c.respTail) > maxHandshake {
		c.respTail = c.respTail[len(c.respTail)-3:]
	}
}

// writeControl writes one control frame of natsbc's own, at a frame
// boundary of sipgo's stream. Server frames are not masked (§5.1).
func (c *wsConn) writeControl(op ws.OpCode, payload []byte) error {
	frame, err := ws.CompileFrame(ws.NewFrame(op, true, payload))
	if err != nil {
		return err
	}
	// The deadline is set before waiting: a write of sipgo's stuck on a
	// peer that stopped reading fails with it, and the wait ends.
	c.armControlDeadline()
	defer c.disarmControlDeadline()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for !c.closed && c.upgraded && c.out.inFrame() {
		c.cond.Wait()
	}
	if c.closed {
		return net.ErrClosed
	}
	if !c.upgraded {
		return fmt.Errorf("%w: control frame before the upgrade", errWSProtocol)
	}
	if _, err := c.Conn.Write(frame); err != nil {
		c.closed = true
		_ = c.Conn.Close()
		c.cond.Broadcast()
		return err
	}
	return nil
}

// pinger pings the peer every interval once the upgrade is done, and
// writes the Pongs the read side queues, until the connection closes.
func (c *wsConn) pinger(interval time.Duration) {
	defer close(c.pingerDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case p := <-c.pong:
			_ = c.writeControl(ws.OpPong, p)
		case <-t.C:
			c.wmu.Lock()
			up := c.upgraded
			c.wmu.Unlock()
			if up {
				_ = c.writeControl(ws.OpPing, nil)
			}
		}
	}
}

// armControlDeadline bounds a control frame's write; the write deadline
// of sipgo, if sooner, still holds.
func (c *wsConn) armControlDeadline() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.ctrlWriters++
	c.ctrlWD = time.Now().Add(c.writeTimeout)
	c.applyWriteDeadline()
}

// disarmControlDeadline gives sipgo back its own write deadline once no
// control frame is on its way.
func (c *wsConn) disarmControlDeadline() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.ctrlWriters--
	c.applyWriteDeadline()
}

// applyWriteDeadline sets the sooner of sipgo's deadline and natsbc's.
// dmu is held.
func (c *wsConn) applyWriteDeadline() {
	d := c.userWD
	if c.ctrlWriters > 0 && (d.IsZero() || c.ctrlWD.Before(d)) {
		d = c.ctrlWD
	}
	_ = c.Conn.SetWriteDeadline(d)
}

// SetWriteDeadline is sipgo's write deadline, kept beneath natsbc's own.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.userWD = t
	c.applyWriteDeadline()
	return nil
}

// SetDeadline sets sipgo's read and write deadlines.
func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}
