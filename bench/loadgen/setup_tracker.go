package loadgen

import (
	"math"
	"slices"
	"sync"
	"time"
)

// setupTracker follows every call's set-up across both ends of the
// generator. A call is up when the caller has its 2xx (and sent the ACK)
// and the callee has that ACK: an ACK lost on the way, the bug natsbc
// exists to kill, fails the call. Each call is resolved once, as up or as
// failed with a reason; done closes when all are.
type setupTracker struct {
	mu       sync.Mutex
	answered []bool
	acked    []bool
	resolved []bool
	up       []bool
	setup    []time.Duration // INVITE sent to 2xx received
	reasons  map[string]int
	left     int
	done     chan struct{}
}

func newSetupTracker(calls int) *setupTracker {
	t := &setupTracker{
		answered: make([]bool, calls), acked: make([]bool, calls),
		resolved: make([]bool, calls), up: make([]bool, calls),
		setup: make([]time.Duration, calls), reasons: map[string]int{},
		left: calls, done: make(chan struct{}),
	}
	if calls == 0 {
		close(t.done)
	}
	return t
}

// markAnswered: the caller got a 2xx after setup and ACKed it.
func (t *setupTracker) markAnswered(n int, setup time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.answered[n], t.setup[n] = true, setup
	t.settleIfUp(n)
}

// markAcked: the callee got the ACK of its 2xx.
func (t *setupTracker) markAcked(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.acked[n] = true
	t.settleIfUp(n)
}

func (t *setupTracker) settleIfUp(n int) {
	if t.answered[n] && t.acked[n] && !t.resolved[n] {
		t.up[n] = true
		t.resolve(n)
	}
}

// fail resolves a call that is not up yet as failed; a call already up or
// failed stays as it is.
func (t *setupTracker) fail(n int, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.resolved[n] {
		return
	}
	t.reasons[reason]++
	t.resolve(n)
}

func (t *setupTracker) resolve(n int) {
	t.resolved[n] = true
	t.left--
	if t.left == 0 {
		close(t.done)
	}
}

// SetupReport is the outcome of the set-up phase.
type SetupReport struct {
	Requested   int
	Up          int
	Failed      int
	P50Ms       float64
	P99Ms       float64
	FailReasons map[string]int
}

func (t *setupTracker) report() (SetupReport, []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := SetupReport{Requested: len(t.up), FailReasons: map[string]int{}}
	var times []time.Duration
	var upCalls []int
	for n, up := range t.up {
		if up {
			upCalls = append(upCalls, n)
			times = append(times, t.setup[n])
		}
	}
	for reason, count := range t.reasons {
		r.FailReasons[reason] = count
		r.Failed += count
	}
	// Calls never resolved (the run was cancelled) count as failed too.
	r.Up = len(upCalls)
	if unresolved := r.Requested - r.Up - r.Failed; unresolved > 0 {
		r.FailReasons["not finished"] += unresolved
		r.Failed += unresolved
	}
	slices.Sort(times)
	r.P50Ms = quantileMs(times, 0.50)
	r.P99Ms = quantileMs(times, 0.99)
	return r, upCalls
}

// quantileMs is the nearest-rank quantile of sorted durations, in ms.
func quantileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return float64(sorted[rank-1].Microseconds()) / 1000
}
