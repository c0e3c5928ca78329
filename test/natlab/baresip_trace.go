//go:build linux

package natlab

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// traceHead is the line baresip's SIP trace (-s) writes before each
// message: "UDP 203.0.113.5:5060 -> 192.168.2.10:5060".
var traceHead = regexp.MustCompile(`^(UDP|TCP) (\S+) -> (\S+)$`)

// Traced returns the SIP messages of the phone's trace (sent and
// received, as the bytes it wrote or read) logged at or after from. The
// trace has no end marker once the colour codes are gone, and other log
// lines may follow a message: its body is read up to its Content-Length.
func (b *Baresip) Traced(from time.Time) []TracedMessage {
	var out []TracedMessage
	var cur *TracedMessage
	var lines []string
	inBody, bodyLeft := false, 0
	flush := func() {
		if cur != nil {
			cur.Text = strings.TrimSpace(strings.Join(lines, "\n"))
			out = append(out, *cur)
		}
		cur, lines = nil, nil
	}
	for _, e := range b.Log.Entries() {
		if e.At.Before(from) {
			continue
		}
		line := strings.TrimRight(e.Raw, "\r")
		if m := traceHead.FindStringSubmatch(line); m != nil {
			flush()
			cur, inBody = &TracedMessage{At: e.At, Received: hostOf(m[3]) == b.LAN.IP}, false
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case !inBody && line == "":
			cl, _ := strconv.Atoi((&TracedMessage{Text: strings.Join(lines, "\n")}).Header("Content-Length"))
			inBody, bodyLeft = true, cl
			lines = append(lines, "")
		case !inBody:
			lines = append(lines, line)
		default:
			lines = append(lines, line)
			bodyLeft -= len(line) + 1
		}
		if inBody && bodyLeft <= 0 {
			flush()
		}
	}
	flush()
	return out
}
