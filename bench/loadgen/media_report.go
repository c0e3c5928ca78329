package loadgen

import (
	"math/rand/v2"
	"time"
)

// DirectionReport is what arrived of one direction of all calls.
type DirectionReport struct {
	Sent      uint64  `json:"sent"`
	Received  uint64  `json:"received"` // distinct packets
	LossRatio float64 `json:"loss_ratio"`
	// Lost by sequence number alone (gaps up to each stream's highest
	// number); Sent-Received also counts packets lost at the very end.
	LostBySeq  uint64 `json:"lost_by_seq"`
	Duplicates uint64 `json:"duplicates"`
	Reordered  uint64 `json:"reordered"`
	Stray      uint64 `json:"stray"`
	// Datagrams the kernel dropped at the generator's own sockets (full
	// receive buffer): loss the generator caused, not the target.
	SocketDrops uint64 `json:"generator_socket_drops"`
	// Packets per recvmmsg call that returned any: how well the workers'
	// per-tick draining batches the arrivals.
	RecvBatch    float64 `json:"recv_batch"`
	LatencyP50Us float64 `json:"latency_p50_us"`
	LatencyP99Us float64 `json:"latency_p99_us"`
	LatencyMaxUs float64 `json:"latency_max_us"`
}

// MediaReport is the outcome of one media phase.
type MediaReport struct {
	AToB DirectionReport `json:"a_to_b"`
	BToA DirectionReport `json:"b_to_a"`
	// Ticks are the workers' wake-ups; a late tick started more than one
	// ptime after its schedule or could not send all its packets.
	Ticks      uint64  `json:"ticks"`
	LateTicks  uint64  `json:"late_ticks"`
	MaxLateMs  float64 `json:"max_late_ms"`
	Unsent     uint64  `json:"unsent"`
	SendErrors uint64  `json:"send_errors"`
	RecvErrors uint64  `json:"recv_errors"`
	SendWaits  uint64  `json:"send_waits"` // sends that found the socket's send buffer full
	RateKept   bool    `json:"rate_kept"`
	DurationS  float64 `json:"media_duration_s"`
	// Packets per second the generator sent, both directions together.
	SentPPS    float64 `json:"sent_pps"`
	CPUSeconds float64 `json:"media_cpu_s"`
	// CPU the generator spent per 10,000 packets/s sent, as a fraction of
	// one core (each packet sent is also received by the generator).
	CPUPer10kPPS float64 `json:"media_cpu_per_10k_pps"`
}

func buildMediaReport(ws []*worker, streamedNs int64, cpu time.Duration) MediaReport {
	var rep MediaReport
	var maxLate int64
	var sent [2]uint64
	for _, w := range ws {
		rep.Ticks += w.doneTicks
		rep.LateTicks += w.lateTicks
		rep.Unsent += w.unsent[AToB] + w.unsent[BToA]
		rep.SendErrors += w.sendErrors
		rep.SendWaits += w.sendWaits
		rep.RecvErrors += w.recv[AToB].readErrors + w.recv[BToA].readErrors
		maxLate = max(maxLate, w.maxLateNs)
		sent[AToB] += w.sent[AToB]
		sent[BToA] += w.sent[BToA]
	}
	rep.MaxLateMs = float64(maxLate) / 1e6
	rep.RateKept = rateKept(rep.Ticks, rep.LateTicks, rep.Unsent)
	rep.AToB = directionReport(ws, AToB, sent[AToB])
	rep.BToA = directionReport(ws, BToA, sent[BToA])
	rep.DurationS = float64(streamedNs) / 1e9
	rep.CPUSeconds = cpu.Seconds()
	if rep.DurationS > 0 {
		rep.SentPPS = float64(sent[AToB]+sent[BToA]) / rep.DurationS
	}
	if rep.SentPPS > 0 {
		rep.CPUPer10kPPS = rep.CPUSeconds / rep.DurationS / (rep.SentPPS / 10_000)
	}
	return rep
}

// rateKept: every packet was sent, and at most one tick in lateTickBudget
// was late. A late tick delays its packets (they are stamped when they
// leave, so latency and loss stay true) but burdens the target with a
// burst; a rare one is a scheduling hiccup on a shared box, a steady
// stream of them means the generator is the limit.
func rateKept(ticks, late, unsent uint64) bool {
	return unsent == 0 && late*lateTickBudget <= ticks
}

const lateTickBudget = 1000

// directionReport merges what every worker's receiver of dir saw.
func directionReport(ws []*worker, dir Direction, sent uint64) DirectionReport {
	d := DirectionReport{Sent: sent}
	var latency Histogram
	var reads uint64
	for _, w := range ws {
		r := w.recv[dir]
		d.Stray += r.stray
		d.SocketDrops += uint64(r.drops - r.dropsBase)
		reads += r.reads
		latency.Merge(&r.latency)
		for i := range r.streams {
			s := &r.streams[i]
			d.Received += s.received
			d.LostBySeq += s.lostBySeq()
			d.Duplicates += s.duplicates
			d.Reordered += s.reordered
		}
	}
	if sent > 0 && d.Received < sent {
		d.LossRatio = float64(sent-d.Received) / float64(sent)
	}
	if reads > 0 {
		d.RecvBatch = float64(latency.Count()+d.Stray) / float64(reads)
	}
	d.LatencyP50Us = nsToUs(latency.Quantile(0.50))
	d.LatencyP99Us = nsToUs(latency.Quantile(0.99))
	d.LatencyMaxUs = nsToUs(latency.Max())
	return d
}

func nsToUs(ns uint64) float64 {
	return float64(ns/100) / 10 // one decimal
}

// newRunID picks a non-zero id that marks this run's packets.
func newRunID() uint32 {
	for {
		if id := rand.Uint32(); id != 0 {
			return id
		}
	}
}
