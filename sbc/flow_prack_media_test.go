package sbc

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// newAnchoredBed is a flow bed whose natsbc anchors media.
func newAnchoredBed(t *testing.T) *flowBed {
	t.Helper()
	return newAnchoredBedWith(t, nil)
}

// newAnchoredBedWith is newAnchoredBed with the Config adjusted by mod.
func newAnchoredBedWith(t *testing.T, mod func(*Config)) *flowBed {
	t.Helper()
	return newAnchoredBedOn(t, 43000, mod, nil)
}

// newAnchoredBedOn is an anchored bed relaying on the thousand ports from
// portMin, with Config and Options adjusted by mod and modOpts.
func newAnchoredBedOn(t *testing.T, portMin int, mod func(*Config), modOpts func(o *Options, pbx netip.AddrPort)) *flowBed {
	t.Helper()
	anchor, err := media.NewRelayAnchor(media.Config{PortMin: portMin, PortMax: portMin + 999, Drain: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = anchor.Close() })
	fb := &flowBed{log: newLogSink()}
	fb.phone = newTestPeer(t, "phone", phoneIP)
	fb.pbx = newTestPeer(t, "pbx", pbxIP)
	fb.srv, fb.outside, fb.inside = startFlowServerWith(t, fb.log, fb.pbx.addr(), mod,
		func(o *Options, pbx netip.AddrPort) {
			o.Media = anchor
			if modOpts != nil {
				modOpts(o, pbx)
			}
		})
	fb.phone.target, fb.pbx.target = fb.outside, fb.inside
	fb.waitServing(t)
	return fb
}

// Early media is anchored: with a relay anchor, the reliable 183's answer
// reaches the phone naming natsbc's outside address and a relay port, and
// a new offer in the phone's PRACK and its answer in the 200 (RFC 3262 §5)
// are rewritten for the other leg too.
func TestFlowReliable183Anchored(t *testing.T) {
	t.Parallel()
	fb := newAnchoredBed(t)
	b := startEarly(t, fb, "Supported: 100rel")
	assertAnchored(t, "B-leg INVITE", b.inv.Body(), insideIP, "4000")

	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact(), "Require: 100rel", "RSeq: 1"}, sdpBody(pbxIP, 6000))
	rel := b.phoneGets(t, 183)
	assertAnchored(t, "reliable 183", rel.Body(), outsideIP, "6000")

	b.flowBed.phone.Send(t, b.phonePrack(t, rel, []string{"Content-Type: application/sdp"}, sdpBody(privateIP, 4002)))
	prack := fb.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID))
	assertAnchored(t, "PRACK offer", prack.Body(), insideIP, "4002")
	answer(t, fb.pbx, prack, 200, "OK", "", []string{"Content-Type: application/sdp"}, sdpBody(pbxIP, 6002))
	ok := fb.phone.Expect(t, wait, "200 for PRACK", isResponse(200, sip.PRACK))
	assertAnchored(t, "200 for PRACK", ok.Body(), outsideIP, "6002")
	b.answerAndHangUp(t, b.pbx.tag)
}

// assertAnchored checks that an SDP names natsbc's address ip and not the
// far side's port.
func assertAnchored(t *testing.T, what string, body []byte, ip, farPort string) {
	t.Helper()
	sdp := string(body)
	if !strings.Contains(sdp, "c=IN IP4 "+ip+"\r\n") || strings.Contains(sdp, "m=audio "+farPort+" ") ||
		strings.Contains(sdp, privateIP) {
		t.Errorf("%s SDP is not anchored on %s (far port %s):\n%s", what, ip, farPort, sdp)
	}
}

// Delayed offer with 100rel on both sides: the PBX's offer comes in its
// reliable 183, the phone's answer in its PRACK (RFC 3262 §5); both are
// anchored, and the 200 without SDP completes the call.
func TestFlowOfferInReliable183AnswerInPrack(t *testing.T) {
	t.Parallel()
	b := startEarly(t, newAnchoredBed(t), "Supported: 100rel", noOffer)
	if len(b.inv.Body()) != 0 || !hasHeaderToken(b.inv, "Supported", "100rel") {
		t.Fatalf("B-leg INVITE: want no SDP and Supported: 100rel:\n%s", b.inv)
	}
	b.pbxSays(t, 183, "Session Progress", b.pbx.tag, []string{b.pbxContact(), "Require: 100rel", "RSeq: 1"}, sdpBody(pbxIP, 6000))
	offer := b.phoneGets(t, 183)
	assertAnchored(t, "offer in the reliable 183", offer.Body(), outsideIP, "6000")
	b.flowBed.phone.Send(t, b.phonePrack(t, offer, []string{"Content-Type: application/sdp"}, sdpBody(privateIP, 4000)))
	prack := b.flowBed.pbx.Expect(t, wait, "PRACK on the B-leg", isRequestIn(sip.PRACK, b.pbx.callID))
	assertAnchored(t, "answer in the PRACK", prack.Body(), insideIP, "4000")
	answer(t, b.flowBed.pbx, prack, 200, "OK", "", nil, "")
	b.flowBed.phone.Expect(t, wait, "200 for PRACK", isResponse(200, sip.PRACK))

	b.pbxSays(t, 200, "OK", b.pbx.tag, []string{b.pbxContact()}, "")
	b.phoneGets(t, 200)
	b.flowBed.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, b.pbx.callID))
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.ACK, 1, nil, ""))
	b.flowBed.phone.Send(t, b.phoneInDialog(b.phone, sip.BYE, 0, nil, ""))
	b.flowBed.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	bye := b.flowBed.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, b.pbx.callID))
	answer(t, b.flowBed.pbx, bye, 200, "OK", "", nil, "")
}

// A phone without 100rel and without an offer: natsbc does not offer
// 100rel on the B-leg (a reliable provisional could carry an offer only
// the phone could answer, in a PRACK it never sends).
func TestFlowNo100relForDelayedOfferWithout100rel(t *testing.T) {
	t.Parallel()
	b := startEarly(t, newFlowBed(t, nil), noOffer)
	if hasHeaderToken(b.inv, "Supported", "100rel") {
		t.Errorf("B-leg INVITE offers 100rel for a phone that cannot PRACK and made no offer:\n%s", b.inv)
	}
}
