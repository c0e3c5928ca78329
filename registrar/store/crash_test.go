package store

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// crashWriterEnv makes the test binary, re-executed, a writer that puts
// bindings in a loop until it is killed: see TestCrashMidWriteKeepsWholeRecords.
const crashWriterEnv = "NATSBC_STORE_CRASH_WRITER"

// crashWindow is how many of the newest bindings the writer keeps: it
// deletes binding n-crashWindow after putting binding n, so the file sees
// frees and page reuse as well as appends.
const crashWindow = 5

func TestMain(m *testing.M) {
	if path := os.Getenv(crashWriterEnv); path != "" {
		os.Exit(crashWriter(path))
	}
	os.Exit(m.Run())
}

// crashWriter puts binding n, deletes binding n-crashWindow, and prints n
// once both are on disk, forever.
func crashWriter(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for n := uint64(1); ; n++ {
		if err := s.Put(crashBinding(n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if n > crashWindow {
			if err := s.Delete(n - crashWindow); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		fmt.Fprintln(out, n)
		out.Flush()
	}
}

// crashBinding is binding n with a body that grows with n, so records
// differ in size and a torn one would not decode.
func crashBinding(n uint64) Binding {
	b := sampleBinding(n)
	b.PBX.CSeq = uint32(n)
	b.Checks = nil
	for i := range n % 13 {
		b.Checks = append(b.Checks, fmt.Sprintf("check-%d-%d", n, i))
	}
	return b
}

// A writer killed with SIGKILL at a random point of a write leaves a file
// that opens, holds only whole records, and holds exactly the last
// crashWindow bindings of the last write that finished (or of the one in
// flight, which either happened whole or not at all).
func TestCrashMidWriteKeepsWholeRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	for round := range 3 {
		acked := runAndKill(t, path, 20+uint64(round)*37)
		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: Open after SIGKILL: %v", round, err)
		}
		got, err := s.Bindings()
		s.Close()
		if err != nil {
			t.Fatalf("round %d: reading bindings after SIGKILL: %v", round, err)
		}
		checkCrashState(t, round, got, acked)
		// The next round's writer starts over at binding 1 on this file.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill starts the writer on path, SIGKILLs it once it has
// acknowledged at least minAcked writes, and returns the last write it
// acknowledged.
func runAndKill(t *testing.T, path string, minAcked uint64) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var acked uint64
	deadline := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for acked < minAcked && lines.Scan() {
		acked, _ = strconv.ParseUint(lines.Text(), 10, 64)
	}
	if acked < minAcked {
		_ = cmd.Wait()
		t.Fatalf("writer stopped after %d writes, before %d", acked, minAcked)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Writes acknowledged between the last line read and the kill count.
	for lines.Scan() {
		acked, _ = strconv.ParseUint(lines.Text(), 10, 64)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer did not die of SIGKILL: %v", err)
	}
	return acked
}

// checkCrashState wants the bindings of write acked, or of write acked+1
// (the one in flight) whole or its put without its delete.
func checkCrashState(t *testing.T, round int, got []Binding, acked uint64) {
	t.Helper()
	byID := map[uint64]Binding{}
	for _, b := range got {
		byID[b.ID] = b
		if !reflect.DeepEqual(b, crashBinding(b.ID)) {
			t.Fatalf("round %d: binding %d read back altered: %+v", round, b.ID, b)
		}
	}
	newest := acked
	if _, ok := byID[acked+1]; ok {
		newest = acked + 1
	}
	if _, ok := byID[newest]; !ok {
		t.Fatalf("round %d: acknowledged binding %d is missing (have %d bindings)", round, acked, len(got))
	}
	oldest := newest - crashWindow + 1
	if _, ok := byID[newest-crashWindow]; ok && newest == acked+1 {
		oldest = newest - crashWindow // the put of acked+1 landed, its delete not
	}
	for id := oldest; id <= newest; id++ {
		if _, ok := byID[id]; !ok {
			t.Fatalf("round %d: binding %d missing after write %d", round, id, acked)
		}
	}
	if want := int(newest - oldest + 1); len(got) != want {
		t.Fatalf("round %d: %d bindings after write %d, want %d (ids %d..%d)", round, len(got), acked, want, oldest, newest)
	}
	t.Logf("round %d: killed after write %d; file holds bindings %d..%d, all whole", round, acked, oldest, newest)
}
