package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// results is one run, as printed and as written to JSON.
type results struct {
	When    string       `json:"when"`
	Quick   bool         `json:"quick"`
	Machine machine      `json:"machine"`
	CPS     []cpsResult  `json:"cps,omitempty"`
	Media   *mediaResult `json:"media,omitempty"`
	Memory  *memResult   `json:"memory,omitempty"`
	GoBench []goBench    `json:"go_benchmarks,omitempty"`
	Targets []target     `json:"targets"`
}

func writeJSON(path string, r *results) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func printTable(w io.Writer, r *results) {
	mode := ""
	if r.Quick {
		mode = " (quick smoke run: figures are not measurements)"
	}
	fmt.Fprintf(w, "\nnatsbc benchmark %s%s\n", r.When, mode)
	m := r.Machine
	fmt.Fprintf(w, "machine: %s, %d CPUs, kernel %s, %s, %s\n", m.CPU, m.CPUs, m.Kernel, m.Go, m.Sipp)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.CPS) > 0 {
		fmt.Fprintf(tw, "\nCPS (steps of fixed rate, zero failed calls, p99 setup < 200 ms)\n")
		fmt.Fprintf(tw, "configuration\tmax calls/s\tratio to direct\tp99 setup at max\tsteps (rate: verdict)\n")
		for _, c := range r.CPS {
			ratio := "-"
			if c.Ratio > 0 {
				ratio = fmt.Sprintf("%.2f", c.Ratio)
			}
			p99 := "-"
			var steps []string
			for _, s := range c.Steps {
				v := "ok"
				if !s.Pass {
					v = "fail"
				}
				if s.FirstTry != "" {
					v += "(2nd try)"
				}
				if s.Rate == c.Max && s.Pass {
					p99 = fmt.Sprintf("%.0f ms", s.SetupP99Ms)
				}
				steps = append(steps, fmt.Sprintf("%d:%s", s.Rate, v))
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", c.Name, c.Max, ratio, p99, strings.Join(steps, " "))
		}
	}
	if md := r.Media; md != nil {
		fmt.Fprintf(tw, "\nMedia (160-byte payload, 50 packets/s each way per call; loss and latency a->b / b->a)\n")
		fmt.Fprintf(tw, "calls\tpath\tloss %%\tlatency p50 us\tlatency p99 us\trelayed pps\tnatsbc CPU\t%% core per 10k pps\tverdict\n")
		rows := append(append([]mediaRun(nil), md.Direct...), md.Via...)
		for i, x := range rows {
			path := "direct"
			if i >= len(md.Direct) {
				path = "via natsbc"
			}
			a, b := x.Report.AToB, x.Report.BToA
			v := "ok"
			if !x.Pass {
				v = "FAIL: " + x.Why
			}
			if x.FirstTry != "" {
				v += " (2nd try; 1st: " + x.FirstTry + ")"
			}
			pps, cpu, per := "-", "-", "-"
			if x.RelayedPPS > 0 {
				pps = fmt.Sprintf("%.0f", x.RelayedPPS)
				cpu = fmt.Sprintf("%.0f %%", 100*x.NatsbcCores)
				per = fmt.Sprintf("%.1f", x.CPUPer10kPct)
			}
			fmt.Fprintf(tw, "%d\t%s\t%.3f / %.3f\t%.0f / %.0f\t%.0f / %.0f\t%s\t%s\t%s\t%s\n", x.Calls, path,
				100*a.LossRatio, 100*b.LossRatio, a.LatencyP50Us, b.LatencyP50Us, a.LatencyP99Us, b.LatencyP99Us, pps, cpu, per, v)
		}
		fmt.Fprintf(tw, "largest without loss: generator alone %d calls, via natsbc %d calls", md.DirectMax, md.ViaMax)
		if md.AddedAt > 0 {
			fmt.Fprintf(tw, "; natsbc adds p50 %.0f us, p99 %.0f us (at %d calls)", md.AddedP50Us, md.AddedP99Us, md.AddedAt)
		}
		fmt.Fprintln(tw)
	}
	if mm := r.Memory; mm != nil {
		fmt.Fprintf(tw, "\nMemory (live heap after a forced GC; RSS), per item\n")
		fmt.Fprintf(tw, "what\tcount\theap each\tRSS each\theap each while transactions live\n")
		for _, x := range []struct {
			name string
			p    *memPer
		}{{"idle call, media anchored", mm.IdleCall}, {"registration", mm.Registration}} {
			if x.p != nil {
				fmt.Fprintf(tw, "%s\t%d\t%.0f B\t%.0f B\t%.0f B\n", x.name, x.p.Count, x.p.HeapBytes, x.p.RSSBytes, x.p.HeapAtSetup)
			}
		}
	}
	if len(r.GoBench) > 0 {
		fmt.Fprintf(tw, "\nGo benchmarks\n")
		fmt.Fprintf(tw, "name\tns/op\tB/op\tallocs/op\n")
		for _, g := range r.GoBench {
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\n", g.Name, g.NsPerOp, g.BytesPerOp, g.AllocsPerOp)
		}
	}
	fmt.Fprintf(tw, "\nTargets (issue 5)\n")
	fmt.Fprintf(tw, "target\twant\tgot\tverdict\n")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Want, t.Got, t.Verdict)
	}
	tw.Flush()
}
