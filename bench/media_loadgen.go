package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// loadgenTwice makes a failed run once more before it counts, like a CPS
// step: the cores are shared, and one burst of another process can fail a
// run that holds otherwise. Both tries are reported.
func (b *bench) loadgenTwice(ctx context.Context, dir, mode string, calls int, sbc *natsbcProc) (mediaRun, error) {
	r, err := b.loadgen(ctx, dir, mode, calls, sbc, "")
	if err != nil || r.Pass {
		return r, err
	}
	path := "via natsbc"
	if sbc == nil {
		path = "direct"
	}
	b.progress("  %-11s %5d calls: %s; once more", path, calls, mediaLine(r))
	again, err := b.loadgen(ctx, dir, mode, calls, sbc, "-again")
	again.FirstTry = r.Why
	return again, err
}

// loadgen runs the generator once. Through natsbc (sbc non-nil) it also
// measures natsbc's CPU while every call streams: from when natsbc holds
// all calls (+0.5 s) to 0.3 s before the streams end.
func (b *bench) loadgen(ctx context.Context, dir, mode string, calls int, sbc *natsbcProc, suffix string) (mediaRun, error) {
	run := mediaRun{Calls: calls}
	if sbc != nil {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		_, err := sbc.waitGauge(wctx, "natsbc_active_calls", func(v float64) bool { return v == 0 })
		cancel()
		if err != nil {
			return run, fmt.Errorf("calls left over from the last run: %w", err)
		}
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-%d%s.json", mode, calls, suffix))
	setup := time.Duration(calls/b.mediaRate+1) * time.Second
	lctx, cancel := context.WithTimeout(ctx, setup+b.mediaDuration+90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(lctx, b.loadgenBin, "-mode", mode,
		"-target", b.plan.sbc.String(), "-uac-ip", b.plan.uac.String(), "-uas", b.plan.uas.String(),
		"-calls", strconv.Itoa(calls), "-rate", strconv.Itoa(b.mediaRate),
		"-duration", b.mediaDuration.String(), "-json", out)
	logf, err := os.Create(out + ".log")
	if err != nil {
		return run, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return run, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var cpu cpuWindow
	if sbc != nil {
		cpu = b.sampleCPU(lctx, sbc, calls, exited)
	}
	if err := <-exited; err != nil {
		return run, fmt.Errorf("loadgen %s %d calls: %v: %s", mode, calls, err, tail(out+".log"))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return run, fmt.Errorf("loadgen wrote no JSON: %w", err)
	}
	if err := json.Unmarshal(data, &run.Report); err != nil {
		return run, fmt.Errorf("loadgen JSON %s: %w", out, err)
	}
	run.Pass, run.Why = judgeMedia(calls, run.Report)
	if sbc != nil {
		if err := sbc.alive(); err != nil {
			return run, err
		}
		if cpu.err != nil {
			return run, cpu.err
		}
		if d := run.Report.DurationS; d > 0 {
			run.RelayedPPS = float64(run.Report.AToB.Received+run.Report.BToA.Received) / d
		}
		run.CPUWindowSecs = cpu.seconds
		if cpu.seconds > 0 && run.RelayedPPS > 0 {
			run.NatsbcCores = cpu.cpu / cpu.seconds
			run.CPUPer10kPct = 100 * run.NatsbcCores / (run.RelayedPPS / 10_000)
		}
	}
	return run, nil
}

type cpuWindow struct {
	cpu, seconds float64
	err          error
}

// sampleCPU waits until natsbc holds every call, then reads natsbc's CPU
// time over the streaming window. exited is the generator's end: if it
// comes first, there is no window (and the generator's error tells why).
func (b *bench) sampleCPU(ctx context.Context, sbc *natsbcProc, calls int, exited chan error) cpuWindow {
	upCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	up := make(chan error, 1)
	go func() {
		_, err := sbc.waitGauge(upCtx, "natsbc_active_calls", func(v float64) bool { return int(v) >= calls })
		up <- err
	}()
	select {
	case err := <-exited:
		cancel()
		<-up
		exited <- err // for the caller
		return cpuWindow{}
	case err := <-up:
		if err != nil {
			return cpuWindow{}
		}
	}
	allUp := time.Now()
	start, end := allUp.Add(500*time.Millisecond), allUp.Add(b.mediaDuration-300*time.Millisecond)
	if !end.After(start) {
		return cpuWindow{}
	}
	time.Sleep(time.Until(start))
	c0, err := cpuSeconds(sbc.pid())
	t0 := time.Now()
	if err != nil {
		return cpuWindow{err: err}
	}
	time.Sleep(time.Until(end))
	c1, err := cpuSeconds(sbc.pid())
	if err != nil {
		return cpuWindow{err: err}
	}
	return cpuWindow{cpu: c1 - c0, seconds: time.Since(t0).Seconds()}
}
