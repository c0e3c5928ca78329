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

// AwaitTraced polls the message trace of the sipp run called name (sipp
// writes each message as it goes) until a complete message that match
// accepts is there, p exits without it, or timeout passes. A bounded poll
// on a file, like WaitListening: sipp tells nobody when it sent something.
func (l *Lab) AwaitTraced(t *testing.T, name string, p *Proc, timeout time.Duration, what string, match func(TracedMessage) bool) TracedMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		exited := p != nil && !p.ExitedAt().IsZero()
		msgs, _ := l.ReadSippTrace(name)
		for _, m := range msgs {
			if complete(m) && match(m) {
				return m
			}
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
// start ("SIP/2.0 200", "INVITE ") and whose CSeq is cseq ("2 INVITE").
func Received(start, cseq string) func(TracedMessage) bool {
	return traced(true, start, cseq)
}

// Sent is Received for messages sipp sent.
func Sent(start, cseq string) func(TracedMessage) bool {
	return traced(false, start, cseq)
}

func traced(received bool, start, cseq string) func(TracedMessage) bool {
	return func(m TracedMessage) bool {
		return m.Received == received && strings.HasPrefix(m.StartLine(), start) &&
			strings.Join(strings.Fields(m.Header("CSeq")), " ") == cseq
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
