package loadgen

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// sipMessage is the part of a SIP message the generator needs: enough to
// answer a request, match a response to its call and follow a dialog's
// route set. It is no general parser: the target is trusted to speak SIP.
type sipMessage struct {
	request bool
	method  string // request method
	ruri    string // request URI
	status  int    // response status code

	vias        []string // Via header values in order, as received
	from, to    string
	callID      string
	cseq        uint32
	cseqMethod  string
	contact     string   // URI of the first Contact
	recordRoute []string // one entry per route, in message order
	routes      []string // Route entries (read by tests of what the generator sends)
	body        []byte
}

var errNotSIP = errors.New("not a SIP message")

// RFC 3261 §7.3.3: compact header forms.
var compactHeaders = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
}

func parseSIP(b []byte) (*sipMessage, error) {
	head, body, found := bytes.Cut(b, []byte("\r\n\r\n"))
	if !found {
		head, body, _ = bytes.Cut(b, []byte("\n\n"))
	}
	lines := unfoldLines(string(head))
	if len(lines) == 0 {
		return nil, errNotSIP
	}
	m := &sipMessage{}
	if err := m.parseStartLine(lines[0]); err != nil {
		return nil, err
	}
	contentLength := -1
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if long, ok := compactHeaders[name]; ok {
			name = long
		}
		value = strings.TrimSpace(value)
		switch name {
		case "via":
			m.vias = append(m.vias, value)
		case "from":
			m.from = value
		case "to":
			m.to = value
		case "call-id":
			m.callID = value
		case "cseq":
			num, method, _ := strings.Cut(value, " ")
			n, err := strconv.ParseUint(num, 10, 32)
			if err != nil {
				return nil, errors.New("bad CSeq")
			}
			m.cseq, m.cseqMethod = uint32(n), strings.TrimSpace(method)
		case "contact":
			if m.contact == "" {
				m.contact = nameAddrURI(splitList(value)[0])
			}
		case "record-route":
			m.recordRoute = append(m.recordRoute, splitList(value)...)
		case "route":
			m.routes = append(m.routes, splitList(value)...)
		case "content-length":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return nil, errors.New("bad Content-Length")
			}
			contentLength = n
		}
	}
	if m.callID == "" || m.cseqMethod == "" || len(m.vias) == 0 {
		return nil, errors.New("missing Call-ID, CSeq or Via")
	}
	if contentLength >= 0 && contentLength < len(body) {
		body = body[:contentLength]
	}
	m.body = body
	return m, nil
}

// parseStartLine reads "METHOD URI SIP/2.0" or "SIP/2.0 CODE REASON".
func (m *sipMessage) parseStartLine(line string) error {
	first, rest, ok := strings.Cut(line, " ")
	if !ok {
		return errNotSIP
	}
	if first == "SIP/2.0" {
		code, _, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(code)
		if err != nil || n < 100 || n > 699 {
			return errNotSIP
		}
		m.status = n
		return nil
	}
	uri, version, ok := strings.Cut(rest, " ")
	if !ok || version != "SIP/2.0" {
		return errNotSIP
	}
	m.request, m.method, m.ruri = true, first, uri
	return nil
}

// unfoldLines splits a header block into lines, joining RFC 3261 §7.3.1
// continuation lines (leading whitespace) to the line before.
func unfoldLines(head string) []string {
	var lines []string
	for line := range strings.SplitSeq(head, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(lines) > 0 {
			lines[len(lines)-1] += " " + strings.TrimSpace(line)
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

// splitList splits a header value at the commas that separate entries
// (RFC 3261 §7.3.1), not those inside <...> or quotes.
func splitList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && (i == 0 || v[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(v[start:]))
}

// nameAddrURI returns the URI of a name-addr ("Bob" <sip:b@h>;tag=x) or
// addr-spec (sip:b@h;tag=x) header value.
func nameAddrURI(v string) string {
	if open := strings.IndexByte(v, '<'); open >= 0 {
		if end := strings.IndexByte(v[open:], '>'); end > 0 {
			return v[open+1 : open+end]
		}
	}
	uri, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(uri)
}

// tagOf returns the tag parameter of a From or To value (RFC 3261 §19.3),
// looking only after the URI so a ";tag=" inside <...> is not taken.
func tagOf(v string) string {
	params := v
	if end := strings.LastIndexByte(v, '>'); end >= 0 {
		params = v[end+1:]
	}
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(name, "tag") {
			return value
		}
	}
	return ""
}
