package sbc

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// fakeUpkeepIO records what the loop asks for and answers with scripted
// outcomes, at once or (block) only when the loop's context ends.
type fakeUpkeepIO struct {
	mu        sync.Mutex
	refreshes []upkeepCall
	pings     []upkeepCall
	ends      []upkeepEnd
	refreshed func(side media.Leg, update bool) outcome
	pinged    func(side media.Leg) outcome
	ended     chan struct{} // closed by end, as the call's end() does
	block     bool
}

type upkeepCall struct {
	side   media.Leg
	update bool
	at     time.Duration
}

type upkeepEnd struct {
	reason string
	skip   *media.Leg
}

var upkeepEpoch time.Time

func (f *fakeUpkeepIO) refresh(ctx context.Context, side media.Leg, update bool) outcome {
	f.mu.Lock()
	f.refreshes = append(f.refreshes, upkeepCall{side, update, time.Since(upkeepEpoch)})
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return noAnswer
	}
	if f.refreshed == nil {
		return answered
	}
	return f.refreshed(side, update)
}

func (f *fakeUpkeepIO) keepalive(ctx context.Context, side media.Leg) outcome {
	f.mu.Lock()
	f.pings = append(f.pings, upkeepCall{side: side, at: time.Since(upkeepEpoch)})
	f.mu.Unlock()
	if f.pinged == nil {
		return answered
	}
	return f.pinged(side)
}

func (f *fakeUpkeepIO) end(reason string, skip *media.Leg, _ string) {
	f.mu.Lock()
	f.ends = append(f.ends, upkeepEnd{reason, skip})
	f.mu.Unlock()
	close(f.ended)
}

func (f *fakeUpkeepIO) spawn(fn func()) { go fn() }

func (f *fakeUpkeepIO) snapshot() (refreshes, pings []upkeepCall, ends []upkeepEnd) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]upkeepCall(nil), f.refreshes...), append([]upkeepCall(nil), f.pings...), append([]upkeepEnd(nil), f.ends...)
}

// startUpkeepLoop runs the loop in the bubble with the legs' timers; the
// returned stop ends the call from outside, as a BYE would.
func startUpkeepLoop(f *fakeUpkeepIO, a, b legTimer, plan upkeepPlan) (*upkeep, func()) {
	upkeepEpoch = time.Now()
	f.ended = make(chan struct{})
	u := newUpkeep()
	u.set(media.LegA, a)
	u.set(media.LegB, b)
	if plan.maxMissed == 0 {
		plan.maxMissed = 3
	}
	if plan.interval == 0 {
		plan.interval = 15 * time.Second
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		u.run(context.Background(), f.ended, plan, f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	var once sync.Once
	return u, func() {
		once.Do(func() {
			select {
			case <-f.ended:
			default:
				close(f.ended)
			}
		})
		<-done
	}
}

const (
	peerRefreshes = false
	natsbcRefresh = true
)

// natsbc refreshes the leg it is refresher of at half the interval
// (RFC 4028 §10), with UPDATE where allowed, re-INVITE elsewhere; the leg
// whose peer refreshes gets nothing from natsbc.
func TestUpkeepRefreshesSilentLeg(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpkeepIO{}
		u, stop := startUpkeepLoop(f,
			legTimer{interval: 90 * time.Second, natsbc: natsbcRefresh, update: false},
			legTimer{interval: 1800 * time.Second, natsbc: natsbcRefresh, update: true}, upkeepPlan{})
		// The A-leg peer does not refresh: natsbc does, every 45 s.
		time.Sleep(136 * time.Second)
		synctest.Wait()
		refreshes, pings, ends := f.snapshot()
		var a []time.Duration
		for _, r := range refreshes {
			if r.side == media.LegA {
				if r.update {
					t.Errorf("A-leg refreshed with UPDATE, its peer does not allow it")
				}
				a = append(a, r.at)
			} else {
				t.Errorf("B-leg refreshed at %v, due only at 900s", r.at)
			}
		}
		if len(a) != 3 || a[0] != 45*time.Second || a[1] != 90*time.Second || a[2] != 135*time.Second {
			t.Errorf("A-leg refreshes at %v, want 45s 90s 135s", a)
		}
		if len(pings) != 0 || len(ends) != 0 {
			t.Errorf("pings %v, ends %v: want none (no NATed leg, every refresh answered)", pings, ends)
		}
		// A refresh the other way (a relayed re-INVITE's 2xx) moves the next one.
		time.Sleep(5 * time.Second)
		u.refreshed(media.LegA)
		time.Sleep(44 * time.Second)
		synctest.Wait()
		if refreshes, _, _ := f.snapshot(); len(refreshes) != 3 {
			t.Errorf("refresh at %v though the session was refreshed at 141s", refreshes[len(refreshes)-1].at)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		refreshes, _, _ = f.snapshot()
		if len(refreshes) != 4 || refreshes[3].at != 186*time.Second {
			t.Errorf("refreshes %v, want the 4th at 186s", refreshes)
		}
		stop()
	})
}

// The peer is the refresher and never refreshes: at the interval minus
// min(32 s, interval/3) natsbc ends the call with BYE on both legs.
func TestUpkeepExpiryEndsCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpkeepIO{}
		u, stop := startUpkeepLoop(f,
			legTimer{interval: 90 * time.Second, natsbc: peerRefreshes},
			legTimer{interval: 1800 * time.Second, natsbc: natsbcRefresh}, upkeepPlan{})
		defer stop()
		time.Sleep(50 * time.Second)
		u.refreshed(media.LegA) // the peer's refresh at 50 s
		time.Sleep(50 * time.Second)
		synctest.Wait()
		if _, _, ends := f.snapshot(); len(ends) != 0 {
			t.Fatalf("ended at 100s, though refreshed at 50s (expiry 110s): %v", ends)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		_, _, ends := f.snapshot()
		if len(ends) != 1 || ends[0].reason != "session-expired" || ends[0].skip != nil {
			t.Fatalf("ends %v, want one session-expired with BYE on both legs", ends)
		}
	})
}

// A refresh answered 481/408 or not at all ends the call; an UPDATE the
// peer refuses with 405 is retried at once as a re-INVITE; another refusal
// is retried halfway to the expiry.
func TestUpkeepRefreshOutcomes(t *testing.T) {
	for _, c := range []struct {
		name   string
		script []outcome
		ends   string
		calls  []upkeepCall
	}{
		{"481 ends", []outcome{gone}, "session-refresh-b", []upkeepCall{{media.LegB, true, 45 * time.Second}}},
		{"timeout ends", []outcome{noAnswer}, "session-refresh-b", []upkeepCall{{media.LegB, true, 45 * time.Second}}},
		{"405 to UPDATE: re-INVITE", []outcome{noUpdate, answered}, "", []upkeepCall{{media.LegB, true, 45 * time.Second}, {media.LegB, false, 45 * time.Second}}},
		{"busy INVITE slot: retried a second later", []outcome{busy, answered}, "", []upkeepCall{{media.LegB, true, 45 * time.Second}, {media.LegB, true, 46 * time.Second}}},
		{"491: retried halfway", []outcome{refused, answered}, "", []upkeepCall{{media.LegB, true, 45 * time.Second}, {media.LegB, true, 67500 * time.Millisecond}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := 0
				f := &fakeUpkeepIO{refreshed: func(media.Leg, bool) outcome {
					n++
					if n > len(c.script) {
						return answered
					}
					return c.script[n-1]
				}}
				_, stop := startUpkeepLoop(f,
					legTimer{interval: 1800 * time.Second, natsbc: peerRefreshes},
					legTimer{interval: 90 * time.Second, natsbc: natsbcRefresh, update: true}, upkeepPlan{})
				defer stop()
				time.Sleep(68 * time.Second)
				synctest.Wait()
				refreshes, _, ends := f.snapshot()
				if len(refreshes) != len(c.calls) {
					t.Fatalf("refreshes %v, want %v", refreshes, c.calls)
				}
				for i := range refreshes {
					if refreshes[i] != c.calls[i] {
						t.Errorf("refresh %d = %+v, want %+v", i, refreshes[i], c.calls[i])
					}
				}
				switch {
				case c.ends == "" && len(ends) != 0:
					t.Errorf("call ended: %v", ends)
				case c.ends != "" && (len(ends) != 1 || ends[0].reason != c.ends || ends[0].skip != nil):
					t.Errorf("ends %v, want %s with BYE on both legs", ends, c.ends)
				}
			})
		})
	}
}

// A NATed leg gets one keepalive per interval, for the whole call; a leg
// that is not NATed gets none.
func TestUpkeepKeepaliveOnNATedLeg(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpkeepIO{}
		_, stop := startUpkeepLoop(f,
			legTimer{interval: 1800 * time.Second, natsbc: peerRefreshes},
			legTimer{interval: 1800 * time.Second, natsbc: natsbcRefresh},
			upkeepPlan{nated: [2]bool{true, false}, interval: 15 * time.Second})
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		_, pings, ends := f.snapshot()
		if len(pings) != 40 {
			t.Errorf("%d keepalives in 10 min, want 40 (one per 15 s)", len(pings))
		}
		for i, p := range pings {
			if p.side != media.LegA || p.at != time.Duration(i+1)*15*time.Second {
				t.Errorf("keepalive %d: %+v, want leg a at %v", i, p, time.Duration(i+1)*15*time.Second)
				break
			}
		}
		if len(ends) != 0 {
			t.Errorf("ends %v", ends)
		}
		stop()
	})
}

// max_missed unanswered keepalives in a row: the leg is dead, the call ends
// with BYE on both legs. An answer in between resets the count; a 481 ends
// the call at once without a BYE on the leg whose dialog is gone.
func TestUpkeepDeadLegEndsCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := 0
		f := &fakeUpkeepIO{pinged: func(media.Leg) outcome {
			n++
			if n == 1 || n == 2 || n >= 4 {
				return noAnswer // the 3rd is answered
			}
			return answered
		}}
		_, stop := startUpkeepLoop(f,
			legTimer{interval: 1800 * time.Second, natsbc: peerRefreshes},
			legTimer{interval: 1800 * time.Second, natsbc: natsbcRefresh},
			upkeepPlan{nated: [2]bool{false, true}, interval: 15 * time.Second, maxMissed: 3})
		defer stop()
		time.Sleep(89 * time.Second)
		synctest.Wait()
		if _, _, ends := f.snapshot(); len(ends) != 0 {
			t.Fatalf("ended after 2 missed, reset, 2 missed: %v", ends)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		_, pings, ends := f.snapshot()
		if len(ends) != 1 || ends[0].reason != "keepalive-b" || ends[0].skip != nil {
			t.Fatalf("ends %v after %d keepalives, want keepalive-b with BYE on both legs", ends, len(pings))
		}
	})
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpkeepIO{pinged: func(media.Leg) outcome { return gone }}
		_, stop := startUpkeepLoop(f,
			legTimer{interval: 1800 * time.Second},
			legTimer{interval: 1800 * time.Second, natsbc: natsbcRefresh},
			upkeepPlan{nated: [2]bool{true, false}})
		defer stop()
		time.Sleep(15 * time.Second)
		synctest.Wait()
		_, _, ends := f.snapshot()
		if len(ends) != 1 || ends[0].reason != "keepalive-gone-a" || ends[0].skip == nil || *ends[0].skip != media.LegA {
			t.Fatalf("ends %v, want keepalive-gone-a without a BYE on leg a", ends)
		}
	})
}

// However the call ends (here from outside, as a BYE does, while a refresh
// is in flight), the loop, its timer and its requests end with it:
// synctest.Test fails if a goroutine of the bubble is left.
func TestUpkeepFreedOnEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpkeepIO{block: true}
		_, stop := startUpkeepLoop(f,
			legTimer{interval: 90 * time.Second, natsbc: natsbcRefresh},
			legTimer{interval: 90 * time.Second, natsbc: natsbcRefresh},
			upkeepPlan{nated: [2]bool{true, true}})
		time.Sleep(46 * time.Second)
		synctest.Wait()
		if refreshes, _, _ := f.snapshot(); len(refreshes) != 2 {
			t.Fatalf("refreshes in flight %v, want both legs'", refreshes)
		}
		stop()
		synctest.Wait()
		if _, _, ends := f.snapshot(); len(ends) != 0 {
			t.Errorf("the loop ended a call that had already ended: %v", ends)
		}
	})
	// natsbc stops (its base context ends) with the call still up.
	synctest.Test(t, func(t *testing.T) {
		f := &fakeUpkeepIO{block: true, ended: make(chan struct{})}
		u := newUpkeep()
		u.set(media.LegA, legTimer{interval: 90 * time.Second, natsbc: true})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			u.run(ctx, f.ended, upkeepPlan{interval: 15 * time.Second, maxMissed: 3}, f, slog.New(slog.NewTextHandler(io.Discard, nil)))
		}()
		time.Sleep(50 * time.Second)
		cancel()
		<-done
	})
}

// Which legs get the call keepalive: those whose requests go to a NAT
// pinhole, not a PBX on a private network that the checks call NATed.
func TestHoldsPinhole(t *testing.T) {
	phone := policy.Peer{Role: policy.RoleEndpoint, NAT: policy.NATAuto}
	pbx := policy.Peer{Name: "pbx", Role: policy.RolePBX, NAT: policy.NATAuto}
	rr := []sip.Uri{{Scheme: "sip", Host: "10.0.0.20"}}
	for _, c := range []struct {
		name string
		l    *leg
		want bool
	}{
		{"phone routed to its flow", &leg{peer: phone, nated: true, route: routeChoice{Fixed: true}}, true},
		{"NAT-aware phone reached at its Contact", &leg{peer: phone, nated: true}, true},
		{"phone not NATed", &leg{peer: phone}, false},
		{"NATed phone behind a record-routing proxy", &leg{peer: phone, nated: true, routeSet: rr}, false},
		{"PBX with a private Contact", &leg{peer: pbx, nated: true}, false},
		{"peer nat: never", &leg{peer: policy.Peer{Role: policy.RoleEndpoint, NAT: policy.NATNever}, nated: true}, false},
		{"peer nat: always (Contact fixed)", &leg{peer: policy.Peer{Role: policy.RoleTrunk, NAT: policy.NATAlways}, route: routeChoice{Fixed: true}}, true},
	} {
		if got := c.l.holdsPinhole(); got != c.want {
			t.Errorf("%s: holdsPinhole = %v, want %v", c.name, got, c.want)
		}
	}
}
