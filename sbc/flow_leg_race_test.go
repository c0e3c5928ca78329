package sbc

import (
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// The far leg's fields move while the call's other requests read them: the
// PBX sends an UPDATE in its early dialog and, at once, the 200 of the
// INVITE (answered() takes the 2xx's source and route for the B-leg while
// the UPDATE's handler reads the B-leg's source, transport and peer); the
// phone sends an UPDATE while the PBX's 302 moves the B-leg to the redirect
// target (redirectTo changes its peer, source and route). Run with -race:
// every such field is read under the leg's lock.
func TestFlowLegFieldsMoveUnderConcurrentRequests(t *testing.T) {
	t.Run("answer crosses an early UPDATE", func(t *testing.T) {
		t.Parallel()
		b := newEarlyBed(t, nil)
		b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
		b.phoneGets(t, 183)
		b.flowBed.pbx.Send(t, b.pbxInDialog(b.pbx, sip.UPDATE, []string{b.pbxContact()}, ""))
		b.pbxSays(t, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
		upd := b.flowBed.phone.Expect(t, wait, "the PBX's UPDATE on the A-leg", isRequestIn(sip.UPDATE, b.phone.callID))
		answer(t, b.flowBed.phone, upd, 200, "OK", "", nil, "")
		b.flowBed.phone.Expect(t, wait, "200 for the INVITE", isResponse(200, sip.INVITE))
		b.flowBed.pbx.Expect(t, wait, "200 for the PBX's UPDATE", isResponse(200, sip.UPDATE))
		b.flowBed.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, b.pbx.callID))
	})
	t.Run("302 crosses an early UPDATE", func(t *testing.T) {
		t.Parallel()
		b := newEarlyBed(t, nil)
		b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
		b.phoneGets(t, 183)
		b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.UPDATE, 0,
			[]string{"Contact: <sip:2000@" + phoneViaHop + ">", "Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
		redirect302(t, b.flowBed.pbx, b.inv, "<sip:2222@"+b.flowBed.pbx.addr().String()+">")
		next := b.flowBed.pbx.Expect(t, wait, "INVITE to the redirect target", func(m sip.Message) bool {
			return isRequestIn(sip.INVITE, b.pbx.callID)(m) && m.CSeq().SeqNo != b.inv.CSeq().SeqNo
		})
		answer(t, b.flowBed.pbx, next, 486, "Busy Here", "busy2", nil, "")
		b.flowBed.phone.Expect(t, wait, "486 from the redirect target", isResponse(486, sip.INVITE))
	})
}

// The same crossings without the network between them (the flow bed's I/O
// and logging order most of them for the race detector): while the relay
// loop moves the B-leg (an RFC 3263 retry, a 3xx followed, the 2xx's
// route), handlers build requests and responses from it and learn its
// route. With -race this fails when a reader skips the leg's lock.
func TestLegMovesWhileHandlersReadIt(t *testing.T) {
	t.Parallel()
	b := newEarlyBed(t, nil)
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact()}, sdpBody(pbxIP, 6000))
	b.phoneGets(t, 183)
	c, _, ok := b.srv.calls.lookup(b.phone.callID, b.phone.aTag)
	if !ok {
		t.Fatal("the call is not in the table")
	}
	c.b.mu.Lock()
	here := hop{dst: b.flowBed.pbx.addr(), transport: c.b.transport, sock: c.b.sock, adv: c.b.adv}
	c.b.mu.Unlock()
	pbx := b.flowBed.pbx.addr()
	target := sip.Uri{Scheme: "sip", User: "2222", Host: pbx.Addr().String(), Port: int(pbx.Port())}
	ok200 := replyTo(b.inv, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, "")
	m, err := sip.ParseMessage([]byte(ok200))
	if err != nil {
		t.Fatal(err)
	}
	res := m.(*sip.Response)
	res.SetSource(pbx.String())
	if m, err = sip.ParseMessage([]byte(b.inviteWith(b.phone, nil))); err != nil {
		t.Fatal(err)
	}
	inA := m.(*sip.Request)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the relay loop
		defer wg.Done()
		for range 50 {
			if _, err := c.redirectTo(target, b.inv); err != nil {
				t.Errorf("redirectTo: %v", err)
				return
			}
			retargeted(c.b, b.inv, here)
			c.b.mu.Lock()
			c.b.routeSetFixed = false
			c.b.source = pbx
			c.b.mu.Unlock()
		}
	}()
	go func() { // handlers of the call's other requests
		defer wg.Done()
		for range 50 {
			_ = c.b.newInDialogRequest(sip.INFO, 0)
			_ = c.b.largeMayUseTCP()
			_, _ = c.buildResponse(media.LegA, inA, res, true)
			c.s.learnRoute(c.b, res, pbx, true)
		}
	}()
	wg.Wait()
}
