package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// maxSetupP99 is the CPS criterion on call setup (INVITE to 200), p99.
const maxSetupP99 = 200 * time.Millisecond

// cpsStep is one rate tried for stepDuration.
type cpsStep struct {
	Rate int    `json:"rate"`
	Pass bool   `json:"pass"`
	Why  string `json:"why,omitempty"`
	// FirstTry is why the first try failed, when the step was run twice.
	FirstTry string `json:"first_try_failed,omitempty"`
	uacResult
}

// cpsResult is one configuration's search.
type cpsResult struct {
	Name  string    `json:"name"`
	Max   int       `json:"max_cps"`
	Steps []cpsStep `json:"steps"`
	// Ratio is Max over the direct sipp-to-sipp ceiling of the same run.
	Ratio float64 `json:"ratio_to_direct,omitempty"`
}

// judge applies the CPS criteria: every call set up and ended, p99 setup
// under 200 ms, and the calls really came at the asked rate.
func judge(rate, calls int, r uacResult) (bool, string) {
	switch {
	case r.TimedOut:
		return false, "run did not finish in time"
	case r.Failed > 0:
		return false, fmt.Sprintf("%d failed calls", r.Failed)
	case r.Successful < calls:
		return false, fmt.Sprintf("%d of %d calls succeeded", r.Successful, calls)
	case r.SetupP99Ms >= float64(maxSetupP99.Milliseconds()):
		return false, fmt.Sprintf("p99 setup %.0f ms", r.SetupP99Ms)
	case r.RateKept < 0.9*float64(rate):
		return false, fmt.Sprintf("answered at %.0f/s", r.RateKept)
	}
	return true, ""
}

// searchPlan bounds a search: start rate, doubling until a step fails,
// then halving the gap between the last pass and the first failure.
type searchPlan struct {
	start, max int
	bisections int
	budget     time.Duration // no further doubling starts after this
}

// search finds the highest passing rate. probe runs one step; an error is
// a harness failure and ends the search.
func search(p searchPlan, probe func(rate int) (cpsStep, error)) ([]cpsStep, int, error) {
	began := time.Now()
	var steps []cpsStep
	pass, fail := 0, 0
	try := func(rate int) (bool, error) {
		s, err := probe(rate)
		if err != nil {
			return false, err
		}
		steps = append(steps, s)
		if s.Pass {
			pass = max(pass, rate)
		} else if fail == 0 || rate < fail {
			fail = rate
		}
		return s.Pass, nil
	}
	for rate := p.start; ; rate = min(rate*2, p.max) {
		ok, err := try(rate)
		if err != nil {
			return steps, pass, err
		}
		if !ok || rate >= p.max || time.Since(began) > p.budget {
			break
		}
	}
	// The bisections always run: without them a slow start (retried steps)
	// would leave the figure a whole doubling below the truth.
	for i := 0; i < p.bisections && fail > 0 && fail-pass > 50; i++ {
		mid := (pass + fail) / 2 / 50 * 50
		if mid <= pass {
			break
		}
		if _, err := try(mid); err != nil {
			return steps, pass, err
		}
	}
	return steps, pass, nil
}

// cpsConfig is one of the three set-ups measured.
type cpsConfig struct {
	name   string
	direct bool // sipp to sipp, natsbc not involved
	anchor bool
}

var cpsConfigs = []cpsConfig{
	{name: "sipp -> sipp (direct)", direct: true},
	{name: "sipp -> natsbc -> sipp, media off"},
	{name: "sipp -> natsbc -> sipp, media anchored", anchor: true},
}

// runCPS measures one configuration: a callee sipp, natsbc when not direct,
// then the step search with a sipp caller.
func (b *bench) runCPS(ctx context.Context, c cpsConfig, dir string) (cpsResult, error) {
	res := cpsResult{Name: c.name}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	target := b.plan.uas
	if !c.direct {
		target = b.plan.sbc
	}
	// The callee and natsbc start afresh for the search and after every
	// failed try: a failed step leaves calls behind (natsbc waits 64*T1
	// for a lost ACK, then BYEs for as long again) that would load the
	// next one.
	var uas *sippServer
	var sbc *natsbcProc
	stop := func() {
		if sbc != nil {
			sbc.stop()
			sbc = nil
		}
		if uas != nil {
			uas.stop()
			uas = nil
		}
	}
	defer stop()
	restarts := 0
	start := func() error {
		stop()
		restarts++
		d := filepath.Join(dir, fmt.Sprintf("start-%d", restarts))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		var err error
		if uas, err = startSippServer(d, b.scenario("uas.xml"), b.plan.uas); err != nil {
			return err
		}
		if !c.direct {
			sbc, err = startNatsbc(b.natsbcBin, d, b.plan, natsbcOpts{anchor: c.anchor})
		}
		return err
	}
	if err := start(); err != nil {
		return res, err
	}
	attempt := func(rate int, dir string) (cpsStep, error) {
		if sbc != nil {
			// A passed step's calls all ended; natsbc may still be
			// freeing the last ones.
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err := sbc.waitGauge(wctx, "natsbc_active_calls", func(v float64) bool { return v == 0 })
			cancel()
			if err != nil {
				return cpsStep{}, fmt.Errorf("calls left over from the last step: %w", err)
			}
		}
		calls := rate * int(b.stepDuration/time.Second)
		run := uacRun{
			scenario: b.scenario("uac.xml"), target: target, local: b.plan.uac,
			rate: rate, calls: calls, hold: b.hold, transport: "u1",
			limit: b.stepDuration + b.hold + 45*time.Second,
		}
		r, err := run.run(ctx, dir)
		if err != nil {
			return cpsStep{}, err
		}
		if sbc != nil {
			if err := sbc.alive(); err != nil {
				return cpsStep{}, err
			}
		}
		s := cpsStep{Rate: rate, uacResult: r}
		s.Pass, s.Why = judge(rate, calls, r)
		b.progress("  %-40s %5d cps: %s", c.name, rate, stepLine(s))
		if !s.Pass {
			return s, start()
		}
		return s, nil
	}
	// A failed step runs once more before it counts: the machine is shared
	// by the load generators and natsbc, and one burst of another process
	// can fail a step that holds otherwise. Both tries are reported.
	probe := func(rate int) (cpsStep, error) {
		s, err := attempt(rate, filepath.Join(dir, fmt.Sprintf("rate-%d", rate)))
		if err != nil || s.Pass {
			return s, err
		}
		again, err := attempt(rate, filepath.Join(dir, fmt.Sprintf("rate-%d-again", rate)))
		again.FirstTry = s.Why
		return again, err
	}
	var err error
	res.Steps, res.Max, err = search(b.cpsPlan, probe)
	return res, err
}

func stepLine(s cpsStep) string {
	verdict := "pass"
	if !s.Pass {
		verdict = "FAIL (" + s.Why + ")"
	}
	return fmt.Sprintf("%d/%d ok, p99 setup %.0f ms, %s", s.Successful, s.Created, s.SetupP99Ms, verdict)
}
