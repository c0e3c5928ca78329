package media

import (
	"fmt"
	"strings"
)

// sdpLine is one "<type>=<value>" line of an SDP body.
type sdpLine struct {
	num   int    // 1-based line number, for error messages
	typ   byte   // the type letter
	value string // everything after "=", without the line ending
}

// sdpLines walks the lines of an SDP body.
//
// RFC 8866 §5: lines end with CRLF, but parsers should also accept a bare
// LF. A CR anywhere else, or a NUL, makes the body unparsable: a text line
// may not hold them, and a proxy reading them otherwise than we do would see
// other lines than the ones we rewrote. Blank lines are skipped.
type sdpLines struct {
	rest string
	num  int
}

// next returns the next non-blank line; ok is false at the end.
func (l *sdpLines) next() (line sdpLine, ok bool, err error) {
	for l.rest != "" {
		raw := l.rest
		if i := strings.IndexByte(raw, '\n'); i >= 0 {
			raw, l.rest = raw[:i], raw[i+1:]
		} else {
			l.rest = ""
		}
		l.num++
		raw = strings.TrimSuffix(raw, "\r")
		if raw == "" {
			continue
		}
		if strings.IndexByte(raw, '\r') >= 0 || strings.IndexByte(raw, 0) >= 0 {
			return sdpLine{}, false, unparsable(l.num, "stray CR or NUL in line")
		}
		if len(raw) < 2 || raw[1] != '=' || raw[0] < 'a' || raw[0] > 'z' {
			return sdpLine{}, false, unparsable(l.num, "%q is not a <type>=<value> line", clip(raw))
		}
		return sdpLine{num: l.num, typ: raw[0], value: raw[2:]}, true, nil
	}
	return sdpLine{}, false, nil
}

// unparsable wraps ErrUnparsableSDP with the line and the reason, which sbc
// logs when it answers 488.
func unparsable(lineNum int, format string, args ...any) error {
	if lineNum > 0 {
		return fmt.Errorf("%w: line %d: %s", ErrUnparsableSDP, lineNum, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%w: %s", ErrUnparsableSDP, fmt.Sprintf(format, args...))
}

// clip shortens s for an error message: a hostile body must not flood logs.
func clip(s string) string {
	const maxLen = 40
	if len(s) > maxLen {
		return s[:maxLen] + "..."
	}
	return s
}

// nextField splits off the first space-separated field of s. RFC 8866 §5
// separates fields with one space; runs of spaces and tabs are accepted.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// attrName splits an a= value into its name and its value after ':'.
func attrName(value string) (name, rest string) {
	if i := strings.IndexByte(value, ':'); i >= 0 {
		return value[:i], value[i+1:]
	}
	return value, ""
}
