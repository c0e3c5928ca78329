package sbc

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// pendingInvite is natsbc's client side of one relayed INVITE until its
// final response: when a CANCEL may go out, Timer C, and giving the
// transaction up when the CANCEL is never followed by a final response.
// Only the relay loop that owns it touches it.
type pendingInvite struct {
	c   *call
	to  *leg
	out *sip.Request

	// proceeding: a provisional came, even 100 Trying. RFC 3261 §9.1: "If
	// no provisional response has been received, the CANCEL request MUST
	// NOT be sent; rather, the client MUST wait for the arrival of a
	// provisional response". natsbc's own transactions always get the
	// 100 of the far transaction layer, so this holds a CANCEL back for
	// one round trip at most; a far side that never answers at all is
	// given up by Timer B (the transaction times out).
	proceeding bool
	// ringing: a provisional above 100 came; the caller may have heard
	// the callee, so the INVITE no longer moves to another address.
	ringing bool
	// stopping says why natsbc wants the far INVITE gone ("cancel": the
	// near side CANCELled; "timer-c"; "" while the INVITE may still be
	// answered); cancelSent whether the CANCEL went out.
	stopping   string
	cancelSent bool

	timerC *time.Timer
	giveUp *time.Timer // set when the CANCEL is sent

	redirects redirects // the 3xx targets followed (initial INVITE only)
}

func (c *call) newPendingInvite(to *leg, out *sip.Request) *pendingInvite {
	// RFC 3261 §16.6 item 11: Timer C starts with the INVITE and bounds
	// how long it may ring.
	return &pendingInvite{c: c, to: to, out: out, timerC: time.NewTimer(c.cfg.TimerC)}
}

// provisional notes a 1xx of the far leg. RFC 3261 §16.7 item 2: every
// provisional above 100 resets Timer C (the callee is still ringing).
func (p *pendingInvite) provisional(code int) {
	p.proceeding = true
	p.ringing = p.ringing || code > 100
	if code > 100 && p.stopping == "" {
		p.timerC.Reset(p.c.cfg.TimerC)
	}
	p.sendCancel()
}

// stop asks for the far INVITE to end: the CANCEL goes out now, or as
// soon as the far side has answered anything.
func (p *pendingInvite) stop(why string) {
	if p.stopping != "" {
		return
	}
	p.stopping = why
	p.timerC.Stop()
	p.sendCancel()
}

func (p *pendingInvite) sendCancel() {
	if p.stopping == "" || !p.proceeding || p.cancelSent {
		return
	}
	p.cancelSent = true
	p.c.sendCancel(p.to, p.out)
	// RFC 3261 §9.1: the far UAS answers the INVITE 487 after a CANCEL.
	// A callee that vanished never will, and a proceeding INVITE client
	// transaction has no timer left (Timer B stops at the first 1xx):
	// natsbc gives it up after 64*T1, the span of Timer B.
	p.giveUp = time.NewTimer(64 * p.c.cfg.T1)
}

// redirected points the pending state at a new INVITE of the same leg (a
// 3xx followed, or the callee's next RFC 3263 address): a new transaction,
// not yet proceeding, Timer C anew.
func (p *pendingInvite) redirected(out *sip.Request) {
	p.out = out
	p.proceeding = false
	p.timerC.Reset(p.c.cfg.TimerC)
}

// timerCFired and givenUp are the timers' channels; nil never fires.
func (p *pendingInvite) timerCFired() <-chan time.Time { return p.timerC.C }

func (p *pendingInvite) givenUp() <-chan time.Time {
	if p.giveUp == nil {
		return nil
	}
	return p.giveUp.C
}

func (p *pendingInvite) close() {
	p.timerC.Stop()
	if p.giveUp != nil {
		p.giveUp.Stop()
	}
}

// watchCancel signals c.cancel when the near side CANCELs the INVITE of
// tx, the initial INVITE or a re-INVITE: one INVITE transaction of a call
// is pending at a time (RFC 3261 §14.2), so one signal slot serves both.
// sipgo has already answered the CANCEL 200 and the INVITE 487 when the
// signal comes; the reliable provisionals of the initial INVITE stop just
// before that 487 (sipgo calls OnCancel first).
func (c *call) watchCancel(tx sip.ServerTransaction) {
	// A CANCEL that came too late for an earlier INVITE must not cancel
	// this one.
	select {
	case <-c.cancel:
	default:
	}
	signal := func(cancel *sip.Request) {
		c.rel.cancelled(cancel)
		c.reRel.Load().cancelled(cancel)
		select {
		case c.cancel <- struct{}{}:
		default:
		}
	}
	if !tx.OnCancel(signal) {
		// The CANCEL arrived before natsbc watched for it.
		signal(nil)
	}
}

// unwanted2xx handles a 2xx natsbc no longer wants (it crossed our
// CANCEL, or the call ended meanwhile). RFC 3261 §15: it still makes or
// confirms a dialog and must be ACKed. A new dialog (initial INVITE) is
// then ended with BYE; a re-INVITE's 2xx leaves the call as it was.
func (c *call) unwanted2xx(to *leg, out *sip.Request, res *sip.Response, initial bool) {
	if initial {
		c.ackAndBye(to, out, res)
		return
	}
	c.log.Warn("re-INVITE answered 2xx after its CANCEL: ACKed, the far leg keeps the session it answered",
		"leg", to.side.String(), "status", res.StatusCode)
	c.sendAck(to, out.CSeq().SeqNo, res, nil)
}
