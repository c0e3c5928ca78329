package loadgen

import (
	"net/netip"
	"time"
)

// retransmit re-sends one message over UDP on an RFC 3261 schedule until
// stopped or until it gives up:
//   - §17.1.1.2 Timer A (INVITE client): T1, doubling without cap, until
//     Timer B (the generator's setup timeout);
//   - §17.1.2.2 Timer E (non-INVITE client): T1 doubling up to T2, until
//     Timer F (64·T1);
//   - §13.3.1.4 (2xx of a UAS): T1 doubling up to T2, until 64·T1.
type retransmit struct {
	msg      []byte
	dest     netip.AddrPort
	next     time.Time
	interval time.Duration
	ceiling  time.Duration // 0: keep doubling
	giveUp   time.Time
	active   bool
	queued   bool // in its endpoint's pending list
	// onGiveUp runs (under the endpoint's lock) when giveUp passes.
	onGiveUp func()
}

func (r *retransmit) start(msg []byte, dest netip.AddrPort, now time.Time, t1, ceiling, lifetime time.Duration, onGiveUp func()) {
	*r = retransmit{msg: msg, dest: dest, next: now.Add(t1), interval: t1, ceiling: ceiling,
		giveUp: now.Add(lifetime), active: true, queued: r.queued, onGiveUp: onGiveUp}
}

func (r *retransmit) stop() { r.active = false }

// due tells whether the message must be sent again at now and moves the
// schedule on; expired is true once, when the schedule has run out.
func (r *retransmit) due(now time.Time) (resend, expired bool) {
	if !r.active {
		return false, false
	}
	if !now.Before(r.giveUp) {
		r.active = false
		return false, true
	}
	if now.Before(r.next) {
		return false, false
	}
	r.interval *= 2
	if r.ceiling > 0 && r.interval > r.ceiling {
		r.interval = r.ceiling
	}
	r.next = now.Add(r.interval)
	return true, false
}

// slowDown is §17.1.2.2: once a provisional response arrives, a
// non-INVITE request is resent every T2.
func (r *retransmit) slowDown(now time.Time, t2 time.Duration) {
	if r.active {
		r.interval = t2
		r.next = now.Add(t2)
	}
}
