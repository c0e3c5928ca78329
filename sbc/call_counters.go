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
	setup    SetupHistogram
}

// CallEnd is one label pair of natsbc_calls_ended_total.
type CallEnd struct{ Reason, Peer string }

// SetupBuckets are the upper bounds (seconds) of the set-up time histogram:
// from a PBX answering at once to a queue ringing for half a minute.
var SetupBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// SetupHistogram is the time from INVITE to the caller's 2xx.
type SetupHistogram struct {
	Counts []uint64 // per bucket of SetupBuckets, not cumulative
	Count  uint64
	Sum    float64 // seconds
}

// CallCounts is a snapshot of the counters.
type CallCounts struct {
	Started, Answered map[string]uint64
	Ended             map[CallEnd]uint64
	Setup             SetupHistogram
}

func newCallCounters() *callCounters {
	return &callCounters{started: map[string]uint64{}, answered: map[string]uint64{}, ended: map[CallEnd]uint64{},
		setup: SetupHistogram{Counts: make([]uint64, len(SetupBuckets))}}
}

func (c *callCounters) callStarted(peer string) {
	c.mu.Lock()
	c.started[peer]++
	c.mu.Unlock()
}

func (c *callCounters) callAnswered(peer string, setup time.Duration) {
	sec := setup.Seconds()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answered[peer]++
	c.setup.Count++
	c.setup.Sum += sec
	for i, le := range SetupBuckets {
		if sec <= le {
			c.setup.Counts[i]++
			break
		}
	}
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
		Ended: make(map[CallEnd]uint64, len(c.ended)), Setup: c.setup}
	out.Setup.Counts = append([]uint64(nil), c.setup.Counts...)
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
