package ingress

import (
	"log/slog"
	"strconv"
	"sync"
	"time"
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

// logLimiter lets through at most perSecond lines per one-second window and
// counts the rest, so a flood of garbage cannot fill the disk.
type logLimiter struct {
	mu         sync.Mutex
	perSecond  int
	now        func() time.Time
	window     time.Time
	used       int
	suppressed uint64 // since the last line that got through
	total      uint64 // ever suppressed
}

func newLogLimiter(perSecond int) *logLimiter {
	return &logLimiter{perSecond: perSecond, now: time.Now}
}

// allow reports whether a line may be written and how many were held back
// since the previous one that was.
func (l *logLimiter) allow() (ok bool, heldBack uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.window) >= time.Second || now.Before(l.window) {
		l.window, l.used = now, 0
	}
	if l.used >= l.perSecond {
		l.suppressed++
		l.total++
		return false, 0
	}
	l.used++
	heldBack, l.suppressed = l.suppressed, 0
	return true, heldBack
}

func (l *logLimiter) suppressedTotal() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// logMalformed writes the one `malformed message` line of a decision.
func logMalformed(log *slog.Logger, lim *logLimiter, src string, d guardDecision, pkt []byte) {
	ok, heldBack := lim.allow()
	if !ok || log == nil {
		return
	}
	attrs := []any{"src", src, "reason", d.reason, "action", d.action.String(), "size", len(pkt), "excerpt", excerpt(pkt)}
	if heldBack > 0 {
		attrs = append(attrs, "suppressed", heldBack)
	}
	log.Info("malformed message", attrs...)
}
