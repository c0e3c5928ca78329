package loadgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Report is the JSON the bench runner reads. The first fields are its
// contract; the rest explain them.
type Report struct {
	Mode           string          `json:"mode"`
	CallsRequested int             `json:"calls_requested"`
	CallsUp        int             `json:"calls_up"`
	SetupFailed    int             `json:"setup_failed"`
	SetupP50Ms     float64         `json:"setup_p50_ms"`
	SetupP99Ms     float64         `json:"setup_p99_ms"`
	DurationS      float64         `json:"duration_s"`
	AToB           DirectionReport `json:"a_to_b"`
	BToA           DirectionReport `json:"b_to_a"`
	LateTicks      uint64          `json:"late_ticks"`
	RateKept       bool            `json:"rate_kept"`
	GeneratorCPUS  float64         `json:"generator_cpu_s"`

	SetupFailReasons map[string]int `json:"setup_fail_reasons,omitempty"`
	ByeFailed        int            `json:"bye_failed"`
	RemoteByes       int            `json:"remote_byes"`  // calls the target ended during the run
	UASNoAck         int            `json:"uas_no_ack"`   // callee 2xx never ACKed within 64·T1
	UASRejected      int            `json:"uas_rejected"` // INVITEs the callee could not place
	Ticks            uint64         `json:"ticks"`
	MaxLateMs        float64        `json:"max_late_ms"`
	Unsent           uint64         `json:"unsent"`
	SendErrors       uint64         `json:"send_errors"`
	SendWaits        uint64         `json:"send_waits"`
	RecvErrors       uint64         `json:"recv_errors"`
	SentPPS          float64        `json:"sent_pps"`
	MediaCPUS        float64        `json:"media_cpu_s"`
	MediaCPUPer10k   float64        `json:"media_cpu_per_10k_pps"` // share of one core per 10,000 packets/s sent (and received)
	Warnings         []string       `json:"warnings,omitempty"`
}

func (r *Report) addSetup(s SetupReport) {
	r.CallsUp, r.SetupFailed = s.Up, s.Failed
	r.SetupP50Ms, r.SetupP99Ms = s.P50Ms, s.P99Ms
	if len(s.FailReasons) > 0 {
		r.SetupFailReasons = s.FailReasons
	}
}

func (r *Report) addMedia(m MediaReport) {
	r.DurationS = m.DurationS
	r.AToB, r.BToA = m.AToB, m.BToA
	r.LateTicks, r.RateKept = m.LateTicks, m.RateKept
	r.Ticks, r.MaxLateMs, r.Unsent, r.SendErrors = m.Ticks, m.MaxLateMs, m.Unsent, m.SendErrors
	r.SendWaits, r.RecvErrors = m.SendWaits, m.RecvErrors
	r.SentPPS, r.MediaCPUS, r.MediaCPUPer10k = m.SentPPS, m.CPUSeconds, m.CPUPer10kPPS
}

func (r *Report) addSignallingNotes(s *sipSession) {
	s.uac.ep.mu.Lock()
	r.RemoteByes = s.uac.remoteBye
	s.uac.ep.mu.Unlock()
	s.uas.ep.mu.Lock()
	r.UASNoAck, r.UASRejected = s.uas.noAck, s.uas.rejected
	s.uas.ep.mu.Unlock()
}

// finish adds the warnings a reader must not miss.
func (r *Report) finish() {
	if r.Ticks > 0 && !r.RateKept {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"the generator could not keep its send rate: %d of %d ticks late (up to %.1f ms), %d packets unsent; "+
				"the target got bursts instead of a steady stream", r.LateTicks, r.Ticks, r.MaxLateMs, r.Unsent))
	} else if r.LateTicks > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d of %d ticks late (up to %.1f ms), within the budget of one in %d",
			r.LateTicks, r.Ticks, r.MaxLateMs, lateTickBudget))
	}
	if drops := r.AToB.SocketDrops + r.BToA.SocketDrops; drops > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"the generator's own sockets dropped %d packets (receive buffer full): the loss figures include them", drops))
	}
	if r.SetupFailed > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d of %d calls failed to set up: %s",
			r.SetupFailed, r.CallsRequested, formatReasons(r.SetupFailReasons)))
	}
	if r.ByeFailed > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d BYEs got no 2xx", r.ByeFailed))
	}
	if r.RemoteByes > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the target ended %d calls itself", r.RemoteByes))
	}
}

func formatReasons(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// Summary is the one-line human reading of the report.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "loadgen %s: %d/%d calls up", r.Mode, r.CallsUp, r.CallsRequested)
	if r.Mode == string(ModeSIP) {
		fmt.Fprintf(&b, " (setup p50 %.1f ms, p99 %.1f ms, %d failed)", r.SetupP50Ms, r.SetupP99Ms, r.SetupFailed)
	}
	fmt.Fprintf(&b, "; %.1f s media at %.0f pps", r.DurationS, r.SentPPS)
	for _, d := range []struct {
		name string
		r    DirectionReport
	}{{"a→b", r.AToB}, {"b→a", r.BToA}} {
		fmt.Fprintf(&b, "; %s loss %.4f%% latency p50 %.0f µs p99 %.0f µs max %.0f µs",
			d.name, 100*d.r.LossRatio, d.r.LatencyP50Us, d.r.LatencyP99Us, d.r.LatencyMaxUs)
	}
	kept := "rate kept"
	if r.LateTicks > 0 {
		kept = fmt.Sprintf("rate kept (%d late ticks)", r.LateTicks)
	}
	if !r.RateKept {
		kept = fmt.Sprintf("RATE NOT KEPT (%d late ticks)", r.LateTicks)
	}
	fmt.Fprintf(&b, "; %s; cpu %.2f s (%.1f%% of a core per 10k pps)", kept, r.GeneratorCPUS, 100*r.MediaCPUPer10k)
	return b.String()
}
