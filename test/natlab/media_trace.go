//go:build linux

package natlab

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TraceFinder picks a message out of a sipp run's trace.
type TraceFinder func(msgs []TracedMessage) (TracedMessage, bool)

// AwaitTraced polls the message trace of the sipp run called name (sipp
// writes each message as it goes) until find picks a message out of its
// complete messages, p exits first, or timeout passes. A bounded poll on
// a file, like WaitListening: sipp tells nobody when it sent something.
func (l *Lab) AwaitTraced(t *testing.T, name string, p *Proc, timeout time.Duration, what string, find TraceFinder) TracedMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		exited := p != nil && !p.ExitedAt().IsZero()
		msgs, _ := l.ReadSippTrace(name)
		if n := len(msgs); n > 0 && !complete(msgs[n-1]) {
			msgs = msgs[:n-1]
		}
		if m, ok := find(msgs); ok {
			return m
		}
		switch {
		case exited:
			t.Fatalf("sipp %s ended without %s in its trace: %v", name, what, p.Wait(0))
		case time.Now().After(deadline):
			t.Fatalf("sipp %s: no %s in its trace within %v", name, what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// First finds the first message match accepts.
func First(match func(TracedMessage) bool) TraceFinder {
	return Nth(0, match)
}

// Nth finds the n-th (from 0) message match accepts, counting a message
// and its retransmissions (same Call-ID, CSeq and start line) once.
func Nth(n int, match func(TracedMessage) bool) TraceFinder {
	return func(msgs []TracedMessage) (TracedMessage, bool) {
		seen := map[string]bool{}
		for _, m := range msgs {
			key := m.Header("Call-ID") + "|" + m.Header("CSeq") + "|" + m.StartLine()
			if !match(m) || seen[key] {
				continue
			}
			if seen[key] = true; len(seen) == n+1 {
				return m, true
			}
		}
		return TracedMessage{}, false
	}
}

// complete: the trace holds the whole body Content-Length announces (the
// last message of a trace being written may be cut).
func complete(m TracedMessage) bool {
	n, err := strconv.Atoi(m.Header("Content-Length"))
	if err != nil {
		n, err = strconv.Atoi(m.Header("l"))
	}
	if err != nil {
		return true // nothing announced, nothing to check
	}
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if _, body, ok := strings.Cut(m.Text, sep); ok {
			return len(body) >= n
		}
	}
	return n == 0
}

// Received matches a message sipp received whose start line begins with
// start ("SIP/2.0 200", "INVITE ") and whose CSeq is cseq ("2 INVITE";
// a method alone, "INVITE", for any number; "" for any).
func Received(start, cseq string) func(TracedMessage) bool {
	return traced(true, start, cseq)
}

// Sent is Received for messages sipp sent.
func Sent(start, cseq string) func(TracedMessage) bool {
	return traced(false, start, cseq)
}

func traced(received bool, start, cseq string) func(TracedMessage) bool {
	return func(m TracedMessage) bool {
		got := strings.Fields(m.Header("CSeq"))
		return m.Received == received && strings.HasPrefix(m.StartLine(), start) &&
			(cseq == "" || strings.Join(got, " ") == cseq || len(got) == 2 && got[1] == cseq)
	}
}

// writeInjectionFile writes a sipp -inf CSV file with one field per call
// (SEQUENTIAL: call n takes line n) and returns the sipp arguments for it.
func (l *Lab) writeInjectionFile(t *testing.T, name string, values ...string) []string {
	t.Helper()
	path := filepath.Join(l.Dir, name+".csv")
	content := "SEQUENTIAL\n" + strings.Join(values, ";\n") + ";\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"-inf", path}
}

// InDialog matches requests sipp received inside a dialog (To has a tag):
// re-INVITEs, BYEs.
func InDialog(start string) func(TracedMessage) bool {
	return func(m TracedMessage) bool {
		return m.Received && strings.HasPrefix(m.StartLine(), start) && strings.Contains(m.Header("To"), "tag=")
	}
}
