//go:build linux

package natlab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a process running inside a lab namespace. Its stdout and stderr
// go to a log file in the lab directory, printed when the test fails.
type Proc struct {
	Name    string
	LogPath string

	cmd      *exec.Cmd
	done     chan struct{}
	err      error     // valid after done is closed
	exitedAt time.Time // valid after done is closed
	killOnce sync.Once
}

// Start runs argv inside the namespace of role ns. name labels its log.
func (l *Lab) Start(t *testing.T, ns, name string, argv ...string) *Proc {
	t.Helper()
	return l.start(t, ns, name, nil, argv...)
}

// start is Start with an optional hook that sees every stderr line (the
// natsbc log watcher); stderr is still copied to the log file.
func (l *Lab) start(t *testing.T, ns, name string, onStderrLine func(string), argv ...string) *Proc {
	t.Helper()
	logPath := filepath.Join(l.Dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	fmt.Fprintf(logFile, "# %s\n", strings.Join(argv, " "))
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.NS(ns)}, argv...)...)
	cmd.Dir = l.Dir
	// Own process group: Kill reaches children that the program forks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	copyDone := make(chan struct{})
	var pw *io.PipeWriter
	if onStderrLine == nil {
		close(copyDone)
	} else {
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		cmd.Stderr = pw
		go func() {
			defer close(copyDone)
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				fmt.Fprintln(logFile, sc.Text())
				onStderrLine(sc.Text())
			}
			_, _ = io.Copy(logFile, pr)
		}()
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s (%s): %v", name, strings.Join(argv, " "), err)
	}
	l.track(p)
	go func() {
		p.err = cmd.Wait()
		p.exitedAt = time.Now()
		if pw != nil {
			pw.Close()
		}
		<-copyDone
		logFile.Close()
		close(p.done)
	}()
	return p
}

func (l *Lab) track(p *Proc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.procs = append(l.procs, p)
}

// ErrTimeout is returned by Wait when the process outlives the timeout.
var ErrTimeout = errors.New("process still running at timeout")

// Wait waits up to timeout for the process to exit and returns its exit
// error (nil for exit code 0). On timeout the process is left running.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(timeout):
		return fmt.Errorf("%s: %w after %v (log %s)", p.Name, ErrTimeout, timeout, p.LogPath)
	}
}

func (p *Proc) exitErr() error {
	if p.err != nil {
		return fmt.Errorf("%s: %w (log %s)", p.Name, p.err, p.LogPath)
	}
	return nil
}

// ExitedAt is when the process exit was seen; zero while it runs.
func (p *Proc) ExitedAt() time.Time {
	select {
	case <-p.done:
		return p.exitedAt
	default:
		return time.Time{}
	}
}

// Pid is the process id of the program started (ip netns exec execs it).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Kill ends the process group and waits for the exit.
func (p *Proc) Kill() {
	p.killOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		if p.cmd.Process != nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
		<-p.done
	})
}

// Signal sends sig to the process (not its group).
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Log returns what the process wrote so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

func (p *Proc) dumpLog(t *testing.T) {
	const max = 64 * 1024
	s := p.Log()
	if len(s) > max {
		s = "...(truncated)...\n" + s[len(s)-max:]
	}
	t.Logf("==== %s (%s) ====\n%s", p.Name, p.LogPath, s)
}
