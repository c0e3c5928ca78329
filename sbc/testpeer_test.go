package sbc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// testPeer is a scripted SIP peer on a real UDP socket: the test writes the
// SIP text it sends and inspects what arrives. It stands in for a phone or a
// PBX without any SIP stack of its own, so what natsbc sends is seen as is.
type testPeer struct {
	name   string
	conn   *net.UDPConn
	target netip.AddrPort // where Send writes (natsbc's socket facing us)
	in     chan received
	done   chan struct{}

	mu      sync.Mutex
	backlog []received // arrived, not yet taken by Expect
	history []string   // every datagram received, for failure output
}

type received struct {
	msg  sip.Message // Source() is where it came from
	raw  string
	from netip.AddrPort
}

// newTestPeer binds a UDP socket on ip (port 0) and starts reading.
func newTestPeer(t *testing.T, name, ip string) *testPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatalf("%s: listen: %v", name, err)
	}
	p := &testPeer{name: name, conn: conn, in: make(chan received, 1024), done: make(chan struct{})}
	go p.read()
	t.Cleanup(p.close)
	return p
}

func (p *testPeer) read() {
	defer close(p.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			close(p.in)
			return
		}
		raw := string(buf[:n])
		p.mu.Lock()
		p.history = append(p.history, fmt.Sprintf("from %s:\n%s", from, raw))
		p.mu.Unlock()
		msg, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue // kept in history; not a message Expect can match
		}
		msg.SetSource(from.String())
		p.in <- received{msg: msg, raw: raw, from: from}
	}
}

func (p *testPeer) close() {
	_ = p.conn.Close()
	<-p.done
}

// addr is the peer's real socket address.
func (p *testPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Send writes msg to the peer's target.
func (p *testPeer) Send(t *testing.T, msg string) {
	t.Helper()
	p.SendTo(t, p.target, msg)
}

// SendTo writes msg to dst.
func (p *testPeer) SendTo(t *testing.T, dst netip.AddrPort, msg string) {
	t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort([]byte(msg), dst); err != nil {
		t.Fatalf("%s: send to %s: %v", p.name, dst, err)
	}
}

// Expect returns the first message (earlier arrivals first) that match
// accepts, waiting up to timeout. Messages that do not match stay in the
// backlog for later Expects. On timeout the test fails with everything the
// peer has received.
func (p *testPeer) Expect(t *testing.T, timeout time.Duration, what string, match func(sip.Message) bool) sip.Message {
	t.Helper()
	if m, ok := p.tryExpect(timeout, match); ok {
		return m
	}
	t.Fatalf("%s: no %s within %v\n%s", p.name, what, timeout, p.dump())
	return nil
}

func (p *testPeer) tryExpect(timeout time.Duration, match func(sip.Message) bool) (sip.Message, bool) {
	if m, ok := p.takeFromBacklog(match); ok {
		return m, true
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case r, ok := <-p.in:
			if !ok {
				return nil, false
			}
			if match(r.msg) {
				return r.msg, true
			}
			p.mu.Lock()
			p.backlog = append(p.backlog, r)
			p.mu.Unlock()
		case <-deadline.C:
			return nil, false
		}
	}
}

func (p *testPeer) takeFromBacklog(match func(sip.Message) bool) (sip.Message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range p.backlog {
		if match(r.msg) {
			p.backlog = append(p.backlog[:i], p.backlog[i+1:]...)
			return r.msg, true
		}
	}
	return nil, false
}

// TakeAll removes and returns every message received so far (backlog and
// not yet read) that match accepts.
func (p *testPeer) TakeAll(match func(sip.Message) bool) []sip.Message {
	for drained := false; !drained; {
		select {
		case r, ok := <-p.in:
			if !ok {
				drained = true
				break
			}
			p.mu.Lock()
			p.backlog = append(p.backlog, r)
			p.mu.Unlock()
		default:
			drained = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []sip.Message
	keep := p.backlog[:0]
	for _, r := range p.backlog {
		if match(r.msg) {
			out = append(out, r.msg)
		} else {
			keep = append(keep, r)
		}
	}
	p.backlog = keep
	return out
}

func (p *testPeer) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.history) == 0 {
		return "(" + p.name + " received nothing)"
	}
	return p.name + " received:\n" + strings.Join(p.history, "\n---\n")
}

// Matchers.

func isRequest(method sip.RequestMethod) func(sip.Message) bool {
	return func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == method
	}
}

func isRequestIn(method sip.RequestMethod, callID string) func(sip.Message) bool {
	return func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == method && r.CallID() != nil && r.CallID().Value() == callID
	}
}

func isResponse(code int, method sip.RequestMethod) func(sip.Message) bool {
	return func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode == code && r.CSeq() != nil && r.CSeq().MethodName == method
	}
}

// sipMsg writes a SIP message: start line, headers, Content-Length, body.
func sipMsg(start string, headers []string, body string) string {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// replyTo writes a response to req as a UAS would (RFC 3261 §8.2.6.2): all
// Vias, From, Call-ID, CSeq copied; To gets toTag when it has none.
func replyTo(req sip.Message, code int, reason, toTag string, extra []string, body string) string {
	var hs []string
	for _, h := range req.GetHeaders("Via") {
		hs = append(hs, "Via: "+h.Value())
	}
	to := req.To().Value()
	if _, has := req.To().Params.Get("tag"); !has && toTag != "" {
		to += ";tag=" + toTag
	}
	hs = append(hs, "From: "+req.From().Value(), "To: "+to,
		"Call-ID: "+req.CallID().Value(), "CSeq: "+req.CSeq().Value())
	hs = append(hs, extra...)
	return sipMsg(fmt.Sprintf("SIP/2.0 %d %s", code, reason), hs, body)
}

func sdpBody(ip string, port int) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", ip, ip, port)
}

func toTagOf(m sip.Message) string   { t, _ := m.To().Params.Get("tag"); return t }
func fromTagOf(m sip.Message) string { t, _ := m.From().Params.Get("tag"); return t }

func contactOf(t *testing.T, m sip.Message) sip.Uri {
	t.Helper()
	for _, h := range m.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok {
			return c.Address
		}
	}
	t.Fatalf("no Contact in\n%s", m)
	return sip.Uri{}
}

// logSink collects the Server's JSON log lines and wakes waiters on every
// write, so a test waits for a line instead of sleeping.
type logSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return n, err
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the records whose msg is msg.
func (l *logSink) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

var errLogTimeout = errors.New("log line did not come")

// waitFor waits until a record with msg has been logged.
func (l *logSink) waitFor(msg string, timeout time.Duration) (map[string]any, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ch := l.changed
		l.mu.Unlock()
		if recs := l.lines(msg); len(recs) > 0 {
			return recs[0], nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return nil, errLogTimeout
		}
	}
}
