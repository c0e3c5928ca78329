//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// awaitRaw waits for a line of a non-JSON process log (the watcher's Raw
// lines), read at or after after, that match accepts; it fails the test,
// naming who and what, when the process exits first or timeout passes,
// quoting its last lines.
func awaitRaw(t *testing.T, w *LogWatcher, p *Proc, after time.Time, timeout time.Duration, who, what string, match func(string) bool) LogEntry {
	t.Helper()
	return awaitEntry(t, w, p, after, timeout, who, what, func(e LogEntry) bool { return match(e.Raw) })
}

// awaitEntry is awaitRaw for watchers of JSON lines (the browser page's
// events): match sees the whole entry.
func awaitEntry(t *testing.T, w *LogWatcher, p *Proc, after time.Time, timeout time.Duration, who, what string, match func(LogEntry) bool) LogEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	accept := func(e LogEntry) bool { return !e.At.Before(after) && match(e) }
	for {
		// Short slices: the process may exit without writing another line.
		e, ok := w.WaitFunc(min(200*time.Millisecond, time.Until(deadline)), accept)
		if ok {
			return e
		}
		if !p.ExitedAt().IsZero() {
			if e, ok := w.WaitFunc(0, accept); ok {
				return e
			}
			t.Fatalf("%s exited (%v) before %s; its last lines:\n%s", who, p.Wait(0), what, lastLines(w, 20))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %s within %v; its last lines:\n%s", who, what, timeout, lastLines(w, 20))
		}
	}
}

// lastLines are the last n lines a watcher saw, for failure messages.
func lastLines(w *LogWatcher, n int) string {
	es := w.Entries()
	if len(es) > n {
		es = es[len(es)-n:]
	}
	var b strings.Builder
	for _, e := range es {
		b.WriteString("  " + e.Raw + "\n")
	}
	return b.String()
}

// closeWatch is how a phone's log shows a call closing.
type closeWatch struct {
	who   string
	log   *LogWatcher
	marks []string // any of these in a line
}

// CloseWatch: baresip logs "session closed" when the far end ends a call
// and "Call with ... terminated" whoever ends it.
func (b *Baresip) CloseWatch() closeWatch {
	return closeWatch{"baresip " + b.User, b.Log, []string{"session closed", "terminated"}}
}

// CloseWatch: linphonec prints "Call N with ... ended (...)." or
// "Call N with ... error.".
func (lp *Linphone) CloseWatch() closeWatch {
	return closeWatch{"linphone " + lp.User, lp.Log, []string{" ended", " error."}}
}

// holdCall is a scenario step: the call established at est stays up for
// d. A phone whose log shows the call closing meanwhile fails the test at
// once, naming the phone and the line.
func holdCall(t *testing.T, d time.Duration, est time.Time, phones ...closeWatch) {
	t.Helper()
	end := est.Add(d)
	for _, p := range phones {
		e, closed := p.log.WaitFunc(time.Until(end), func(e LogEntry) bool {
			return !e.At.Before(est) && containsAny(e.Raw, p.marks)
		})
		if closed {
			t.Fatalf("%s: the call closed %v into its %v hold: %s", p.who, e.At.Sub(est).Round(time.Millisecond), d, e.Raw)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
