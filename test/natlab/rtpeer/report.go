package main

import (
	"encoding/json"
	"io"
	"net/netip"
	"sync"
	"time"
)

// Report is what the endpoint tells the lab, one JSON object per line on
// stderr: periodically ("rtp report") and once on exit ("rtp final").
// Counters are totals since the start. The lab decodes it with a struct
// of the same JSON names (natlab.RTPReport).
type Report struct {
	Msg        string `json:"msg"`
	AtUnixNano int64  `json:"at_unix_ns"` // when the report was taken
	Listen     string `json:"listen"`
	Target     string `json:"target"` // "" while unknown (-symmetric before the first packet)
	Sending    bool   `json:"sending"`
	Sent       uint64 `json:"sent"`
	SendErrors uint64 `json:"send_errors"`
	Received   uint64 `json:"received"`    // RTP packets, injected ones included
	NonRTP     uint64 `json:"non_rtp"`     // datagrams that were not RTP
	Injected   uint64 `json:"injected"`    // RTP packets carrying InjectTag
	SeqGaps    uint64 `json:"seq_gaps"`    // jumps forward in a sequence
	SeqMissing uint64 `json:"seq_missing"` // numbers those jumps skipped
	SeqLate    uint64 `json:"seq_late"`    // duplicates and reordered packets
	SSRCs      int    `json:"ssrcs"`       // distinct SSRCs received
	LastRxNano int64  `json:"last_rx_unix_ns"`
	// Sources counts received datagrams (RTP or not) per source ip:port.
	Sources map[string]uint64 `json:"sources"`
	Error   string            `json:"error,omitempty"`
}

// counters is the endpoint's state shared by the sender, the receiver and
// the reporter.
type counters struct {
	mu      sync.Mutex
	listen  string
	target  netip.AddrPort
	sending bool
	sent, sendErrors, received, nonRTP, injected,
	seqGaps, seqMissing, seqLate uint64
	lastRx  time.Time
	sources map[netip.AddrPort]uint64
	seqs    map[uint32]*seqTracker
}

func newCounters(listen string, target netip.AddrPort, sending bool) *counters {
	return &counters{listen: listen, target: target, sending: sending,
		sources: map[netip.AddrPort]uint64{}, seqs: map[uint32]*seqTracker{}}
}

// received counts a datagram from src; with symmetric, the first one's
// source becomes the target when none is set (RFC 4961 symmetric RTP).
func (c *counters) receivedFrom(src netip.AddrPort, pkt []byte, now time.Time, symmetric bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sources[src]++
	c.lastRx = now
	if symmetric && !c.target.IsValid() {
		c.target = src
	}
	h, payload, ok := parseRTP(pkt)
	if !ok {
		c.nonRTP++
		return
	}
	c.received++
	if injected(payload) {
		c.injected++
		return // not the peer's stream: its numbers are not followed
	}
	tr := c.seqs[h.ssrc]
	if tr == nil {
		tr = &seqTracker{}
		c.seqs[h.ssrc] = tr
	}
	missing, late := tr.observe(h.seq)
	if missing > 0 {
		c.seqGaps++
		c.seqMissing += uint64(missing)
	}
	if late {
		c.seqLate++
	}
}

func (c *counters) report(msg string, now time.Time) Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Report{Msg: msg, AtUnixNano: now.UnixNano(), Listen: c.listen, Sending: c.sending,
		Sent: c.sent, SendErrors: c.sendErrors, Received: c.received, NonRTP: c.nonRTP,
		Injected: c.injected, SeqGaps: c.seqGaps, SeqMissing: c.seqMissing, SeqLate: c.seqLate,
		SSRCs: len(c.seqs), Sources: map[string]uint64{}}
	if c.target.IsValid() {
		r.Target = c.target.String()
	}
	if !c.lastRx.IsZero() {
		r.LastRxNano = c.lastRx.UnixNano()
	}
	for src, n := range c.sources {
		r.Sources[src.String()] = n
	}
	return r
}

// writeReport writes r as one JSON line (one Write, so lines never mix).
func writeReport(w io.Writer, r Report) {
	b, _ := json.Marshal(r)
	_, _ = w.Write(append(b, '\n'))
}

// differs tells whether r says anything prev did not (the time aside).
func (r Report) differs(prev Report) bool {
	if r.Target != prev.Target || r.Sending != prev.Sending || r.Sent != prev.Sent ||
		r.SendErrors != prev.SendErrors || r.Received != prev.Received || r.NonRTP != prev.NonRTP {
		return true
	}
	return len(r.Sources) != len(prev.Sources)
}
