// Command bench measures natsbc against the ceiling of the machine it runs
// on, and prints the figures next to the targets of issue 5:
//
//	go run ./bench            # the full run (about 15 minutes), JSON in bench/results/
//	go run ./bench -quick     # a ~30 s smoke run: fails only if the harness breaks
//
// It builds natsbc (without -race) and the media load generator, then
// measures calls per second (sipp to sipp directly, through natsbc with
// media off, with media anchored), media relaying (the generator directly,
// then through natsbc), memory per idle call and per registration, and the
// Go benchmarks of the hot paths. Everything runs on loopback addresses;
// sipp (Debian package sip-tester) must be installed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// bench holds one run's settings and tools.
type bench struct {
	plan       *netPlan
	root       string // the module root
	work       string // logs, configs and sipp output of this run
	natsbcBin  string
	loadgenBin string
	quick      bool
	log        io.Writer

	stepDuration time.Duration // one CPS step
	hold         time.Duration // how long a CPS call stays up
	cpsPlan      searchPlan

	mediaCounts   []int // concurrent calls tried, ascending
	mediaDuration time.Duration
	mediaRate     int // call set-ups per second of the generator

	idleCalls     int
	registrations int
	memT1         time.Duration // natsbc's T1 in the memory part (see memory.go)

	goBenchTime string
}

func (b *bench) scenario(name string) string {
	return filepath.Join(b.root, "bench", "scenarios", name)
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, format+"\n", args...)
}

func newBench(quick bool) *bench {
	b := &bench{plan: defaultPlan(), quick: quick, log: os.Stderr}
	if quick {
		b.stepDuration, b.hold = 2*time.Second, 200*time.Millisecond
		b.cpsPlan = searchPlan{start: 100, max: 100, budget: time.Minute}
		b.mediaCounts, b.mediaDuration, b.mediaRate = []int{50}, 2*time.Second, 200
		b.idleCalls, b.registrations, b.memT1 = 100, 500, 20*time.Millisecond
		b.goBenchTime = "100x"
		return b
	}
	b.stepDuration, b.hold = 10*time.Second, time.Second
	// 250, 500, 1000, 2000, 4000, 8000 until a step fails, then two
	// bisections: at most ~9 steps of ~12 s per configuration.
	b.cpsPlan = searchPlan{start: 250, max: 8000, bisections: 2, budget: 100 * time.Second}
	b.mediaCounts = []int{250, 500, 1000, 1500, 2000, 3000, 4000}
	b.mediaDuration, b.mediaRate = 10*time.Second, 500
	b.idleCalls, b.registrations, b.memT1 = 2000, 10000, 100*time.Millisecond
	b.goBenchTime = "1s"
	return b
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "smoke run (~30 s): one short step of each measurement; fails only if the harness breaks")
	out := fs.String("out", "", "JSON result `FILE` (default bench/results/<time>.json; with -quick, none)")
	only := fs.String("only", "", "comma-separated `PARTS` to run: cps, media, memory, gobench (default all; with -quick all but gobench)")
	keep := fs.Bool("keep", false, "keep the work directory (logs, configs, sipp output)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	b := newBench(*quick)
	b.log = stderr
	if *only == "" {
		*only = "cps,media,memory,gobench"
		if *quick {
			// The Go benchmarks only need compiling to be smoke-tested,
			// which the unit tests already do.
			*only = "cps,media,memory"
		}
	}
	parts := map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		parts[strings.TrimSpace(p)] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	res, err := b.runAll(ctx, parts)
	if b.work != "" && !*keep {
		defer os.RemoveAll(b.work)
	}
	if res != nil {
		printTable(stdout, res)
		path := *out
		if path == "" && !*quick {
			path = filepath.Join(b.root, "bench", "results", time.Now().UTC().Format("20060102-150405")+".json")
		}
		if path == "" {
			// A smoke run's figures mean nothing: encode them (that is
			// part of the harness) but keep no file.
			_, werr := json.Marshal(res)
			if werr != nil {
				fmt.Fprintf(stderr, "bench: %v\n", werr)
				return 1
			}
		} else {
			if werr := writeJSON(path, res); werr != nil {
				fmt.Fprintf(stderr, "bench: %v\n", werr)
				return 1
			}
			fmt.Fprintf(stdout, "\nJSON: %s\n", path)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// runAll prepares the run and measures the parts asked for. A harness
// error stops the run; what was measured so far is still returned.
func (b *bench) runAll(ctx context.Context, parts map[string]bool) (*results, error) {
	var err error
	if b.root, err = moduleRoot(); err != nil {
		return nil, err
	}
	if b.work, err = os.MkdirTemp("", "natsbc-bench-"); err != nil {
		return nil, err
	}
	b.progress("bench: work directory %s", b.work)
	raiseFileLimit(b.log)
	res := &results{When: time.Now().UTC().Format(time.RFC3339), Quick: b.quick, Machine: describeMachine()}
	if err := b.build(ctx, parts["media"]); err != nil {
		return nil, err
	}
	if parts["cps"] {
		if err := b.cpsPart(ctx, res); err != nil {
			return res, err
		}
	}
	if parts["media"] {
		m, err := b.runMedia(ctx, filepath.Join(b.work, "media"))
		res.Media = m
		if err != nil {
			return res, fmt.Errorf("media: %w", err)
		}
	}
	if parts["memory"] {
		m, err := b.runMemory(ctx, filepath.Join(b.work, "memory"))
		res.Memory = m
		if err != nil {
			return res, fmt.Errorf("memory: %w", err)
		}
	}
	if parts["gobench"] {
		gb, err := b.runGoBenchmarks(ctx)
		res.GoBench = gb
		if err != nil {
			return res, fmt.Errorf("go benchmarks: %w", err)
		}
	}
	res.Targets = evaluate(res)
	if b.quick {
		return res, smokeCheck(res, parts)
	}
	return res, nil
}

func (b *bench) cpsPart(ctx context.Context, res *results) error {
	b.progress("CPS: %v steps, calls held %v, p99 setup < %v, zero failed calls", b.stepDuration, b.hold, maxSetupP99)
	for i, c := range cpsConfigs {
		r, err := b.runCPS(ctx, c, filepath.Join(b.work, fmt.Sprintf("cps-%d", i)))
		res.CPS = append(res.CPS, r)
		if err != nil {
			return fmt.Errorf("cps %s: %w", c.name, err)
		}
	}
	if direct := res.CPS[0].Max; direct > 0 {
		for i := range res.CPS[1:] {
			res.CPS[i+1].Ratio = float64(res.CPS[i+1].Max) / float64(direct)
		}
	}
	return nil
}
