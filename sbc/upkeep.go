package sbc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/natsbc/natsbc/media"
)

// upkeep keeps an answered call honest: per leg, the session timer (RFC
// 4028: natsbc refreshes the legs it is refresher of and ends the call
// when a refresh fails or the peer's never comes) and, for a NATed leg,
// a keepalive on its signalling flow for the whole call, so the far side's
// BYE still finds the NAT's pinhole (RFC 5626 §4.4 spirit, in-dialog). One
// goroutine per call runs it; the requests run on goroutines of their own,
// so a slow transaction on one leg never delays the other.
type upkeep struct {
	mu   sync.Mutex
	legs [2]legState
	wake chan struct{} // something changed: recompute the schedule
}

// legState is one leg's upkeep, under upkeep.mu.
type legState struct {
	timer legTimer
	// last is when the leg's session was last refreshed (the 2xx of an
	// INVITE or UPDATE in either direction, RFC 4028 §10).
	last time.Time
	// retryAt, when set, is when natsbc tries a refused refresh again.
	retryAt time.Time
	// sdp is the last body natsbc sent on the leg: a refresh by re-INVITE
	// offers it again (unchanged, so no media change, RFC 3264 §8). Bodies
	// are never written after they are built, so it is kept, not copied.
	sdp     []byte
	sdpType string
}

func newUpkeep() *upkeep { return &upkeep{wake: make(chan struct{}, 1)} }

// outcome is what a refresh or a keepalive request got.
type outcome int

const (
	answered outcome = iota // a 2xx to a refresh; any response to a keepalive
	gone                    // 481 or 408: the dialog is gone (RFC 3261 §12.2.1.2)
	noAnswer                // no response at all (timeout, transport error)
	refused                 // another final response; the session lives on
	noUpdate                // 405/501 to UPDATE: refresh with re-INVITE instead
	busy                    // an INVITE or offer of the call is in flight (RFC 3261 §14.1, RFC 3264 §4)
)

func (o outcome) String() string {
	return [...]string{"answered", "gone", "no-answer", "refused", "no-update", "busy"}[o]
}

// upkeepIO is what the loop asks of the call: requests on a leg (they may
// block; each runs on its own goroutine) and the end of the call.
type upkeepIO interface {
	refresh(ctx context.Context, side media.Leg, update bool) outcome
	keepalive(ctx context.Context, side media.Leg) outcome
	// end hangs the call up (BYE on both legs, or every leg but skip).
	end(reason string, skip *media.Leg, why string)
	spawn(func())
}

// upkeepPlan is fixed for the call's life.
type upkeepPlan struct {
	nated     [2]bool // legs whose flows need keepalive
	interval  time.Duration
	maxMissed int
}

// set replaces a leg's session timer.
func (u *upkeep) set(side media.Leg, t legTimer) {
	u.mu.Lock()
	u.legs[side].timer = t
	u.mu.Unlock()
	u.poke()
}

// raiseFloor records the Min-SE a leg's peer named in a 422 (RFC 4028
// §7.4): every later request natsbc sends on the leg asks for at least it.
func (u *upkeep) raiseFloor(side media.Leg, floor time.Duration) legTimer {
	u.mu.Lock()
	defer u.mu.Unlock()
	t := &u.legs[side].timer
	t.floor = max(t.floor, floor)
	return *t
}

func (u *upkeep) timer(side media.Leg) legTimer {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.legs[side].timer
}

// refreshed records a refresh of a leg's session, now.
func (u *upkeep) refreshed(side media.Leg) {
	u.mu.Lock()
	u.legs[side].last = time.Now()
	u.legs[side].retryAt = time.Time{}
	u.mu.Unlock()
	u.poke()
}

// sentSDP remembers the body natsbc sent on a leg.
func (u *upkeep) sentSDP(side media.Leg, contentType string, body []byte) {
	u.mu.Lock()
	u.legs[side].sdp, u.legs[side].sdpType = body, contentType
	u.mu.Unlock()
}

func (u *upkeep) lastSDP(side media.Leg) (string, []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.legs[side].sdpType, u.legs[side].sdp
}

func (u *upkeep) poke() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

type upkeepResult struct {
	side      media.Leg
	keepalive bool
	out       outcome
}

// run is the call's upkeep loop, from the answer until ended closes (or
// ctx is done: natsbc stops). Its timer and context die with it; requests
// still in flight are cancelled and hand their result to a buffer nobody
// reads.
func (u *upkeep) run(ctx context.Context, ended <-chan struct{}, plan upkeepPlan, io upkeepIO, log *slog.Logger) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// At most one refresh and one keepalive per leg are in flight.
	results := make(chan upkeepResult, 4)
	var refreshing, pinging [2]bool
	var missed [2]int
	var nextPing [2]time.Time
	now := time.Now()
	u.mu.Lock()
	for side := range u.legs {
		u.legs[side].last = now
		nextPing[side] = now.Add(plan.interval)
	}
	u.mu.Unlock()
	wakeUp := time.NewTimer(time.Hour)
	defer wakeUp.Stop()

	start := func(side media.Leg, keepalive, update bool) {
		io.spawn(func() {
			r := upkeepResult{side: side, keepalive: keepalive}
			if keepalive {
				r.out = io.keepalive(ctx, side)
			} else {
				r.out = io.refresh(ctx, side, update)
			}
			results <- r
		})
	}
	for {
		now = time.Now()
		next := now.Add(time.Hour)
		for _, side := range []media.Leg{media.LegA, media.LegB} {
			u.mu.Lock()
			st := u.legs[side]
			u.mu.Unlock()
			t := st.timer
			if t.interval > 0 {
				expiry := st.last.Add(t.interval)
				if !t.natsbc {
					expiry = expiry.Add(-expiryMargin(t.interval))
				}
				if !now.Before(expiry) {
					// RFC 4028 §10: no refresh by the expiry: the session
					// is over; BYE to both legs.
					log.Warn("session timer expired, ending call", "leg", side.String(),
						"interval", t.interval.String(), "refresher", refresherName(t))
					io.end("session-expired", nil, `SIP;cause=408;text="session timer expired"`)
					return
				}
				next = earliest(next, expiry)
				if t.natsbc && !refreshing[side] {
					// RFC 4028 §10: refresh at half the interval.
					due := st.last.Add(t.interval / 2)
					if !st.retryAt.IsZero() {
						due = st.retryAt
					}
					if !now.Before(due) {
						refreshing[side] = true
						start(side, false, t.update)
					} else {
						next = earliest(next, due)
					}
				}
			}
			if plan.nated[side] && !pinging[side] {
				if !now.Before(nextPing[side]) {
					// One request per interval per leg, never a burst.
					pinging[side] = true
					nextPing[side] = now.Add(plan.interval)
					start(side, true, false)
				} else {
					next = earliest(next, nextPing[side])
				}
			}
		}
		wakeUp.Reset(next.Sub(now))
		select {
		case <-ended:
			return
		case <-ctx.Done():
			return
		case <-u.wake:
		case <-wakeUp.C:
		case r := <-results:
			if r.keepalive {
				pinging[r.side] = false
				if u.keepaliveDone(r, &missed[r.side], plan, io, log) {
					return
				}
				continue
			}
			refreshing[r.side] = false
			if u.refreshDone(r, io, log) {
				return
			}
		}
	}
}

// keepaliveDone counts a keepalive's outcome; true when it ended the call.
func (u *upkeep) keepaliveDone(r upkeepResult, missed *int, plan upkeepPlan, io upkeepIO, log *slog.Logger) bool {
	switch r.out {
	case gone:
		log.Warn("keepalive answered: dialog gone, ending call", "leg", r.side.String())
		io.end("keepalive-gone-"+r.side.String(), &r.side, `SIP;cause=481;text="dialog gone"`)
		return true
	case noAnswer:
		*missed++
		log.Info("call keepalive unanswered", "leg", r.side.String(), "missed", *missed)
		if *missed >= plan.maxMissed {
			log.Warn("leg dead: keepalives unanswered, ending call", "leg", r.side.String(), "missed", *missed,
				"interval", plan.interval.String())
			io.end("keepalive-"+r.side.String(), nil, `SIP;cause=408;text="leg unreachable"`)
			return true
		}
	default:
		*missed = 0
	}
	return false
}

// refreshDone applies a refresh's outcome; true when it ended the call.
func (u *upkeep) refreshDone(r upkeepResult, io upkeepIO, log *slog.Logger) bool {
	switch r.out {
	case answered:
		u.refreshed(r.side)
	case gone, noAnswer:
		// RFC 4028 §10 with RFC 3261 §12.2.1.2: 408, 481 or silence end
		// the session.
		log.Warn("session refresh failed, ending call", "leg", r.side.String(), "outcome", r.out.String())
		io.end("session-refresh-"+r.side.String(), nil, `SIP;cause=408;text="session refresh failed"`)
		return true
	case noUpdate:
		u.mu.Lock()
		u.legs[r.side].timer.update = false
		u.mu.Unlock()
	case busy:
		// Another INVITE or offer of the call (often natsbc's refresh of
		// the other leg) holds the slot for a round trip or two.
		u.mu.Lock()
		st := &u.legs[r.side]
		left := st.last.Add(st.timer.interval).Sub(time.Now())
		st.retryAt = time.Now().Add(min(max(left/4, 10*time.Millisecond), time.Second))
		u.mu.Unlock()
	default:
		// The session lives until its expiry: try again halfway there.
		u.mu.Lock()
		st := &u.legs[r.side]
		left := st.last.Add(st.timer.interval).Sub(time.Now())
		st.retryAt = time.Now().Add(max(left/2, time.Second))
		u.mu.Unlock()
		log.Info("session refresh refused, retrying", "leg", r.side.String(), "outcome", r.out.String())
	}
	return false
}

func refresherName(t legTimer) string {
	if t.natsbc {
		return "natsbc"
	}
	return "peer"
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
