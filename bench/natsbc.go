package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// natsbcProc is one natsbc started by the runner, with its admin endpoint.
type natsbcProc struct {
	cmd    *exec.Cmd
	admin  string // http://host:port
	logf   string
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
}

// natsbcConfig is the benchmark's config: SIP on one loopback socket,
// every request from outside routed to the callee/registrar, quiet logs.
//
// media.drain is 200ms instead of 30s: a CPS step frees as many port pairs
// per second as it takes, and with a 30 s rest the range would run dry at
// a few hundred calls/s (pairs needed ~ cps x 2 legs x (hold + drain)). The
// range stays below the kernel's ephemeral ports (32768-60999), which the
// sipp and generator sockets take.
//
// registrations.state_file is "": the benchmark measures natsbc's CPU and
// memory, not the disk's fsync (README "State on disk" has that cost).
// max_per_source is 0: the generator registers every phone from one address.
// The other per-source protections are off for the same reason: the
// generator is one unauthenticated source doing what thousands of phones
// would (security.rate, security.unproven_credit,
// registrations.max_in_flight_per_source, limits.max_relay_pairs_per_source).
//
// t1 (0: natsbc's default) shortens every transaction timer: the memory
// part uses it to see the heap once transactions have ended (64*T1), without
// waiting 32 s.
func natsbcConfig(n *netPlan, o natsbcOpts) string {
	sip := ""
	if o.t1 > 0 {
		sip = fmt.Sprintf("sip:\n  t1: %v\n", o.t1)
	}
	return fmt.Sprintf(`log:
  level: warn
  format: text
%sshutdown:
  drain_timeout: 0s
registrations:
  state_file: ""
  max_per_source: 0
  max_in_flight_per_source: 0
limits:
  max_relay_pairs_per_source: 0
security:
  rate: 0
  unproven_credit: 0
admin:
  listen: %s
media:
  anchor: %t
  ports: 10000-32767
  listen_ip: %s
  drain: 200ms
  timeout: 60s
listen:
  - name: bench
    address: %s
    transport: udp
peers:
  - name: callee
    networks: [%s/32]
    address: %s
    role: pbx
routes:
  - from: callee
    to: request-uri
  - from: "*"
    to: callee
`, sip, n.admin, o.anchor, n.sbc.Addr(), n.sbc, n.uas.Addr(), n.uas)
}

// natsbcOpts are what the parts vary in natsbc's config.
type natsbcOpts struct {
	anchor bool
	t1     time.Duration
}

// startNatsbc runs bin with the benchmark config and returns once its admin
// endpoint answers (natsbc opens it after its SIP sockets serve).
func startNatsbc(bin, dir string, n *netPlan, o natsbcOpts) (*natsbcProc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// A natsbc left over from an earlier run would answer on the admin
	// address and pass for this one.
	if taken, err := udpBound(n.sbc); err != nil || taken {
		return nil, fmt.Errorf("udp %s is taken by another process (a natsbc left from an earlier run?): %v", n.sbc, err)
	}
	cfg := filepath.Join(dir, "natsbc.yaml")
	if err := os.WriteFile(cfg, []byte(natsbcConfig(n, o)), 0o644); err != nil {
		return nil, err
	}
	logf := filepath.Join(dir, "natsbc.log")
	out, err := os.Create(logf)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	p := &natsbcProc{cmd: exec.Command(bin, "--config", cfg), admin: "http://" + n.admin.String(), logf: logf, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := p.metrics(); err == nil {
			return p, p.alive()
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("natsbc exited at start (%v): %s", p.err, tail(logf))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("natsbc admin endpoint %s not up after 10s: %s", p.admin, tail(logf))
		}
	}
}

func (p *natsbcProc) pid() int { return p.cmd.Process.Pid }

// stop ends natsbc with SIGTERM (drain_timeout 0s: at once), SIGKILL after 10s.
func (p *natsbcProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// alive fails when natsbc has died: a crash under load is a harness error,
// never a slow result.
func (p *natsbcProc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("natsbc died (%v): %s", p.err, tail(p.logf))
	default:
		return nil
	}
}

// tail is the end of a log file, for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return strings.TrimSpace(string(b))
}
