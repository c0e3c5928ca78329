package sbc

import (
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// cancelOf is the CANCEL for a request the test wrote (RFC 3261 §9.1: same
// R-URI, Via, From, To, Call-ID and CSeq number, method CANCEL, no body).
func cancelOf(t *testing.T, raw string) string {
	t.Helper()
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	req := m.(*sip.Request)
	return sipMsg("CANCEL "+req.Recipient.String()+" SIP/2.0", []string{
		"Via: " + req.Via().Value(),
		"Max-Forwards: 70",
		"From: " + req.From().Value(),
		"To: " + req.To().Value(),
		"Call-ID: " + req.CallID().Value(),
		"CSeq: " + strconv.Itoa(int(req.CSeq().SeqNo)) + " CANCEL",
	}, "")
}

// ackOfFailure ACKs a non-2xx final response to a request the test wrote
// (RFC 3261 §17.1.1.3: the INVITE's branch, the response's To).
func ackOfFailure(t *testing.T, raw string, res sip.Message) string {
	t.Helper()
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	req := m.(*sip.Request)
	return sipMsg("ACK "+req.Recipient.String()+" SIP/2.0", []string{
		"Via: " + req.Via().Value(),
		"Max-Forwards: 70",
		"From: " + req.From().Value(),
		"To: " + res.To().Value(),
		"Call-ID: " + req.CallID().Value(),
		"CSeq: " + strconv.Itoa(int(req.CSeq().SeqNo)) + " ACK",
	}, "")
}

// relayRange is the relay anchor's port range in the resource tests: four
// pairs on the outside test address, so a call's ports can be checked free.
const relayMin, relayMax = 47100, 47107

func newTestRelay(t *testing.T) *media.RelayAnchor {
	t.Helper()
	a, err := media.NewRelayAnchor(media.Config{PortMin: relayMin, PortMax: relayMax, Drain: time.Nanosecond,
		ListenIP: netip.MustParseAddr(outsideIP)})
	if err != nil {
		t.Fatalf("relay anchor: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// assertRelayPortsFree binds every port of the relay range: each bind
// fails while a call still holds its socket.
func assertRelayPortsFree(t *testing.T) {
	t.Helper()
	for p := relayMin; p <= relayMax; p++ {
		c, err := net.ListenPacket("udp", net.JoinHostPort(outsideIP, strconv.Itoa(p)))
		if err != nil {
			t.Errorf("relay port %d still held after the call ended: %v", p, err)
			continue
		}
		_ = c.Close()
	}
}

// A callee rings and vanishes (only 100 and 180 ever come from it); the
// phone CANCELs. The phone gets 200 and 487 at once, the callee the CANCEL,
// and when it never answers, natsbc gives the B-leg up 64*T1 later: the
// call leaves the table and its relay ports and goroutines are freed. The
// call runs twice: the relay's packet engine (one per anchor, started with
// the first stream) is up for the second, whose goroutines must all end.
// Not parallel: it counts the process's goroutines.
func TestFlowCancelCalleeVanished(t *testing.T) {
	relay := newTestRelay(t)
	b := newFlowBedWith(t, nil, func(o *Options, _ netip.AddrPort) { o.Media = relay })
	b.vanishedCalleeCancelled(t)
	before := runtime.NumGoroutine()
	b.vanishedCalleeCancelled(t)
	waitGoroutines(t, before, 2*time.Second)
}

func (b *flowBed) vanishedCalleeCancelled(t *testing.T) {
	t.Helper()
	pc := newPhoneCall()
	inviteRaw := b.invite(pc)
	b.phone.Send(t, inviteRaw)
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	answer(t, b.pbx, inv, 100, "Trying", "", nil, "")
	answer(t, b.pbx, inv, 180, "Ringing", "pbx1", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">"}, "")
	b.phone.Expect(t, wait, "180 Ringing", isResponse(180, sip.INVITE))
	if st := b.srv.Stats(); st.ActiveCalls != 1 || st.MediaSessions != 1 {
		t.Fatalf("while ringing: %+v, want one call with relayed media", st)
	}

	const givenUp = "CANCEL not followed by a final response: INVITE given up"
	cancelled := time.Now()
	b.phone.Send(t, cancelOf(t, inviteRaw))
	b.phone.Expect(t, wait, "200 OK for CANCEL", isResponse(200, sip.CANCEL))
	terminated := b.phone.Expect(t, wait, "487 for the INVITE", isResponse(487, sip.INVITE))
	// The 487 does not wait for the vanished callee: it comes before
	// natsbc gives the B-leg up (an order, not a time bound that a loaded
	// machine could stretch).
	for _, rec := range b.log.lines(givenUp) {
		if rec["a_call_id"] == pc.callID {
			t.Errorf("487 came only after the B-leg was given up, want at once")
		}
	}
	b.phone.Send(t, ackOfFailure(t, inviteRaw, terminated))
	b.pbx.Expect(t, wait, "CANCEL on the B-leg", isRequestIn(sip.CANCEL, inv.CallID().Value()))

	// The callee is gone: no 200 for the CANCEL, no 487.
	rec, err := b.log.waitForCall(givenUp, pc.callID, wait)
	if err != nil {
		t.Fatalf("the B-leg was never given up: %v", err)
	}
	if d := time.Since(cancelled); d < 64*flowT1 {
		t.Errorf("B-leg given up %v after the CANCEL, before 64*T1 = %v", d, 64*flowT1)
	}
	rec, err = b.log.waitForCall("call ended", pc.callID, wait)
	if err != nil || rec["reason"] != "cancel" {
		t.Fatalf("call ended = %v (%v), want reason cancel", rec, err)
	}
	if st := b.srv.Stats(); st.ActiveCalls != 0 || st.MediaSessions != 0 {
		t.Errorf("after the call ended: %+v, want nothing left", st)
	}
	assertRelayPortsFree(t)
}

// RFC 3261 §9.1: a CANCEL waits for a provisional of the far side. The
// phone's CANCEL comes while the PBX has said nothing: the phone gets its
// 487 at once, the PBX its CANCEL only once its 100 Trying came.
func TestFlowCancelWaitsForAProvisional(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	inviteRaw := b.invite(pc)
	b.phone.Send(t, inviteRaw)
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))

	b.phone.Send(t, cancelOf(t, inviteRaw))
	terminated := b.phone.Expect(t, wait, "487 for the INVITE", isResponse(487, sip.INVITE))
	b.phone.Send(t, ackOfFailure(t, inviteRaw, terminated))
	if _, err := b.log.waitFor("INVITE cancelled", wait); err != nil {
		t.Fatalf("natsbc did not see the CANCEL: %v", err)
	}
	if early := b.pbx.TakeAll(isRequest(sip.CANCEL)); len(early) > 0 {
		t.Fatalf("the PBX got a CANCEL before any provisional (RFC 3261 §9.1):\n%s", early[0])
	}

	answer(t, b.pbx, inv, 100, "Trying", "", nil, "")
	cancel := b.pbx.Expect(t, wait, "CANCEL after the 100", isRequestIn(sip.CANCEL, inv.CallID().Value()))
	answer(t, b.pbx, cancel, 200, "OK", "", nil, "")
	answer(t, b.pbx, inv, 487, "Request Terminated", "pbx1", nil, "")
	b.pbx.Expect(t, wait, "ACK for the 487", isRequestIn(sip.ACK, inv.CallID().Value()))
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "cancel" {
		t.Fatalf("call ended = %v (%v), want reason cancel", rec, err)
	}
}

// A callee that never says anything at all: the phone's CANCEL gets 487
// at once, no CANCEL may go out (RFC 3261 §9.1), and the B-leg INVITE ends
// at Timer B (64*T1), ending the call as cancelled.
func TestFlowCancelCalleeSilent(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	inviteRaw := b.invite(pc)
	b.phone.Send(t, inviteRaw)
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	cancelled := time.Now()
	b.phone.Send(t, cancelOf(t, inviteRaw))
	terminated := b.phone.Expect(t, wait, "487 for the INVITE", isResponse(487, sip.INVITE))
	b.phone.Send(t, ackOfFailure(t, inviteRaw, terminated))
	rec, err := b.log.waitFor("call ended", 64*flowT1+wait)
	if err != nil || rec["reason"] != "cancel" {
		t.Fatalf("call ended = %v (%v), want reason cancel", rec, err)
	}
	if d := time.Since(cancelled); d < 60*flowT1 {
		t.Errorf("call ended %v after the CANCEL, before Timer B", d)
	}
	if sent := b.pbx.TakeAll(isRequestIn(sip.CANCEL, inv.CallID().Value())); len(sent) > 0 {
		t.Errorf("natsbc CANCELled an INVITE that had no provisional response:\n%s", sent[0])
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after Timer B", n)
	}
}

// Timer C (RFC 3261 §16.6 item 11): a callee that rings and never answers
// is CANCELled when Timer C fires, and the phone gets 408 on the dialog of
// the 180 it heard.
func TestFlowTimerC(t *testing.T) {
	t.Parallel()
	const timerC = 300 * time.Millisecond
	b := newFlowBed(t, func(c *Config) { c.TimerC = timerC })
	pc := newPhoneCall()
	inviteRaw := b.invite(pc)
	b.phone.Send(t, inviteRaw)
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	answer(t, b.pbx, inv, 180, "Ringing", "pbx1", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">"}, "")
	ringing := b.phone.Expect(t, wait, "180 Ringing", isResponse(180, sip.INVITE))
	rang := time.Now()

	timeout := b.phone.Expect(t, timerC+wait, "408 when Timer C fires", isResponse(408, sip.INVITE))
	if d := time.Since(rang); d < timerC-20*time.Millisecond {
		t.Errorf("408 came %v after the 180, before Timer C (%v)", d, timerC)
	}
	if toTagOf(timeout) != toTagOf(ringing) {
		t.Errorf("408 To tag %q, want the 180's %q", toTagOf(timeout), toTagOf(ringing))
	}
	b.phone.Send(t, ackOfFailure(t, inviteRaw, timeout))
	cancel := b.pbx.Expect(t, wait, "CANCEL when Timer C fires", isRequestIn(sip.CANCEL, inv.CallID().Value()))
	answer(t, b.pbx, cancel, 200, "OK", "", nil, "")
	answer(t, b.pbx, inv, 487, "Request Terminated", "pbx1", nil, "")
	b.pbx.Expect(t, wait, "ACK for the 487", isRequestIn(sip.ACK, inv.CallID().Value()))
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "timer-c" {
		t.Fatalf("call ended = %v (%v), want reason timer-c", rec, err)
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after Timer C", n)
	}
}

// Timer C restarts with every provisional above 100 (RFC 3261 §16.7 item
// 2) and not with a 100.
func TestPendingInviteTimerCReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := callWithConfig(Config{TimerC: 3 * time.Minute, T1: 500 * time.Millisecond})
		p := c.newPendingInvite(nil, nil)
		defer p.close()
		fired := func() bool {
			select {
			case <-p.timerCFired():
				return true
			default:
				return false
			}
		}
		time.Sleep(2 * time.Minute)
		p.provisional(100)
		p.provisional(180)
		time.Sleep(2*time.Minute + 59*time.Second)
		synctest.Wait()
		if fired() {
			t.Fatal("Timer C fired 2m59s after a 180, want 3m")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if !fired() {
			t.Fatal("Timer C did not fire 3m after the last 180")
		}
	})
}

// A 100 alone does not restart Timer C.
func TestPendingInviteTimerCNotResetBy100(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := callWithConfig(Config{TimerC: 3 * time.Minute, T1: 500 * time.Millisecond})
		p := c.newPendingInvite(nil, nil)
		defer p.close()
		time.Sleep(2 * time.Minute)
		p.provisional(100)
		time.Sleep(time.Minute)
		synctest.Wait()
		select {
		case <-p.timerCFired():
		default:
			t.Fatal("Timer C did not fire 3m after the INVITE although only a 100 came")
		}
		if !p.proceeding {
			t.Error("a 100 did not make the INVITE proceeding (RFC 3261 §9.1)")
		}
	})
}

func hasHeader(m sip.Message, name string) (string, bool) {
	for _, line := range headerLines(m) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// waitForCall waits until a record with msg has been logged for the call
// whose A-leg Call-ID is aCallID.
func (l *logSink) waitForCall(msg, aCallID string, timeout time.Duration) (map[string]any, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ch := l.changed
		l.mu.Unlock()
		for _, rec := range l.lines(msg) {
			if rec["a_call_id"] == aCallID {
				return rec, nil
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			return nil, errLogTimeout
		}
	}
}

// callWithConfig is a bare call of a bare Server holding cfg, for tests of
// one call's timers.
func callWithConfig(cfg Config) *call {
	s := &Server{ops: newOpsCounters()}
	s.cfg.Store(&cfg)
	return &call{s: s, cfg: &cfg}
}
