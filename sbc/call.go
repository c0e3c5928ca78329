package sbc

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// call is one B2BUA call: the A-leg dialog, the B-leg dialog and their
// media session. Its lifetime ends with end(), exactly once.
type call struct {
	s     *Server
	log   *slog.Logger
	a, b  *leg
	media media.Session
	// cfg is the configuration the call was set up under: a reload
	// changes new calls, not its timers, latching or 100rel.
	cfg     *Config
	started time.Time
	// mediaFolded: its media is in the ended totals (opsCounters.mediaMu).
	mediaFolded bool
	// answeredAt is when the caller got the 2xx of the initial INVITE
	// (unix ns; 0: never answered), for the call record.
	answeredAt atomic.Int64

	mu sync.Mutex
	// inviteBusy is set while an INVITE transaction of this call is in
	// flight on either leg: a second one gets 491 (RFC 3261 §14.2).
	inviteBusy bool
	inviteFrom media.Leg
	// initialHolds: the slot is the initial INVITE's (set-up claims it).
	initialHolds bool
	// offers is the call's outstanding SDP offer (RFC 3311 §5.2).
	offers offers
	// confirmed legs have exchanged 2xx/ACK: they get a BYE on teardown.
	confirmed [2]bool
	// ackWaits are the 2xx natsbc sent and waits to see ACKed, per leg
	// and INVITE CSeq; sentAcks are the ACKs natsbc sent, re-sent for every
	// retransmission of the 2xx they acknowledge (RFC 3261 §13.2.2.4).
	ackWaits map[ackKey]chan *sip.Request
	sentAcks map[ackKey]*sentAck
	ackMu    sync.Mutex // serialises sending of stored ACKs

	// up keeps the answered call's sessions and NAT flows alive (upkeep.go).
	up *upkeep
	// alternates are the callee's other RFC 3263 addresses (tryNext).
	alternates []hop

	cancel chan struct{} // the pending INVITE (initial or re-INVITE) was CANCELled
	rel    reliability   // RFC 3262 on the initial INVITE (rel100.go)
	// reRel is RFC 3262 on the pending re-INVITE, nil when none is
	// pending or 100rel is off: one INVITE at a time (RFC 3261 §14.2).
	reRel  atomic.Pointer[reliability]
	refers referIDs // the REFERs relayed, for their NOTIFYs' id (refer_event.go)
	ended  chan struct{}
	endMu  sync.Once
	slot   *slot         // its hold on the call limits (admission.go)
	sub    *subscription // set when this is a subscription, not a call (subscribe.go)
}

type ackKey struct {
	side media.Leg
	seq  uint32
}

type sentAck struct {
	ack    *sip.Request
	resent int
	toTag  string
}

func newCall(s *Server, a, b *leg, ms media.Session) *call {
	c := &call{
		s: s, a: a, b: b, media: ms, cfg: s.conf(), started: time.Now(),
		ackWaits: map[ackKey]chan *sip.Request{},
		sentAcks: map[ackKey]*sentAck{},
		up:       newUpkeep(),
		cancel:   make(chan struct{}, 1),
		ended:    make(chan struct{}),
	}
	c.log = s.log.With("a_call_id", a.callID, "b_call_id", b.callID)
	return c
}

func (c *call) leg(side media.Leg) *leg {
	if side == media.LegA {
		return c.a
	}
	return c.b
}

func (c *call) other(side media.Leg) media.Leg {
	if side == media.LegA {
		return media.LegB
	}
	return media.LegA
}

func (c *call) isEnded() bool {
	select {
	case <-c.ended:
		return true
	default:
		return false
	}
}

// beginInvite claims the call's single INVITE slot (RFC 3261 §14.2) for
// a re-INVITE from side (the initial INVITE holds it from set-up); when it
// is taken, it says by whose INVITE.
func (c *call) beginInvite(side media.Leg) (ok bool, busyFrom media.Leg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inviteBusy {
		return false, c.inviteFrom
	}
	c.inviteBusy, c.inviteFrom = true, side
	return true, side
}

// claimInitialInvite gives the new call's INVITE slot to its initial
// INVITE, before the call is findable.
func (c *call) claimInitialInvite() {
	c.mu.Lock()
	c.inviteBusy, c.inviteFrom, c.initialHolds = true, media.LegA, true
	c.mu.Unlock()
}

// endInitialInvite frees the slot the initial INVITE holds, once: RFC 3261
// §14.2 bounds it by the final response, so a re-INVITE the caller sends
// right after its ACK is not refused; when the 2xx goes out, or when the
// INVITE is over otherwise.
func (c *call) endInitialInvite() {
	c.mu.Lock()
	if c.initialHolds {
		c.initialHolds, c.inviteBusy = false, false
	}
	c.mu.Unlock()
}

func (c *call) endInvite() {
	c.mu.Lock()
	c.inviteBusy = false
	c.mu.Unlock()
}

func (c *call) setConfirmed(side media.Leg) {
	c.mu.Lock()
	c.confirmed[side] = true
	c.mu.Unlock()
}

// expectAck registers natsbc's wait for the ACK of its 2xx on a leg.
func (c *call) expectAck(side media.Leg, seq uint32) chan *sip.Request {
	ch := make(chan *sip.Request, 1)
	c.mu.Lock()
	c.ackWaits[ackKey{side, seq}] = ch
	c.mu.Unlock()
	return ch
}

func (c *call) forgetAck(side media.Leg, seq uint32) {
	c.mu.Lock()
	delete(c.ackWaits, ackKey{side, seq})
	c.mu.Unlock()
}

// deliverAck hands an ACK to whoever waits for it; false when nobody does
// (a retransmitted ACK, or an ACK for a 2xx natsbc never sent).
func (c *call) deliverAck(side media.Leg, ack *sip.Request) bool {
	seq := ack.CSeq().SeqNo
	c.mu.Lock()
	ch, ok := c.ackWaits[ackKey{side, seq}]
	delete(c.ackWaits, ackKey{side, seq})
	c.mu.Unlock()
	if ok {
		ch <- ack
	}
	return ok
}

func (c *call) rememberAck(side media.Leg, seq uint32, toTag string, ack *sip.Request) {
	c.mu.Lock()
	c.sentAcks[ackKey{side, seq}] = &sentAck{ack: ack, toTag: toTag}
	c.mu.Unlock()
}

// end finishes the call once: it leaves the table, its media is released,
// and one line says why.
func (c *call) end(reason string) {
	c.endMu.Do(func() {
		close(c.ended)
		c.s.calls.remove(c)
		c.slot.release()
		c.sub.stop()
		var stats media.CallStats
		if c.media != nil {
			stats = c.media.Stats()
			_ = c.media.Close()
		}
		switch {
		case !c.infoEnabled():
		case c.sub != nil:
			c.log.Info("subscription ended", "reason", reason, "event", c.sub.event, "duration", time.Since(c.started).Round(time.Millisecond).String())
		default:
			c.log.Info("call ended", "reason", reason, "duration", time.Since(c.started).Round(time.Millisecond).String(), "media", stats)
		}
		c.s.diag.End(c.a.callID, reason)
		if c.sub == nil {
			c.s.ops.mediaEnded(c, stats)
			c.s.counts.callEnded(reason, peerName(c.a.peer))
			c.record(reason, stats)
		}
	})
}

// infoEnabled says whether the per-call info lines are logged: their
// arguments (URIs and addresses formatted, durations rounded) cost a few
// allocations per call that a warn-level production log would throw away.
func (c *call) infoEnabled() bool { return c.log.Enabled(context.Background(), slog.LevelInfo) }

// mediaTimedOut ends a call whose media stopped (the relay saw no RTP
// from a leg that should send): BYE on both legs, with a Reason (RFC 3326).
func (c *call) mediaTimedOut(reason string) {
	if c == nil || c.isEnded() {
		return
	}
	c.log.Warn("media timeout, ending call", "why", reason)
	c.hangup("media-timeout", nil, `SIP;cause=408;text="media timeout"`)
}

// hangup sends BYE on every confirmed leg except skip (the leg that sent
// BYE itself) and ends the call. The Reason header (RFC 3326) tells the
// peers why natsbc ended it.
func (c *call) hangup(reason string, skip *media.Leg, why string) {
	c.mu.Lock()
	confirmed := c.confirmed
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, side := range []media.Leg{media.LegA, media.LegB} {
		if !confirmed[side] || (skip != nil && *skip == side) {
			continue
		}
		wg.Add(1)
		go func(l *leg) {
			defer wg.Done()
			bye := l.newInDialogRequest(sip.BYE, 0)
			if why != "" {
				bye.AppendHeader(sip.NewHeader("Reason", why))
			}
			ctx, cancel := context.WithTimeout(c.s.base, 32*c.cfg.T1)
			defer cancel()
			if res, err := c.s.do(ctx, bye); err != nil {
				c.log.Info("BYE not answered", "leg", l.side.String(), "to", bye.Destination(), "error", err)
			} else if !res.IsSuccess() {
				c.log.Debug("BYE answered", "leg", l.side.String(), "status", res.StatusCode)
			}
		}(c.leg(side))
	}
	c.end(reason)
	wg.Wait()
}
