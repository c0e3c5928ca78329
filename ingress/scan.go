package ingress

import (
	"bytes"
	"strings"
)

// scannedRequest is what a lenient line scan recovers from a request that
// sipgo could not parse or that ingress rejected: just enough to answer it
// (RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq are copied).
type scannedRequest struct {
	method string
	vias   []string // values of every Via line, top first
	from   string
	to     string
	callID string
	cseq   string
}

// scanRequest reads the start line and headers of data without trusting
// them: lines may end in LF alone, values may be anything. ok is false when
// data does not look like a request at all (a response, binary garbage).
func scanRequest(data []byte) (r scannedRequest, ok bool) {
	lines := splitHeaderLines(data)
	if len(lines) == 0 {
		return r, false
	}
	method, ok := requestLineMethod(lines[0])
	if !ok {
		return r, false
	}
	r.method = method
	for _, line := range lines[1:] {
		name, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			r.vias = append(r.vias, value)
		case "from", "f":
			r.from = firstOf(r.from, value)
		case "to", "t":
			r.to = firstOf(r.to, value)
		case "call-id", "i":
			r.callID = firstOf(r.callID, value)
		case "cseq":
			r.cseq = firstOf(r.cseq, value)
		}
	}
	return r, true
}

func firstOf(have, next string) string {
	if have != "" {
		return have
	}
	return next
}

// splitHeaderLines returns the start line and unfolded header lines, up to
// the first empty line. CRLF and bare LF both end a line (RFC 3261 §7.3.1
// folding: a line starting with SP/HT continues the previous one).
func splitHeaderLines(data []byte) []string {
	var lines []string
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(lines) > 1 {
			lines[len(lines)-1] += " " + strings.TrimSpace(string(line))
			continue
		}
		lines = append(lines, string(line))
	}
	return lines
}

// requestLineMethod accepts "METHOD SP Request-URI SP SIP/x.y" (RFC 3261
// §7.1) loosely: a token method, something, and a SIP version.
func requestLineMethod(line string) (string, bool) {
	parts := strings.Fields(line)
	if len(parts) != 3 || !IsToken(parts[0]) {
		return "", false
	}
	if !strings.HasPrefix(strings.ToUpper(parts[2]), "SIP/") {
		return "", false
	}
	return strings.ToUpper(parts[0]), true
}
