package main

import "testing"

func verdicts(ts []target) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[t.Name] = t.Verdict
	}
	return m
}

func TestEvaluateTargets(t *testing.T) {
	r := &results{
		CPS: []cpsResult{{Max: 4000}, {Max: 2500}, {Max: 1000}},
		Media: &mediaResult{
			DirectMax: 2000, ViaMax: 1500, CPUAt: 1500, CPUPer10kPct: 4.2,
			AddedAt: 1500, AddedP99Us: 300,
		},
		Memory: &memResult{
			IdleCall:     &memPer{HeapBytes: 12000},
			Registration: &memPer{HeapBytes: 2100},
		},
		GoBench: []goBench{{Name: "BenchmarkRelayForward", AllocsPerOp: 0}},
	}
	r.Media.Via = []mediaRun{{Calls: 1500, Pass: true}}
	want := map[string]string{
		"CPS, media off":                "PASS",
		"CPS, media anchored":           "FAIL",
		"media CPU":                     "PASS",
		"media without loss":            "FAIL", // below the generator's own 2000
		"added latency p99":             "PASS",
		"heap per idle call":            "PASS",
		"heap per registration":         "FAIL",
		"allocs per relayed RTP packet": "PASS",
	}
	got := verdicts(evaluate(r))
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s: %s, want %s", name, got[name], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("targets %v; want %d", got, len(want))
	}
}

// What a run did not measure is n/a, never PASS.
func TestEvaluateUnmeasured(t *testing.T) {
	for name, v := range verdicts(evaluate(&results{})) {
		if v != "n/a" {
			t.Errorf("%s: %s with nothing measured", name, v)
		}
	}
}

func TestJudgeMediaAndAddedLatency(t *testing.T) {
	// 100 calls for 10 s: 50,000 packets each way.
	clean := loadgenReport{CallsUp: 100, LateTicks: 10, Ticks: 1000, DurationS: 10,
		AToB: loadgenDirection{Sent: 50000, LossRatio: 0.0009}, BToA: loadgenDirection{Sent: 50000}}
	if ok, why := judgeMedia(100, clean); !ok {
		t.Errorf("0.09 %% loss with a few late ticks fails: %s", why)
	}
	lossy := clean
	lossy.BToA.LossRatio = 0.001
	notUp, short, none, stretched, late := clean, clean, clean, clean, clean
	notUp.CallsUp = 99
	short.Unsent = 200 // 0.2 %: the load was not all offered
	none.AToB.Sent, none.BToA.Sent = 0, 0
	stretched.DurationS = 10.2 // every packet sent, 2 % slower than asked
	late.LateTicks = 11
	for name, r := range map[string]loadgenReport{
		"0.1 % loss": lossy, "calls missing": notUp, "0.2 % unsent": short, "nothing sent": none,
		"rate not reached": stretched, "1.1 % late ticks": late,
	} {
		if ok, _ := judgeMedia(100, r); ok {
			t.Errorf("%s passes", name)
		}
	}

	run := func(calls int, pass bool, p50a, p99a, p50b, p99b float64) mediaRun {
		return mediaRun{Calls: calls, Pass: pass, Report: loadgenReport{
			AToB: loadgenDirection{LatencyP50Us: p50a, LatencyP99Us: p99a},
			BToA: loadgenDirection{LatencyP50Us: p50b, LatencyP99Us: p99b}}}
	}
	m := &mediaResult{
		Direct: []mediaRun{run(250, true, 50, 100, 50, 100), run(500, true, 60, 200, 60, 200), run(1000, true, 70, 300, 70, 300)},
		Via:    []mediaRun{run(250, true, 80, 150, 90, 160), run(500, true, 100, 260, 120, 500), run(1000, false, 0, 0, 0, 0)},
	}
	m.addedLatency()
	if m.AddedAt != 500 || m.AddedP50Us != 60 || m.AddedP99Us != 300 {
		t.Errorf("added latency at %d: p50 %v p99 %v; want at 500: 60, 300 (the worse direction)", m.AddedAt, m.AddedP50Us, m.AddedP99Us)
	}
}
