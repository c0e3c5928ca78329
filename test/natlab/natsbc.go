//go:build linux

package natlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// natsbcBin is the binary TestMain built with the race detector,
// natsbcPlainBin the one without; natsbcBuildErr says why they are missing.
var (
	natsbcBin      string
	natsbcPlainBin string
	natsbcBuildErr error
)

// BuildNatsbc builds ./cmd/natsbc into dir twice, once with the race
// detector (every scenario) and once without (scenarios that measure
// memory, which the race detector multiplies); TestMain calls it.
func BuildNatsbc(dir string) {
	root, err := filepath.Abs("../..")
	if err != nil {
		natsbcBuildErr = err
		return
	}
	goBin := goBinary()
	// Both are called natsbc: the lab checks the process name.
	race, plain := filepath.Join(dir, "race", "natsbc"), filepath.Join(dir, "plain", "natsbc")
	for _, b := range []struct {
		out   string
		flags []string
	}{{race, []string{"-race"}}, {plain, nil}} {
		cmd := exec.Command(goBin, append(append([]string{"build"}, b.flags...), "-o", b.out, "./cmd/natsbc")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			natsbcBuildErr = fmt.Errorf("go build %v ./cmd/natsbc: %v\n%s", b.flags, err, out)
			return
		}
	}
	natsbcBin, natsbcPlainBin = race, plain
}

// goBinary is the go command: on the PATH, else the toolchain's usual
// install path (a root shell's PATH may lack it).
func goBinary() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// Natsbc is a running natsbc with its JSON log.
type Natsbc struct {
	*Proc
	Log *LogWatcher
}

// exitedMsg is the synthetic log message the lab adds when natsbc exits.
const exitedMsg = "natlab: process exited"

// BaseConfig is the config most scenarios share: natsbc on both edge
// addresses, T1 500 ms so 64*T1 is 32 s. Callers append peers and routes.
const BaseConfig = `sip:
  t1: 500ms
  t2: 4s
  t4: 5s
shutdown:
  drain_timeout: 2s
listen:
  - name: outside
    address: ` + EdgeOutIP + `:5060
    transport: both
  - name: inside
    address: ` + EdgeInIP + `:5060
    transport: both
`

// StartNatsbc writes config to the lab directory, runs natsbc in the edge
// namespace with JSON debug logs, and waits for its "natsbc ready" line.
func (l *Lab) StartNatsbc(t *testing.T, config string, extraArgs ...string) *Natsbc {
	t.Helper()
	return l.StartNatsbcArgs(t, append([]string{"--config", l.writeNatsbcConfig(t, config)}, extraArgs...)...)
}

// StartNatsbcPlain is StartNatsbc with natsbc built without the race
// detector, for scenarios that measure its memory.
func (l *Lab) StartNatsbcPlain(t *testing.T, config string) *Natsbc {
	t.Helper()
	return l.startNatsbc(t, natsbcPlainBin, "natsbc", "--config", l.writeNatsbcConfig(t, config))
}

// writeNatsbcConfig writes config to the lab directory and returns its path.
func (l *Lab) writeNatsbcConfig(t *testing.T, config string) string {
	t.Helper()
	path := filepath.Join(l.Dir, "natsbc.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// StartNatsbcArgs runs natsbc with only these arguments (plus JSON debug
// logging): the embedded default config and the command-line overrides.
func (l *Lab) StartNatsbcArgs(t *testing.T, args ...string) *Natsbc {
	t.Helper()
	return l.startNatsbc(t, natsbcBin, "natsbc", args...)
}

// RestartNatsbc starts another natsbc in the lab, logging to name.log, on
// the same state file as the first: a restart after a crash.
func (l *Lab) RestartNatsbc(t *testing.T, name, config string, extraArgs ...string) *Natsbc {
	t.Helper()
	return l.startNatsbc(t, natsbcBin, name, append([]string{"--config", l.writeNatsbcConfig(t, config)}, extraArgs...)...)
}

// StateFile is the state file of the lab's natsbc: a restarted natsbc finds
// its predecessor's registrations there.
func (l *Lab) StateFile() string { return filepath.Join(l.Dir, "state.db") }

func (l *Lab) startNatsbc(t *testing.T, bin, name string, args ...string) *Natsbc {
	t.Helper()
	if bin == "" {
		t.Fatalf("natsbc binary unavailable: %v", natsbcBuildErr)
	}
	w := NewLogWatcher()
	// Each lab's natsbc keeps its registrations in the lab directory, never
	// in /var/lib; a later --state-file in args wins.
	argv := append([]string{bin, "--log-format", "json", "--log-level", "debug", "--state-file", l.StateFile()}, args...)
	p := l.start(t, NSEdge, name, w.Line, argv...)
	n := &Natsbc{Proc: p, Log: w}
	// Registered after the lab's teardown, so it runs first, while natsbc
	// may still be running: whatever the test checked, a race or a panic
	// in natsbc fails it.
	t.Cleanup(func() { n.assertNoRaceOrPanic(t) })
	go func() {
		<-p.Done()
		w.Line(`{"msg":"` + exitedMsg + `"}`)
	}()
	e, ok := w.WaitFunc(15*time.Second, func(e LogEntry) bool {
		return e.Msg() == "natsbc ready" || e.Msg() == exitedMsg
	})
	switch {
	case !ok:
		t.Fatalf("natsbc did not log \"natsbc ready\" within 15s (log %s)", p.LogPath)
	case e.Msg() == exitedMsg:
		t.Fatalf("natsbc exited before ready: %v (log %s)", p.Wait(0), p.LogPath)
	}
	return n
}

// AssertNoCrash fails the test when natsbc has exited by itself.
func (n *Natsbc) AssertNoCrash(t *testing.T) {
	t.Helper()
	select {
	case <-n.Done():
		t.Errorf("natsbc exited during the test: %v", n.Wait(0))
	default:
	}
}

func (n *Natsbc) assertNoRaceOrPanic(t *testing.T) {
	t.Helper()
	for _, e := range n.Log.Entries() {
		if e.Attrs == nil && (strings.Contains(e.Raw, "panic:") || strings.Contains(e.Raw, "WARNING: DATA RACE")) {
			t.Errorf("natsbc: %s", e.Raw)
		}
	}
}
