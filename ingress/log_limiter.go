package ingress

import (
	"sync"
	"time"
)

// LogLimiter lets through at most perSecond lines per one-second window and
// counts the rest, so a flood of garbage cannot fill the disk.
type LogLimiter struct {
	mu         sync.Mutex
	perSecond  int
	now        func() time.Time
	window     time.Time
	used       int
	suppressed uint64 // since the last line that got through
	total      uint64 // ever suppressed
}

// NewLogLimiter lets perSecond lines a second through.
func NewLogLimiter(perSecond int) *LogLimiter {
	return &LogLimiter{perSecond: perSecond, now: time.Now}
}

// Allow reports whether a line may be written and how many were held back
// since the previous one that was.
func (l *LogLimiter) Allow() (ok bool, heldBack uint64) {
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

func (l *LogLimiter) suppressedTotal() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
