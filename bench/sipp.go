package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// netPlan is where everything listens: loopback only, addresses of their
// own so nothing else on the host (a natsbc on 5060, another bench) clashes.
type netPlan struct {
	sbc   netip.AddrPort // natsbc's SIP socket
	admin netip.AddrPort // natsbc's admin endpoint
	uac   netip.Addr     // callers (sipp UAC, generator UAC)
	uas   netip.AddrPort // callee / registrar (sipp UAS, generator UAS)
}

func defaultPlan() *netPlan {
	return &netPlan{
		sbc:   netip.MustParseAddrPort("127.0.0.11:15060"),
		admin: netip.MustParseAddrPort("127.0.0.11:15090"),
		uac:   netip.MustParseAddr("127.0.0.12"),
		uas:   netip.MustParseAddrPort("127.0.0.13:15080"),
	}
}

// sippServer is a sipp answering calls or REGISTERs in the background.
type sippServer struct {
	cmd    *exec.Cmd
	exited chan struct{}
	logf   string
}

// startSippServer runs scenario on addr and returns once sipp has bound it.
func startSippServer(dir, scenario string, addr netip.AddrPort) (*sippServer, error) {
	logf := filepath.Join(dir, "sipp-"+filepath.Base(scenario)+".log")
	out, err := os.Create(logf)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command("sipp", "-sf", scenario,
		"-i", addr.Addr().String(), "-p", strconv.Itoa(int(addr.Port())),
		"-t", "u1", "-nostdin", "-trace_err", "-error_file", logf+".errors")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sipp: %w (install the sip-tester package)", err)
	}
	s := &sippServer{cmd: cmd, exited: make(chan struct{}), logf: logf}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ok, err := udpBound(addr); err != nil || ok {
			return s, err
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("sipp %s exited at start: %s", filepath.Base(scenario), tail(logf))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("sipp %s did not bind %s", filepath.Base(scenario), addr)
		}
	}
}

func (s *sippServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// uacRun is one sipp client run: calls at rate per second, each held hold.
type uacRun struct {
	scenario  string
	target    netip.AddrPort
	local     netip.Addr
	rate      int
	calls     int
	hold      time.Duration
	transport string        // u1 (one socket) or un (one per call)
	limit     time.Duration // the run is killed (and fails) after this
}

// uacResult is what the runner needs of a sipp client run.
type uacResult struct {
	Created    int     `json:"created"`
	Successful int     `json:"successful"`
	Failed     int     `json:"failed"`
	Retrans    int     `json:"retransmissions"`
	SetupP50Ms float64 `json:"setup_p50_ms"`
	SetupP99Ms float64 `json:"setup_p99_ms"`
	// RateKept is the rate at which 200s came in, first to last: below the
	// asked rate when sipp (or what it calls) could not keep up.
	RateKept float64 `json:"rate_achieved"`
	TimedOut bool    `json:"timed_out,omitempty"`
}

// errSippFatal is a sipp that could not run at all (a scenario error, a
// port taken): the harness is broken, not the system under test.
var errSippFatal = errors.New("sipp failed to run")

// run executes the client in its own directory and reads its statistics.
func (u uacRun) run(ctx context.Context, dir string) (uacResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return uacResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, u.limit)
	defer cancel()
	args := []string{u.target.String(), "-sf", u.scenario,
		"-i", u.local.String(), "-t", u.transport, "-nostdin",
		"-r", strconv.Itoa(u.rate), "-m", strconv.Itoa(u.calls),
		"-d", strconv.Itoa(int(u.hold.Milliseconds())),
		"-trace_stat", "-stf", "stat.csv", "-fd", "1",
		"-trace_rtt", "-rtt_freq", strconv.Itoa(rttFreq(u.calls)),
		"-trace_err", "-error_file", "errors.log",
		// Failed calls must fail fast, not wait for sipp's defaults.
		"-recv_timeout", "10000", "-max_retrans", "4",
	}
	if u.transport == "un" {
		// A socket per call, closed when the call ends: sipp's default
		// cap (50000) exceeds most open-file limits and stops it at start.
		args = append(args, "-max_socket", "4096")
	}
	cmd := exec.CommandContext(ctx, "sipp", args...)
	out, err := os.Create(filepath.Join(dir, "sipp.out"))
	if err != nil {
		return uacResult{}, err
	}
	defer out.Close()
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	runErr := cmd.Run()
	var res uacResult
	res.TimedOut = ctx.Err() != nil
	// sipp: 0 all calls succeeded, 1 some failed; anything else is sipp
	// itself failing (unless we killed it at the time limit).
	var exit *exec.ExitError
	if runErr != nil && !res.TimedOut && (!errors.As(runErr, &exit) || exit.ExitCode() != 1) {
		return res, fmt.Errorf("%w: %v: %s", errSippFatal, runErr, tail(filepath.Join(dir, "sipp.out")))
	}
	st, err := os.ReadFile(filepath.Join(dir, "stat.csv"))
	if err != nil {
		return res, fmt.Errorf("%w: no statistics: %v", errSippFatal, err)
	}
	counts, err := parseSippStats(st)
	if err != nil {
		return res, fmt.Errorf("%w: %v", errSippFatal, err)
	}
	res.Created, res.Successful, res.Failed, res.Retrans = counts.created, counts.successful, counts.failed, counts.retrans
	rtts, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	var samples rttSamples
	for _, f := range rtts {
		b, err := os.ReadFile(f)
		if err != nil {
			return res, err
		}
		if err := samples.parse(b, "setup"); err != nil {
			return res, fmt.Errorf("%w: %v", errSippFatal, err)
		}
	}
	res.SetupP50Ms = samples.percentile(50)
	res.SetupP99Ms = samples.percentile(99)
	res.RateKept = samples.rate()
	return res, nil
}

// rttFreq is how many calls sipp gathers before it writes their response
// times: it writes only whole batches, so the batch must divide the calls.
func rttFreq(calls int) int {
	f := min(calls, 1000)
	for f > 1 && calls%f != 0 {
		f--
	}
	return max(f, 1)
}
