package registrar

import "sync/atomic"

// Stats is what the registrar did, for metrics.
type Stats struct {
	// ByNAT counts the bindings held now per NAT verdict ("no NAT", "NAT", ...).
	ByNAT map[string]int
	// KeepalivesSent and KeepalivesMissed count the pings of NATed
	// bindings and those left unanswered (since start).
	KeepalivesSent, KeepalivesMissed uint64
	// Removed counts the bindings natsbc gave up on, by reason (expired,
	// keepalive), since start.
	Removed map[string]uint64
}

// counters are the registrar's counters since start.
type counters struct {
	pings, missed, expired, unanswered atomic.Uint64
}

// Stats takes a snapshot.
func (r *Registrar) Stats() Stats {
	return Stats{
		ByNAT:          r.store.byKind(),
		KeepalivesSent: r.counts.pings.Load(), KeepalivesMissed: r.counts.missed.Load(),
		Removed: map[string]uint64{"expired": r.counts.expired.Load(), "keepalive": r.counts.unanswered.Load()},
	}
}
