package ingress

import (
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// maxExcerpt bounds the escaped excerpt of a bad datagram in a log line.
const maxExcerpt = 120

// excerpt returns the start of pkt, escaped (Go string-literal rules, so
// CR, LF and binary bytes cannot forge log lines), at most maxExcerpt bytes.
func excerpt(pkt []byte) string {
	out := make([]byte, 0, maxExcerpt)
	for len(pkt) > 0 {
		r, size := utf8.DecodeRune(pkt)
		var piece string
		if r == utf8.RuneError && size == 1 {
			piece = `\x` + strconv.FormatUint(uint64(pkt[0])|0x100, 16)[1:]
		} else {
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
			if r == '\'' {
				piece = "'"
			}
		}
		if len(out)+len(piece) > maxExcerpt {
			break
		}
		out = append(out, piece...)
		pkt = pkt[size:]
	}
	return string(out)
}

// logMalformed writes the one `malformed message` line of a decision.
func logMalformed(log *slog.Logger, lim *LogLimiter, src string, d guardDecision, pkt []byte) {
	ok, heldBack := lim.Allow()
	if !ok || log == nil {
		return
	}
	attrs := []any{"src", src, "reason", d.reason, "action", d.action.String(), "size", len(pkt), "excerpt", excerpt(pkt)}
	if heldBack > 0 {
		attrs = append(attrs, "suppressed", heldBack)
	}
	log.Info("malformed message", attrs...)
}
