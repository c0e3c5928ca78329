package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// machine is what the figures were measured on.
type machine struct {
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	Sipp   string `json:"sipp"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("sipp", "-v").CombinedOutput(); err == nil || len(out) > 0 {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "SIPp v") {
				m.Sipp = strings.TrimSpace(line)
			}
		}
	}
	return m
}

// raiseFileLimit lifts RLIMIT_NOFILE for the run and the processes it
// starts (sipp -t un opens a socket per call; natsbc two per relayed
// stream): the soft limit to the hard one, and as root the hard one too.
// Setting it explicitly also stops os/exec from restoring the original
// soft limit in children.
func raiseFileLimit(log io.Writer) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintf(log, "bench: getrlimit: %v\n", err)
		return
	}
	const want = 1 << 20
	if lim.Max < want {
		up := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up) == nil {
			return
		}
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintf(log, "bench: setrlimit: %v\n", err)
	}
	if lim.Cur < 30000 {
		fmt.Fprintf(log, "bench: open files limited to %d (run as root to lift it)\n", lim.Cur)
	}
}

// moduleRoot is the directory of natsbc's go.mod, wherever the runner was
// started from inside the module.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the natsbc module: run from its directory")
	}
	return filepath.Dir(mod), nil
}

// build compiles natsbc (no -race: the figures are for production builds)
// and, when the media part runs, the load generator.
func (b *bench) build(ctx context.Context, loadgen bool) error {
	b.natsbcBin = filepath.Join(b.work, "natsbc")
	targets := [][2]string{{b.natsbcBin, "./cmd/natsbc"}}
	if loadgen {
		b.loadgenBin = filepath.Join(b.work, "loadgen")
		targets = append(targets, [2]string{b.loadgenBin, "./bench/cmd/loadgen"})
	}
	for _, t := range targets {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t[0], t[1])
		cmd.Dir = b.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", t[1], err, out)
		}
	}
	return nil
}
