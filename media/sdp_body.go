package media

import (
	"bytes"
	"mime"
	"strings"
)

// maxMultipartDepth bounds multipart bodies nested in multipart bodies: a
// hostile body must not make natsbc recurse without end.
const maxMultipartDepth = 3

// SDPOf returns the SDP a message body carries: the body itself when its
// Content-Type is application/sdp, else the first application/sdp part of a
// multipart body (RFC 5621: e.g. SDP next to ISUP from a carrier). ok is
// false when it carries none. Every reader of SDP in natsbc finds it here.
func SDPOf(contentType string, body []byte) (sdp []byte, ok bool) {
	start, end, ok, err := locateSDP(contentType, body, 0)
	if !ok || err != nil {
		return nil, false
	}
	return body[start:end], true
}

// replaceSDP returns body with its SDP (at body[start:end]) replaced by sdp:
// the other parts of a multipart body, its boundaries and its preamble stay
// byte for byte as they came.
func replaceSDP(body []byte, start, end int, sdp []byte) []byte {
	if start == 0 && end == len(body) {
		return sdp
	}
	out := make([]byte, 0, len(body)-(end-start)+len(sdp))
	out = append(out, body[:start]...)
	out = append(out, sdp...)
	return append(out, body[end:]...)
}

// locateSDP finds the SDP of a body, as offsets into it. A multipart body
// whose parts cannot be told apart is an error: it may hold SDP that would
// otherwise pass unanchored, leaking the author's addresses.
func locateSDP(contentType string, body []byte, depth int) (start, end int, ok bool, err error) {
	mt, params := mediaType(contentType)
	switch {
	case mt == "application/sdp":
		return 0, len(body), len(bytes.TrimSpace(body)) > 0, nil
	case strings.HasPrefix(mt, "multipart/"):
		if depth == maxMultipartDepth {
			return 0, 0, false, unparsable(0, "multipart body nested more than %d deep", maxMultipartDepth)
		}
		return locateInMultipart(body, params["boundary"], depth)
	}
	return 0, 0, false, nil
}

// mediaType is the lower-case type/subtype of a Content-Type and its
// parameters (none when they do not parse).
func mediaType(contentType string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		return strings.ToLower(strings.TrimSpace(mt)), nil
	}
	return mt, params
}

// locateInMultipart walks the parts of a multipart body.
//
// RFC 2046 §5.1.1: parts are separated by lines "--boundary" and end at a
// line "--boundary--"; the line break before a delimiter line belongs to the
// delimiter, not to the part. A part is its header lines, an empty line and
// its content. Bare LF line ends are accepted as for SDP.
func locateInMultipart(body []byte, boundary string, depth int) (start, end int, ok bool, err error) {
	if boundary == "" {
		return 0, 0, false, unparsable(0, "multipart body without a boundary")
	}
	delim := []byte("--" + boundary)
	pos, found := delimiterLine(body, delim, 0)
	if !found {
		return 0, 0, false, unparsable(0, "multipart body without its boundary line")
	}
	for {
		after := pos + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			return 0, 0, false, nil // the close delimiter: no SDP part
		}
		eol := bytes.IndexByte(body[after:], '\n')
		if eol < 0 {
			return 0, 0, false, unparsable(0, "multipart body ends inside a boundary line")
		}
		partStart := after + eol + 1
		next, more := delimiterLine(body, delim, partStart)
		if !more {
			return 0, 0, false, unparsable(0, "multipart body part without a closing boundary")
		}
		partEnd := max(partStart, next-1) // the LF before the delimiter
		if partEnd > partStart && body[partEnd-1] == '\r' {
			partEnd--
		}
		s, e, ok, err := locateInPart(body[partStart:partEnd], depth)
		if err != nil || ok {
			return partStart + s, partStart + e, ok, err
		}
		pos = next
	}
}

// delimiterLine finds the next line, from from on, that starts with delim.
func delimiterLine(body, delim []byte, from int) (int, bool) {
	for i := from; i <= len(body)-len(delim); {
		j := bytes.Index(body[i:], delim)
		if j < 0 {
			return 0, false
		}
		at := i + j
		if at == 0 || body[at-1] == '\n' {
			return at, true
		}
		i = at + 1
	}
	return 0, false
}

// locateInPart reads a part's headers and looks for SDP in its content.
func locateInPart(part []byte, depth int) (start, end int, ok bool, err error) {
	contentType := "text/plain" // RFC 2046 §5.1: the default of a part
	rest := part
	for {
		eol := bytes.IndexByte(rest, '\n')
		if eol < 0 {
			return 0, 0, false, nil // no empty line: no content
		}
		line := strings.TrimSuffix(string(rest[:eol]), "\r")
		rest = rest[eol+1:]
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		if strings.EqualFold(strings.TrimSpace(name), "Content-Type") {
			contentType = strings.TrimSpace(value)
		}
	}
	offset := len(part) - len(rest)
	s, e, ok, err := locateSDP(contentType, rest, depth+1)
	return offset + s, offset + e, ok, err
}
