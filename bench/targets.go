package main

import "fmt"

// target is one of issue 5's targets with the figure measured for it.
type target struct {
	Name    string `json:"name"`
	Want    string `json:"want"`
	Got     string `json:"got"`
	Verdict string `json:"verdict"` // PASS, FAIL or n/a (not measured)
}

func verdict(measured, ok bool) string {
	switch {
	case !measured:
		return "n/a"
	case ok:
		return "PASS"
	}
	return "FAIL"
}

// evaluate puts every target next to its figure.
func evaluate(r *results) []target {
	var ts []target
	add := func(name, want, got string, measured, ok bool) {
		if !measured {
			got = "not measured"
		}
		ts = append(ts, target{Name: name, Want: want, Got: got, Verdict: verdict(measured, ok)})
	}
	cps := func(i int) (int, bool) {
		if len(r.CPS) > i {
			return r.CPS[i].Max, true
		}
		return 0, false
	}
	off, okOff := cps(1)
	add("CPS, media off", ">= 2000 calls/s", fmt.Sprintf("%d calls/s", off), okOff, off >= 2000)
	on, okOn := cps(2)
	add("CPS, media anchored", ">= 1200 calls/s", fmt.Sprintf("%d calls/s", on), okOn, on >= 1200)

	m := r.Media
	hasMedia := m != nil && len(m.Via) > 0
	var viaMax, directMax, cpuAt int
	var cpuPct, p99 float64
	if hasMedia {
		viaMax, directMax, cpuAt, cpuPct, p99 = m.ViaMax, m.DirectMax, m.CPUAt, m.CPUPer10kPct, m.AddedP99Us
	}
	add("media CPU", "<= 5 % of a core per 10k pps", fmt.Sprintf("%.1f %% (at %d calls)", cpuPct, cpuAt), hasMedia && cpuAt > 0, cpuPct <= 5)
	add("media without loss", ">= 1000 calls and up to the generator's ceiling",
		fmt.Sprintf("%d calls (generator alone: %d)", viaMax, directMax), hasMedia, viaMax >= 1000 && viaMax >= directMax)
	add("added latency p99", "< 1 ms", fmt.Sprintf("%.0f us (at %d calls)", p99, addedAt(m)), hasMedia && addedAt(m) > 0, p99 < 1000)

	var idle, reg float64
	hasIdle := r.Memory != nil && r.Memory.IdleCall != nil
	hasReg := r.Memory != nil && r.Memory.Registration != nil
	if hasIdle {
		idle = r.Memory.IdleCall.HeapBytes
	}
	if hasReg {
		reg = r.Memory.Registration.HeapBytes
	}
	add("heap per idle call", "< 16 KiB", fmt.Sprintf("%.1f KiB", idle/1024), hasIdle, idle < 16*1024)
	add("heap per registration", "< 2 KiB", fmt.Sprintf("%.2f KiB", reg/1024), hasReg, reg < 2*1024)

	fwd, hasFwd := findBench(r.GoBench, "BenchmarkRelayForward")
	add("allocs per relayed RTP packet", "0", fmt.Sprintf("%g (%s)", fwd.AllocsPerOp, fwd.Name), hasFwd, fwd.AllocsPerOp == 0)
	return ts
}

func addedAt(m *mediaResult) int {
	if m == nil {
		return 0
	}
	return m.AddedAt
}

func findBench(bs []goBench, name string) (goBench, bool) {
	for _, b := range bs {
		if b.Name == name {
			return b, true
		}
	}
	return goBench{}, false
}
