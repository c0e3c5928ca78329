//go:build linux

package natlab

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TracedMessage is one SIP message from a sipp -trace_msg file.
type TracedMessage struct {
	Received bool      // false: sent by sipp
	At       time.Time // sipp's time stamp; zero when it could not be read
	Text     string
}

// traceTimeLayout is the time stamp on sipp's dashed separator lines
// (local time, microseconds).
const traceTimeLayout = "2006-01-02 15:04:05.000000"

// StartLine is the request or status line.
func (m TracedMessage) StartLine() string {
	line, _, _ := strings.Cut(m.Text, "\n")
	return strings.TrimSpace(line)
}

// compactForms maps the RFC 3261 §7.3.3 compact header names we read.
var compactForms = map[string]string{"m": "contact", "v": "via", "i": "call-id", "f": "from", "t": "to", "c": "content-type"}

// Header returns the first value of header name (case-insensitive, compact
// forms understood), "" when absent.
func (m TracedMessage) Header(name string) string {
	name = strings.ToLower(name)
	lines := strings.Split(m.Text, "\n")
	for _, line := range lines[1:] {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break // end of headers
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if full, ok := compactForms[k]; ok {
			k = full
		}
		if k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ReadSippTrace parses the message trace of the sipp run called name.
func (l *Lab) ReadSippTrace(name string) ([]TracedMessage, error) {
	b, err := os.ReadFile(filepath.Join(l.Dir, name+"_messages.log"))
	if err != nil {
		return nil, err
	}
	var out []TracedMessage
	// Each entry: a dashed time line, "<TRANSPORT> message received|sent
	// ...:", a blank line, then the message.
	for _, block := range strings.Split(string(b), "\n-----------------------------------------------") {
		stamp, rest, ok := strings.Cut(block, "\n")
		if !ok {
			continue
		}
		head, msg, ok := strings.Cut(rest, "\n")
		if !ok || !strings.Contains(head, " message ") {
			continue
		}
		at, _ := time.ParseInLocation(traceTimeLayout, strings.Trim(stamp, "- \t\r"), time.Local)
		out = append(out, TracedMessage{
			Received: strings.Contains(head, "message received"),
			At:       at,
			Text:     strings.TrimLeft(msg, "\r\n"),
		})
	}
	return out, nil
}

// Body is the message body: what follows the blank line after the headers.
func (m TracedMessage) Body() string {
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	if _, body, ok := strings.Cut(text, "\n\n"); ok {
		return body
	}
	return ""
}

// FirstReceived returns the first received message whose start line
// begins with prefix ("INVITE ", "SIP/2.0 200").
func FirstReceived(msgs []TracedMessage, prefix string) (TracedMessage, bool) {
	return firstTraced(msgs, true, prefix)
}

// FirstSent is FirstReceived for the messages sipp sent.
func FirstSent(msgs []TracedMessage, prefix string) (TracedMessage, bool) {
	return firstTraced(msgs, false, prefix)
}

func firstTraced(msgs []TracedMessage, received bool, prefix string) (TracedMessage, bool) {
	for _, m := range msgs {
		if m.Received == received && strings.HasPrefix(m.StartLine(), prefix) {
			return m, true
		}
	}
	return TracedMessage{}, false
}

// URIHost extracts the host of the first SIP URI in a header value such as
// `"x" <sip:user@10.0.0.5:5060;transport=udp>` or a Via
// `SIP/2.0/UDP 10.0.0.5:5060;branch=...`.
func URIHost(v string) string {
	if i := strings.Index(v, "sip:"); i >= 0 {
		v = v[i+len("sip:"):]
		if at := strings.IndexAny(v, "@>"); at >= 0 && v[at] == '@' {
			v = v[at+1:]
		}
	} else if f := strings.Fields(v); len(f) >= 2 {
		v = f[1] // Via: protocol then sent-by
	}
	end := strings.IndexAny(v, ";>?, ")
	if end >= 0 {
		v = v[:end]
	}
	if h, _, err := net.SplitHostPort(v); err == nil {
		return h
	}
	return v
}
