package sbc

import (
	"time"

	"github.com/natsbc/natsbc/cdr"
	"github.com/natsbc/natsbc/media"
)

// CallRecorder receives one record per ended call: cdr.Writer, or a test's.
type CallRecorder interface {
	Write(cdr.Record) error
}

// record writes the call's record, when natsbc keeps them.
func (c *call) record(reason string, stats media.CallStats) {
	if c.s.records == nil {
		return
	}
	if err := c.s.records.Write(c.snapshot(time.Now(), reason, stats)); err != nil {
		c.log.Warn("call record not written", "error", err)
	}
}

// snapshot describes the call as of now: an ended call (its record, with
// reason) or a running one (reason "", End zero, the duration so far).
func (c *call) snapshot(now time.Time, reason string, stats media.CallStats) cdr.Record {
	a, b := c.a.routeInfo(), c.b.routeInfo()
	c.a.mu.Lock()
	from, to, aSource := c.a.remote.String(), c.a.local.String(), c.a.source.String()
	c.a.mu.Unlock()
	r := cdr.Record{
		ACallID: c.a.callID, BCallID: c.b.callID, From: from, To: to,
		APeer: peerName(c.a.peer), BPeer: peerName(c.b.peer), ASource: aSource, BNextHop: c.b.nextHopOf(),
		Start: c.started.UTC(), Reason: reason,
		ANAT: a.Verdict, BNAT: b.Verdict, ARouteRule: a.Rule, BRouteRule: b.Rule,
		Media: stats,
	}
	if reason != "" {
		r.End = now.UTC()
	}
	if at := c.answeredAt.Load(); at != 0 {
		answer := time.Unix(0, at).UTC()
		r.Answer = &answer
		r.DurationMS = now.Sub(answer).Milliseconds()
		r.SetupMS = answer.Sub(c.started).Milliseconds()
	}
	return r
}
