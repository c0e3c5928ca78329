//go:build linux

package natlab

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// LogEntry is one JSON log line of natsbc, with the time the lab read it.
type LogEntry struct {
	At    time.Time
	Attrs map[string]any
	Raw   string
}

// Msg returns the slog message of the entry.
func (e LogEntry) Msg() string { return e.Str("msg") }

// Str returns attribute key as a string ("" when absent).
func (e LogEntry) Str(key string) string {
	v, ok := e.Attrs[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Has reports whether the entry carries attribute key with a non-empty value.
func (e LogEntry) Has(key string) bool { return e.Str(key) != "" }

// matches reports whether the entry has message msg and every attribute in want.
func (e LogEntry) matches(msg string, want map[string]string) bool {
	if e.Msg() != msg {
		return false
	}
	for k, v := range want {
		if e.Str(k) != v {
			return false
		}
	}
	return true
}

// LogWatcher keeps every JSON line natsbc wrote and lets a test await one.
type LogWatcher struct {
	mu      sync.Mutex
	entries []LogEntry
	changed chan struct{} // closed and replaced on every new entry
}

// NewLogWatcher returns an empty watcher.
func NewLogWatcher() *LogWatcher { return &LogWatcher{changed: make(chan struct{})} }

// Line feeds one stderr line; lines that are not JSON are kept with only Raw set.
func (w *LogWatcher) Line(line string) {
	e := LogEntry{At: time.Now(), Raw: line}
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &e.Attrs); err != nil {
		e.Attrs = nil
	}
	w.mu.Lock()
	w.entries = append(w.entries, e)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

// Entries returns a copy of everything seen so far.
func (w *LogWatcher) Entries() []LogEntry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]LogEntry(nil), w.entries...)
}

// Find returns the entries with message msg and the given attributes.
func (w *LogWatcher) Find(msg string, attrs map[string]string) []LogEntry {
	var out []LogEntry
	for _, e := range w.Entries() {
		if e.matches(msg, attrs) {
			out = append(out, e)
		}
	}
	return out
}

// Await returns the first entry (already seen or arriving within timeout)
// with message msg and the given attributes; it fails the test otherwise.
func (w *LogWatcher) Await(t *testing.T, timeout time.Duration, msg string, attrs map[string]string) LogEntry {
	t.Helper()
	e, ok := w.Wait(timeout, msg, attrs)
	if !ok {
		t.Fatalf("natsbc did not log %q %v within %v", msg, attrs, timeout)
	}
	return e
}

// Wait is Await without failing: ok is false at timeout.
func (w *LogWatcher) Wait(timeout time.Duration, msg string, attrs map[string]string) (LogEntry, bool) {
	return w.WaitFunc(timeout, func(e LogEntry) bool { return e.matches(msg, attrs) })
}

// WaitFunc returns the first entry, seen or arriving within timeout, for
// which match is true.
func (w *LogWatcher) WaitFunc(timeout time.Duration, match func(LogEntry) bool) (LogEntry, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		w.mu.Lock()
		for ; seen < len(w.entries); seen++ {
			if match(w.entries[seen]) {
				e := w.entries[seen]
				w.mu.Unlock()
				return e, true
			}
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return LogEntry{}, false
		}
	}
}
