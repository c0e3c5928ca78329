package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// maxLoss is the media criterion: under 0.1 % of packets lost each way.
const maxLoss = 0.001

// loadgenDirection and loadgenReport are the generator's JSON (its CLI
// contract, bench/cmd/loadgen).
type loadgenDirection struct {
	Sent         uint64  `json:"sent"`
	Received     uint64  `json:"received"`
	LossRatio    float64 `json:"loss_ratio"`
	LatencyP50Us float64 `json:"latency_p50_us"`
	LatencyP99Us float64 `json:"latency_p99_us"`
	LatencyMaxUs float64 `json:"latency_max_us"`
}

type loadgenReport struct {
	Mode           string           `json:"mode"`
	CallsRequested int              `json:"calls_requested"`
	CallsUp        int              `json:"calls_up"`
	SetupFailed    int              `json:"setup_failed"`
	SetupP50Ms     float64          `json:"setup_p50_ms"`
	SetupP99Ms     float64          `json:"setup_p99_ms"`
	DurationS      float64          `json:"duration_s"`
	AToB           loadgenDirection `json:"a_to_b"`
	BToA           loadgenDirection `json:"b_to_a"`
	LateTicks      uint64           `json:"late_ticks"`
	RateKept       bool             `json:"rate_kept"`
	GeneratorCPUS  float64          `json:"generator_cpu_s"`
	// Beyond the contract: the generator's tick count, the packets it
	// could not send at all, and its worst lateness.
	Ticks     uint64  `json:"ticks"`
	Unsent    uint64  `json:"unsent"`
	MaxLateMs float64 `json:"max_late_ms"`
}

// mediaRun is one generator run at a number of concurrent calls.
type mediaRun struct {
	Calls int    `json:"calls"`
	Pass  bool   `json:"pass"`
	Why   string `json:"why,omitempty"`
	// FirstTry is why the first try failed, when the run was made twice.
	FirstTry string        `json:"first_try_failed,omitempty"`
	Report   loadgenReport `json:"generator"`
	// Through natsbc only: packets natsbc relayed per second (what the
	// generator received, both directions), natsbc's CPU in the streaming
	// window in cores, and that CPU per 10,000 packets/s in % of one core.
	RelayedPPS    float64 `json:"relayed_pps,omitempty"`
	NatsbcCores   float64 `json:"natsbc_cores,omitempty"`
	CPUPer10kPct  float64 `json:"natsbc_cpu_pct_per_10k_pps,omitempty"`
	CPUWindowSecs float64 `json:"cpu_window_s,omitempty"`
}

type mediaResult struct {
	Direct    []mediaRun `json:"direct"`
	Via       []mediaRun `json:"via_natsbc"`
	DirectMax int        `json:"direct_max_calls"`
	ViaMax    int        `json:"via_natsbc_max_calls"`
	// Latency natsbc adds (via minus direct at AddedAt calls), the worse
	// direction; CPU per 10k pps at CPUAt calls (the largest passing run).
	AddedAt      int     `json:"added_latency_at_calls,omitempty"`
	AddedP50Us   float64 `json:"added_latency_p50_us"`
	AddedP99Us   float64 `json:"added_latency_p99_us"`
	CPUAt        int     `json:"cpu_at_calls,omitempty"`
	CPUPer10kPct float64 `json:"natsbc_cpu_pct_per_10k_pps"`
}

// packetsPerCall is what one G.711 call offers: 50 packets/s each way at
// the generator's default 20 ms ptime.
const packetsPerCall = 2 * 50

// judgeMedia: every call up, under 0.1 % loss each way, and the load
// really offered: the generator sent at least 99 % of the nominal packet
// rate and kept its 20 ms pacing on 99 % of its ticks. A generator that
// falls behind (descheduled because the two cores are saturated) sends
// late bursts: nothing is lost, but the streams are no longer the ones
// the figure claims.
func judgeMedia(calls int, r loadgenReport) (bool, string) {
	sent := r.AToB.Sent + r.BToA.Sent
	nominal := float64(calls * packetsPerCall)
	var rate float64
	if r.DurationS > 0 {
		rate = float64(sent) / r.DurationS
	}
	switch {
	case r.CallsUp < calls:
		return false, fmt.Sprintf("%d of %d calls up", r.CallsUp, calls)
	case r.AToB.LossRatio >= maxLoss || r.BToA.LossRatio >= maxLoss:
		return false, fmt.Sprintf("loss %.3f%% / %.3f%%", 100*r.AToB.LossRatio, 100*r.BToA.LossRatio)
	case rate < 0.99*nominal || float64(r.Unsent) >= maxLoss*float64(sent+r.Unsent):
		return false, fmt.Sprintf("generator sent %.0f of %.0f packets/s", rate, nominal)
	case r.Ticks == 0 || r.LateTicks*100 > r.Ticks:
		return false, fmt.Sprintf("generator late on %d of %d ticks: the cores are saturated", r.LateTicks, r.Ticks)
	}
	return true, ""
}

func (b *bench) runMedia(ctx context.Context, dir string) (*mediaResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	res := &mediaResult{}
	b.progress("media: %v streams, 50 packets/s each way per call; direct generator first", b.mediaDuration)
	for _, n := range b.mediaCounts {
		r, err := b.loadgenTwice(ctx, dir, "direct", n, nil)
		if err != nil {
			return res, err
		}
		res.Direct = append(res.Direct, r)
		b.progress("  %-11s %5d calls: %s", "direct", n, mediaLine(r))
		if !r.Pass {
			break
		}
		res.DirectMax = n
	}
	sbc, err := startNatsbc(b.natsbcBin, filepath.Join(dir, "natsbc"), b.plan, natsbcOpts{anchor: true})
	if err != nil {
		return res, err
	}
	defer sbc.stop()
	for _, n := range b.mediaCounts {
		r, err := b.loadgenTwice(ctx, dir, "sip", n, sbc)
		if err != nil {
			return res, err
		}
		res.Via = append(res.Via, r)
		b.progress("  %-11s %5d calls: %s", "via natsbc", n, mediaLine(r))
		if !r.Pass {
			break
		}
		res.ViaMax = n
		res.CPUAt, res.CPUPer10kPct = n, r.CPUPer10kPct
	}
	res.addedLatency()
	return res, nil
}

// addedLatency compares via and direct at the largest call count both
// passed, in the worse direction.
func (m *mediaResult) addedLatency() {
	for _, v := range m.Via {
		for _, d := range m.Direct {
			if v.Calls != d.Calls || !v.Pass || !d.Pass || v.Calls < m.AddedAt {
				continue
			}
			m.AddedAt = v.Calls
			m.AddedP50Us = max(v.Report.AToB.LatencyP50Us-d.Report.AToB.LatencyP50Us, v.Report.BToA.LatencyP50Us-d.Report.BToA.LatencyP50Us)
			m.AddedP99Us = max(v.Report.AToB.LatencyP99Us-d.Report.AToB.LatencyP99Us, v.Report.BToA.LatencyP99Us-d.Report.BToA.LatencyP99Us)
		}
	}
}

func mediaLine(r mediaRun) string {
	s := fmt.Sprintf("loss %.4f%%/%.4f%%, p99 %.0f/%.0f us", 100*r.Report.AToB.LossRatio, 100*r.Report.BToA.LossRatio,
		r.Report.AToB.LatencyP99Us, r.Report.BToA.LatencyP99Us)
	if r.RelayedPPS > 0 {
		s += fmt.Sprintf(", %.0f pps relayed, natsbc %.0f%% of a core = %.1f%% per 10k pps", r.RelayedPPS, 100*r.NatsbcCores, r.CPUPer10kPct)
	}
	if r.Report.LateTicks > 0 {
		s += fmt.Sprintf(", generator late on %d of %d ticks (up to %.0f ms)", r.Report.LateTicks, r.Report.Ticks, r.Report.MaxLateMs)
	}
	if !r.Pass {
		return s + ": FAIL (" + r.Why + ")"
	}
	return s + ": pass"
}
