//go:build linux

package natlab

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Linphone is linphonec (Debian linphone-nogtk, liblinphone 5.1) as a lab
// phone: a second SIP stack next to baresip. It runs headless, reading its
// commands from a FIFO on stdin (its --pipe socket is one per user: lab
// tests running at once would share it), with wav files for a sound card.
type Linphone struct {
	*Proc
	User  string
	LAN   PhoneLAN
	Log   *LogWatcher
	stdin *os.File
}

// LinphoneOptions choose a linphonec phone's account.
type LinphoneOptions struct {
	User, Password string
	// AutoAnswer answers every incoming call at once (linphonec -a).
	AutoAnswer bool
}

// linphoneRTPPorts keeps linphonec's RTP apart from baresip's.
const linphoneRTPPorts = "16100-16199"

// linphonePlayFile is what linphonec sends as its microphone.
const linphonePlayFile = "/usr/share/sounds/linphone/hello8000.wav"

// StartLinphone writes the phone's linphonerc, runs linphonec on the
// phone host lan, switches it to wav files and waits until it reads
// commands. Its registration is under way: await AwaitRegistered.
func (l *Lab) StartLinphone(t *testing.T, lan PhoneLAN, o LinphoneOptions) *Linphone {
	t.Helper()
	dir := filepath.Join(l.Dir, "linphone-"+o.User)
	// HOME for linphonec: without the directory of its database the core
	// stays in LinphoneGlobalStartup for ever and never registers.
	if err := os.MkdirAll(filepath.Join(dir, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join("testdata", "linphone", "linphonerc"))
	if err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(dir, "linphonerc")
	cfg := strings.NewReplacer("__USER__", o.User, "__PASSWORD__", o.Password, "__DOMAIN__", EdgeOutIP,
		"__RTP_PORTS__", linphoneRTPPorts).Replace(string(tmpl))
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Outside the lab directory: the copy of a failed lab's directory
	// (keepArtifacts) stops at the first file that is not a regular one.
	fifo := filepath.Join(t.TempDir(), "linphonec-stdin")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("linphone %s: mkfifo: %v", o.User, err)
	}
	// Read-write: opening does not wait for the reader, and linphonec never
	// sees end of file while the test holds it.
	in, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("linphone %s: %v", o.User, err)
	}
	t.Cleanup(func() { in.Close() })
	lp := &Linphone{User: o.User, LAN: lan, Log: NewLogWatcher(), stdin: in}
	argv := []string{"sh", "-c", `f=$1; shift; exec "$@" <"$f" 1>&2`, "sh", fifo,
		// HOME: its call history database, one per phone. -S: state
		// messages ("Registration on ... successful").
		"env", "HOME=" + dir, "linphonec", "-S", "-c", rc, "-d", "5", "-l", filepath.Join(dir, "liblinphone.log")}
	if o.AutoAnswer {
		argv = append(argv, "-a")
	}
	lp.Proc = l.start(t, lan.Role, "linphone-"+o.User, lp.Log.Line, argv...)
	lp.Command(t, "soundcard use files")
	lp.Await(t, startBound, "reading commands (\"soundcard use files\" answered)", "Using wav files instead of soundcard")
	lp.Command(t, "play "+linphonePlayFile)
	return lp
}

// Command writes one command line to linphonec's stdin.
func (lp *Linphone) Command(t *testing.T, cmd string) {
	t.Helper()
	if _, err := lp.stdin.WriteString(cmd + "\n"); err != nil {
		t.Fatalf("linphone %s: command %q: %v", lp.User, cmd, err)
	}
}

// Await waits for a console line containing s and fails the test, naming
// the phone and what it waited for, when linphonec exits first or timeout
// passes.
func (lp *Linphone) Await(t *testing.T, timeout time.Duration, what, s string) LogEntry {
	t.Helper()
	return lp.AwaitAfter(t, time.Time{}, timeout, what, s)
}

// AwaitAfter is Await for lines written at or after after (a second call).
func (lp *Linphone) AwaitAfter(t *testing.T, after time.Time, timeout time.Duration, what, s string) LogEntry {
	t.Helper()
	return awaitRaw(t, lp.Log, lp.Proc, after, timeout, "linphone "+lp.User, what,
		func(line string) bool { return strings.Contains(line, s) })
}

// AwaitConnected waits for "Call N with ... connected." written at or
// after after; it fails at once, quoting the line, when linphonec reports
// the call ended or failed instead.
func (lp *Linphone) AwaitConnected(t *testing.T, after time.Time, timeout time.Duration, what string) LogEntry {
	t.Helper()
	closing := lp.CloseWatch().marks
	e := awaitRaw(t, lp.Log, lp.Proc, after, timeout, "linphone "+lp.User, what, func(line string) bool {
		return strings.Contains(line, " connected.") || containsAny(line, closing)
	})
	if !strings.Contains(e.Raw, " connected.") {
		t.Fatalf("linphone %s: %s: the call ended instead: %s", lp.User, what, e.Raw)
	}
	return e
}

// AwaitRegistered asks linphonec for its accounts' states ("states
// proxies": it prints nothing when a registration succeeds) until the
// account is LinphoneRegistrationOk; it fails at once on
// LinphoneRegistrationFailed and after timeout.
func (lp *Linphone) AwaitRegistered(t *testing.T, timeout time.Duration) LogEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		asked := time.Now()
		lp.Command(t, "states proxies")
		e, ok := lp.Log.WaitFunc(500*time.Millisecond, func(e LogEntry) bool {
			return !e.At.Before(asked) && (strings.Contains(e.Raw, "LinphoneRegistrationOk") || strings.Contains(e.Raw, "LinphoneRegistrationFailed"))
		})
		switch {
		case ok && strings.Contains(e.Raw, "LinphoneRegistrationOk"):
			return e
		case ok:
			t.Fatalf("linphone %s: registration failed: %s", lp.User, e.Raw)
		case !lp.ExitedAt().IsZero():
			t.Fatalf("linphone %s exited (%v) before it registered; its last lines:\n%s", lp.User, lp.Wait(0), lastLines(lp.Log, 20))
		case time.Now().After(deadline):
			t.Fatalf("linphone %s: not registered within %v; its last lines:\n%s", lp.User, timeout, lastLines(lp.Log, 20))
		}
	}
}
