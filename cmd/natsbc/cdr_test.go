package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/natsbc/natsbc/cdr"
)

// chanHandler hands every log message to a channel.
type chanHandler struct{ msgs chan string }

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	h.msgs <- r.Message
	return nil
}
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h chanHandler) WithGroup(string) slog.Handler      { return h }

// SIGHUP reopens the call records (logrotate's postrotate), says so, and
// records keep going to the configured path.
func TestCallRecordsReopenOnHangup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cdr.jsonl")
	w, err := cdr.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	msgs := make(chan string, 4)
	log := slog.New(chanHandler{msgs})
	stop := onHangup(context.Background(), log, func() { reopenCallRecords(w, log) })
	defer stop()

	if err := w.Write(cdr.Record{ACallID: "before"}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SIGHUP: reloading", "call records reopened"} {
		select {
		case m := <-msgs:
			if m != want {
				t.Fatalf("logged %q, want %q", m, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("SIGHUP did not reopen the call records")
		}
	}
	if err := w.Write(cdr.Record{ACallID: "after"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), "\n"); got != 2 || !strings.Contains(string(b), `"a_call_id":"after"`) {
		t.Fatalf("file holds:\n%s", b)
	}
}
