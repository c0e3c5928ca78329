package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func corruptStateFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("garbage ", 4096)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A corrupt state file fails the start with one line naming the file and
// the problem, exit code 2, and leaves the file where it is.
func TestCorruptStateFileFailsStart(t *testing.T) {
	path := corruptStateFile(t)
	var stderr bytes.Buffer
	code := run([]string{"--listen", "udp:127.0.0.1:15999", "--state-file", path}, &stderr)
	if code != exitUsage {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.HasPrefix(l, "natsbc: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "state file "+path+": corrupt") || !strings.Contains(lines[0], "--reset-state") {
		t.Errorf("want one line naming %s, corrupt and --reset-state; stderr:\n%s", path, stderr.String())
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the corrupt file was touched without --reset-state: %v", err)
	}
}

// --reset-state moves the corrupt file aside, unchanged, and starts fresh.
func TestResetStateMovesCorruptFileAside(t *testing.T) {
	path := corruptStateFile(t)
	before, _ := os.ReadFile(path)
	st, err := openState(path, true, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("openState with reset: %v", err)
	}
	defer st.Close()
	if recs, err := st.Bindings(); err != nil || len(recs) != 0 {
		t.Errorf("fresh state file holds %d bindings (%v)", len(recs), err)
	}
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("files moved aside: %v, want one %s.corrupt-UNIXTIME", aside, path)
	}
	if moved, _ := os.ReadFile(aside[0]); !bytes.Equal(moved, before) {
		t.Errorf("%s is not the corrupt file as it was", aside[0])
	}
}

// A file another natsbc holds is not corrupt: --reset-state must not move it.
func TestResetStateLeavesALockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := openState(path, false, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := openState(path, true, discard); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("second natsbc on the file: %v, want in use", err)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("a held file was moved aside: %v", aside)
	}
}
