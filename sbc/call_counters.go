package sbc

import (
	"sync"
	"time"
)

// callCounters count calls for metrics: started and answered by the peer
// of the caller's leg, ended by reason and that peer, and the set-up time
// of answered calls. Peers are the configured ones plus "unknown", and
// reasons are natsbc's own words: the label sets stay bounded.
type callCounters struct {
	mu       sync.Mutex
	started  map[string]uint64
	answered map[string]uint64
	ended    map[CallEnd]uint64
	setup    Histogram
}

// CallEnd is one label pair of natsbc_calls_ended_total.
type CallEnd struct{ Reason, Peer string }

// SetupBuckets are the upper bounds (seconds) of the set-up time histogram:
// from a PBX answering at once to a queue ringing for half a minute.
var SetupBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Histogram counts observations per bucket (Prometheus' shape): Counts
// are per bucket of Bounds, not cumulative; a value above the last bound
// counts in Count and Sum only.
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

func newHistogram(bounds []float64) Histogram {
	return Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds))}
}

func (h *Histogram) observe(v float64) {
	h.Count++
	h.Sum += v
	for i, le := range h.Bounds {
		if v <= le {
			h.Counts[i]++
			return
		}
	}
}

func (h Histogram) clone() Histogram {
	h.Counts = append([]uint64(nil), h.Counts...)
	return h
}

// CallCounts is a snapshot of the counters.
type CallCounts struct {
	Started, Answered map[string]uint64
	Ended             map[CallEnd]uint64
	Setup             Histogram // seconds from INVITE to the caller's 2xx
}

func newCallCounters() *callCounters {
	return &callCounters{started: map[string]uint64{}, answered: map[string]uint64{}, ended: map[CallEnd]uint64{},
		setup: newHistogram(SetupBuckets)}
}

func (c *callCounters) callStarted(peer string) {
	c.mu.Lock()
	c.started[peer]++
	c.mu.Unlock()
}

func (c *callCounters) callAnswered(peer string, setup time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answered[peer]++
	c.setup.observe(setup.Seconds())
}

func (c *callCounters) callEnded(reason, peer string) {
	c.mu.Lock()
	c.ended[CallEnd{reason, peer}]++
	c.mu.Unlock()
}

func (c *callCounters) snapshot() CallCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := CallCounts{Started: make(map[string]uint64, len(c.started)), Answered: make(map[string]uint64, len(c.answered)),
		Ended: make(map[CallEnd]uint64, len(c.ended)), Setup: c.setup.clone()}
	for k, v := range c.started {
		out.Started[k] = v
	}
	for k, v := range c.answered {
		out.Answered[k] = v
	}
	for k, v := range c.ended {
		out.Ended[k] = v
	}
	return out
}
