package sbc

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/registrar"
)

// phoneReg is a phone's registration as the phone keeps it.
type phoneReg struct {
	callID string
	tag    string
	cseq   int
	user   string
}

func newPhoneReg(user string) *phoneReg {
	return &phoneReg{callID: "reg-" + randomHex(6), tag: randomHex(4), user: user}
}

// register writes the phone's next REGISTER (RFC 3261 §10.2: same Call-ID,
// CSeq up by one) with its private Contact and extra headers.
func (b *flowBed) register(r *phoneReg, expires int, extra ...string) string {
	r.cseq++
	hs := []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=z9hG4bK-reg" + randomHex(6),
		"Max-Forwards: 70",
		"From: <sip:" + r.user + "@example.com>;tag=" + r.tag,
		"To: <sip:" + r.user + "@example.com>",
		"Call-ID: " + r.callID,
		"CSeq: " + strconv.Itoa(r.cseq) + " REGISTER",
		"Contact: <sip:" + r.user + "@" + phoneViaHop + ">",
		"Expires: " + strconv.Itoa(expires),
	}
	return sipMsg("REGISTER sip:example.com SIP/2.0", append(hs, extra...), "")
}

// registerThrough has the phone register and the PBX grant pbxExpires; it
// returns natsbc's REGISTER as the PBX got it and the phone's 200.
func (b *flowBed) registerThrough(t *testing.T, r *phoneReg, expires, pbxExpires int) (sip.Message, sip.Message) {
	t.Helper()
	b.phone.Send(t, b.register(r, expires))
	got := b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID))
	c := contactOf(t, got)
	b.pbx.SendTo(t, b.inside, replyTo(got, 200, "OK", "pbx"+randomHex(3),
		[]string{"Contact: <" + c.String() + ">;expires=" + strconv.Itoa(pbxExpires)}, ""))
	ok := b.phone.Expect(t, wait, "200 to REGISTER", isResponse(200, sip.REGISTER))
	return got, ok
}

// pbxInvite is the PBX calling a registered contact (R-URI = natsbc's
// token Contact, as its location service stored it).
func (b *flowBed) pbxInvite(ruri string) (string, string) {
	cid := "pbxcall-" + randomHex(6)
	return cid, sipMsg("INVITE "+ruri+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-inv" + randomHex(6),
		"Max-Forwards: 70",
		"From: <sip:2000@example.com>;tag=" + randomHex(4),
		"To: <sip:alice@example.com>",
		"Call-ID: " + cid,
		"CSeq: 1 INVITE",
		"Contact: <sip:2000@" + b.pbx.addr().String() + ">",
		"Content-Type: application/sdp",
	}, sdpBody(pbxIP, 7000))
}

// A NATed phone's REGISTER reaches the PBX with natsbc's token Contact and
// nothing of the phone's address; its credentials pass untouched; the phone
// gets its own Contact back with the short NAT interval; the PBX's call to
// the token reaches the phone's real socket with the phone's own URI.
func TestFlowRegisterThenCalled(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	r := newPhoneReg("alice")
	auth := `Authorization: Digest username="alice", realm="example.com", nonce="abc", uri="sip:example.com", response="0123456789abcdef0123456789abcdef"`
	b.phone.Send(t, b.register(r, 3600, auth))
	got := b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID))
	req := got.(*sip.Request)

	c := contactOf(t, req)
	if uriAddr(t, c) != b.inside || !strings.HasPrefix(c.User, registrar.TokenPrefix) {
		t.Fatalf("Contact at the PBX = %s, want sip:<token>@%s", c.String(), b.inside)
	}
	if h := req.GetHeader("Authorization"); h == nil || "Authorization: "+h.Value() != auth {
		t.Errorf("Authorization changed on the way: %v", h)
	}
	if req.CSeq().SeqNo != 1 || req.From().Value() != "<sip:alice@example.com>;tag="+r.tag {
		t.Errorf("CSeq/From not the phone's: %s / %s", req.CSeq().Value(), req.From().Value())
	}
	for _, line := range headerLines(req) {
		if strings.Contains(line, privateIP) || strings.Contains(line, phoneIP) {
			t.Errorf("REGISTER at the PBX leaks the phone's address: %q", line)
		}
	}
	ch := req.GetHeader("Contact").(*sip.ContactHeader)
	if e, _ := ch.Params.Get("expires"); e != "" && e != "3600" {
		t.Errorf("PBX sees expires=%s, want the phone's 3600", e)
	}

	b.pbx.SendTo(t, b.inside, replyTo(req, 200, "OK", "pbx1", []string{"Contact: <" + c.String() + ">;expires=3600"}, ""))
	ok := b.phone.Expect(t, wait, "200 to REGISTER", isResponse(200, sip.REGISTER))
	pc := ok.GetHeaders("Contact")[0].(*sip.ContactHeader)
	if pc.Address.Host != privateIP || pc.Address.User != "alice" {
		t.Errorf("phone's 200 Contact = %s, want its own", pc.Value())
	}
	if e, _ := pc.Params.Get("expires"); e != "60" {
		t.Errorf("phone granted expires=%s, want the NAT interval 60", e)
	}
	rec, err := b.log.waitFor("binding registered", wait)
	if err != nil {
		t.Fatal(err)
	}
	if rec["nat"] != "NAT" || rec["aor"] != "sip:alice@example.com" || rec["source"] != b.phone.addr().String() {
		t.Errorf("binding registered = %v", rec)
	}
	if b.srv.Bindings() != 1 {
		t.Errorf("Bindings() = %d, want 1", b.srv.Bindings())
	}

	cid, inv := b.pbxInvite(c.String())
	b.pbx.SendTo(t, b.inside, inv)
	in := b.phone.Expect(t, wait, "INVITE at the phone", isRequest(sip.INVITE)).(*sip.Request)
	if in.Recipient.Host != privateIP || in.Recipient.User != "alice" {
		t.Errorf("phone's INVITE R-URI = %s, want its own Contact", in.Recipient.String())
	}
	if in.Via().SentBy() != b.outside.String() {
		t.Errorf("phone's INVITE Via = %s, want natsbc's outside socket", in.Via().SentBy())
	}
	b.phone.Send(t, replyTo(in, 486, "Busy Here", "ph1", nil, ""))
	b.pbx.Expect(t, wait, "486 at the PBX", func(m sip.Message) bool {
		res, isRes := m.(*sip.Response)
		return isRes && res.StatusCode == 486 && res.CallID().Value() == cid
	})
}

// The PBX's challenge reaches the phone untouched.
func TestFlowRegisterChallengeRelayed(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	r := newPhoneReg("bob")
	b.phone.Send(t, b.register(r, 3600))
	got := b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequest(sip.REGISTER))
	chal := `WWW-Authenticate: Digest realm="example.com", nonce="n0nce", algorithm=MD5, qop="auth"`
	b.pbx.SendTo(t, b.inside, replyTo(got, 401, "Unauthorized", "pbx1", []string{chal}, ""))
	res := b.phone.Expect(t, wait, "401 at the phone", isResponse(401, sip.REGISTER))
	if h := res.GetHeaders("WWW-Authenticate"); len(h) != 1 || "WWW-Authenticate: "+h[0].Value() != chal {
		t.Errorf("challenge changed: %v", h)
	}
	if b.srv.Bindings() != 0 {
		t.Errorf("a challenged REGISTER left %d bindings", b.srv.Bindings())
	}
}

// A refresh that changes nothing is answered by natsbc while the PBX
// binding has time left; one close to the PBX's expiry is sent on.
func TestFlowRegisterRefreshCached(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	r := newPhoneReg("carol")
	first, _ := b.registerThrough(t, r, 3600, 3600)

	b.phone.Send(t, b.register(r, 3600))
	ok := b.phone.Expect(t, wait, "cached 200", isResponse(200, sip.REGISTER))
	if ok.CSeq().SeqNo != 2 {
		t.Fatalf("200 for CSeq %d, want 2", ok.CSeq().SeqNo)
	}
	if got := b.pbx.TakeAll(isRequest(sip.REGISTER)); len(got) != 0 {
		t.Errorf("cached refresh reached the PBX: %v", got)
	}
	if recs := b.log.lines("binding refreshed"); len(recs) != 1 || recs[0]["forwarded"] != false {
		t.Errorf("binding refreshed lines = %v, want one with forwarded=false", recs)
	}

	// The PBX granted only 60 s: every refresh must reach it.
	r2 := newPhoneReg("dave")
	b.registerThrough(t, r2, 3600, 60)
	b.phone.Send(t, b.register(r2, 3600))
	fwd := b.pbx.Expect(t, wait, "forwarded refresh", isRequestIn(sip.REGISTER, r2.callID))
	if fwd.CSeq().SeqNo != 2 {
		t.Errorf("forwarded refresh CSeq %d, want the phone's 2", fwd.CSeq().SeqNo)
	}
	if contactOf(t, fwd).User == contactOf(t, first).User {
		t.Errorf("two AoRs share token %s", contactOf(t, fwd).User)
	}
}

// Un-registering removes the binding; calls to its token then get 480,
// calls to a token natsbc never issued get 404.
func TestFlowUnregisterThenCallRejected(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	r := newPhoneReg("erin")
	got, _ := b.registerThrough(t, r, 3600, 3600)
	token := contactOf(t, got)

	b.phone.Send(t, b.register(r, 0))
	un := b.pbx.Expect(t, wait, "un-REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID)).(*sip.Request)
	if e, _ := un.GetHeader("Contact").(*sip.ContactHeader).Params.Get("expires"); e != "0" && un.GetHeader("Expires").Value() != "0" {
		t.Errorf("un-REGISTER does not ask for 0: %s", un)
	}
	b.pbx.SendTo(t, b.inside, replyTo(un, 200, "OK", "pbx2", nil, ""))
	b.phone.Expect(t, wait, "200 to un-REGISTER", isResponse(200, sip.REGISTER))
	if rec, err := b.log.waitFor("binding removed", wait); err != nil || rec["reason"] != "unregistered" {
		t.Fatalf("binding removed = %v, %v", rec, err)
	}

	_, inv := b.pbxInvite(token.String())
	b.pbx.SendTo(t, b.inside, inv)
	b.pbx.Expect(t, wait, "480 for a removed binding", isResponse(480, sip.INVITE))

	forged := token
	forged.User = registrar.TokenPrefix + strings.Repeat("a", len(token.User)-len(registrar.TokenPrefix))
	_, inv = b.pbxInvite(forged.String())
	b.pbx.SendTo(t, b.inside, inv)
	b.pbx.Expect(t, wait, "404 for a forged token", isResponse(404, sip.INVITE))
}

// A phone that stops answering keepalives loses its binding after
// MaxMissed pings, and natsbc removes it at the PBX; a phone that answers
// keeps it.
func TestFlowKeepaliveDropsSilentPhone(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) {
		c.Keepalive.Interval = 100 * time.Millisecond
		c.Keepalive.MaxMissed = 2
		c.T1 = flowT1
	})
	r := newPhoneReg("frank")
	b.registerThrough(t, r, 3600, 3600)

	// The phone answers the first three pings.
	for i := range 3 {
		ping := b.phone.Expect(t, wait, "keepalive OPTIONS "+strconv.Itoa(i), isRequest(sip.OPTIONS)).(*sip.Request)
		if ping.Recipient.Host != privateIP {
			t.Errorf("keepalive R-URI %s, want the phone's Contact", ping.Recipient.String())
		}
		if cl := ping.ContentLength(); cl == nil || *cl != 0 {
			t.Errorf("keepalive OPTIONS Content-Length %v, want 0 (mandatory on TCP)", cl)
		}
		b.phone.Send(t, replyTo(ping, 200, "OK", "ka", nil, ""))
	}
	if n := len(b.log.lines("keepalive unanswered")); n != 0 {
		t.Errorf("%d unanswered keepalives logged while the phone answered", n)
	}
	// Then it goes silent.
	rec, err := b.log.waitFor("binding removed", 5*time.Second)
	if err != nil || rec["reason"] != "keepalive" {
		t.Fatalf("binding removed = %v, %v", rec, err)
	}
	un := b.pbx.Expect(t, wait, "un-REGISTER for the dead flow", func(m sip.Message) bool {
		req, ok := m.(*sip.Request)
		return ok && req.Method == sip.REGISTER && req.GetHeader("Expires") != nil && req.GetHeader("Expires").Value() == "0"
	}).(*sip.Request)
	if un.CallID().Value() != r.callID || un.CSeq().SeqNo <= uint32(r.cseq) {
		t.Errorf("un-REGISTER Call-ID/CSeq %s %d, want the phone's Call-ID and a higher CSeq", un.CallID().Value(), un.CSeq().SeqNo)
	}
	if b.srv.Bindings() != 0 {
		t.Errorf("Bindings() = %d after keepalive failure", b.srv.Bindings())
	}
	// The phone had answered: its flow is proven, and the unanswered
	// keepalives were retransmitted (T1 10 ms) so a lost datagram on a
	// lossy link does not cost a real phone its binding.
	if got := b.phone.TakeAll(isRequest(sip.OPTIONS)); len(got) <= 2 {
		t.Errorf("the proven phone got %d OPTIONS datagrams for 2 unanswered keepalives, want retransmissions", len(got))
	}
}

// A binding whose flow never answered a keepalive (a forged or vanished
// source) costs its address one datagram per keepalive, not a
// transaction's retransmissions: natsbc is no amplifier.
func TestFlowKeepaliveUnprovenIsOneDatagram(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) {
		c.Keepalive.Interval = 100 * time.Millisecond
		c.Keepalive.MaxMissed = 2
		c.T1 = flowT1
	})
	b.registerThrough(t, newPhoneReg("ghost"), 3600, 3600)
	rec, err := b.log.waitFor("binding removed", 5*time.Second)
	if err != nil || rec["reason"] != "keepalive" {
		t.Fatalf("binding removed = %v, %v", rec, err)
	}
	if got := b.phone.TakeAll(isRequest(sip.OPTIONS)); len(got) != 2 {
		t.Errorf("the silent address got %d OPTIONS datagrams for 2 unanswered keepalives, want 2", len(got))
	}
}

// A binding the phone does not refresh expires.
func TestFlowBindingExpires(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	r := newPhoneReg("grace")
	b.registerThrough(t, r, 1, 1)
	rec, err := b.log.waitFor("binding removed", 5*time.Second)
	if err != nil || rec["reason"] != "expired" {
		t.Fatalf("binding removed = %v, %v", rec, err)
	}
	b.pbx.Expect(t, wait, "un-REGISTER for the expired binding", isRequestIn(sip.REGISTER, r.callID))
}

// registrations.max_per_source: one address may hold that many bindings; a
// REGISTER that would add more gets 503 from natsbc and never reaches the
// PBX (svwar's REGISTERs from one scanner stop making bindings there),
// while the phone's refresh still passes.
func TestFlowBindingsPerSourceBounded(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.Registrations.MaxPerSource = 1 })
	alice := newPhoneReg("alice")
	b.registerThrough(t, alice, 3600, 3600)
	bob := newPhoneReg("bob")
	b.phone.Send(t, b.register(bob, 3600))
	b.phone.Expect(t, wait, "503 for a second binding from one address", isResponse(503, sip.REGISTER))
	if got := b.pbx.TakeAll(isRequestIn(sip.REGISTER, bob.callID)); len(got) != 0 {
		t.Fatalf("the PBX got bob's REGISTER over the bound")
	}
	b.phone.Send(t, b.register(alice, 3600))
	b.phone.Expect(t, wait, "200 to alice's refresh at the bound", isResponse(200, sip.REGISTER))
	if n := b.srv.Bindings(); n != 1 {
		t.Errorf("Bindings() = %d, want 1", n)
	}
}

// The PBX learns each request's real source in X-Real-Source (a forged one
// from the phone is replaced), and a phone that keeps failing digest
// authentication is banned: its next REGISTER never reaches the PBX.
func TestFlowRealSourceAndBruteForceBan(t *testing.T) {
	t.Parallel()
	b := newFlowBedWith(t, func(c *Config) { c.RealSourceHeader = "X-Real-Source" }, func(o *Options, _ netip.AddrPort) {
		o.Security = ingress.ShieldConfig{AuthFailures: 3, AuthWindow: time.Minute, BanTime: time.Hour}
	})
	r := newPhoneReg("mallory")
	auth := `Authorization: Digest username="mallory", realm="example.com", nonce="abc", uri="sip:example.com", response="00000000000000000000000000000000"`
	for i := range 3 {
		b.phone.Send(t, b.register(r, 3600, auth, "X-Real-Source: 10.9.9.9:5060;transport=udp"))
		got := b.pbx.Expect(t, wait, "REGISTER "+strconv.Itoa(i)+" at the PBX", isRequestIn(sip.REGISTER, r.callID)).(*sip.Request)
		hs := got.GetHeaders("X-Real-Source")
		if want := b.phone.addr().String() + ";transport=udp"; len(hs) != 1 || hs[0].Value() != want {
			t.Fatalf("X-Real-Source at the PBX %v, want one: %s", hs, want)
		}
		b.pbx.SendTo(t, b.inside, replyTo(got, 401, "Unauthorized", "pbx1", []string{`WWW-Authenticate: Digest realm="example.com", nonce="n` + strconv.Itoa(i) + `"`}, ""))
		b.phone.Expect(t, wait, "401 at the phone", isResponse(401, sip.REGISTER))
	}
	if st := b.srv.Shield().Stats(); st.AuthFailures != 3 || st.Bans != 1 {
		t.Fatalf("shield stats %+v, want 3 failures and a ban", st)
	}
	b.phone.Send(t, b.register(r, 3600, auth))
	b.phone.Send(t, options(b.phone, b.outside))
	if _, err := b.log.waitFor("source banned", wait); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for b.srv.Shield().Stats().DroppedBanned < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the banned phone's datagrams were not dropped: %+v", b.srv.Shield().Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if got := b.pbx.TakeAll(isRequestIn(sip.REGISTER, r.callID)); len(got) != 0 {
		t.Fatalf("the PBX got %d REGISTERs from the banned phone", len(got))
	}
}

// Issue 12, item 7: a UDP source proves that it receives at its address
// only by sending back what natsbc sent there: the nonce of a challenge
// relayed to it, or the To tag of a 2xx (in its ACK). A 2xx of the PBX to
// a request with made-up credentials proves nothing.
func TestFlowSourceProof(t *testing.T) {
	t.Parallel()
	security := func(o *Options, _ netip.AddrPort) { o.Security = ingress.ShieldConfig{UnprovenCredit: 16384} }
	t.Run("nonce", func(t *testing.T) {
		t.Parallel()
		b := newFlowBedWith(t, nil, security)
		r := newPhoneReg("erin")
		guess := `Authorization: Digest username="erin", realm="example.com", nonce="guessed", uri="sip:example.com", response="00000000000000000000000000000000"`
		b.phone.Send(t, b.register(r, 3600, guess))
		got := b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID))
		c := contactOf(t, got)
		b.pbx.SendTo(t, b.inside, replyTo(got, 200, "OK", "pbx1", []string{"Contact: <" + c.String() + ">;expires=60"}, ""))
		b.phone.Expect(t, wait, "200 at the phone", isResponse(200, sip.REGISTER))
		if b.srv.Shield().Proven(b.phone.addr().Addr()) {
			t.Fatal("a 2xx to made-up credentials proved the source")
		}
		// A challenge that repeats the nonce the request made up (a PBX
		// with nonces that are the same for everyone) proves nothing.
		echo := `Authorization: Digest username="erin", realm="example.com", nonce="n-everyone", uri="sip:example.com", response="00000000000000000000000000000000"`
		b.phone.Send(t, b.register(r, 3600, echo))
		got = b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID))
		b.pbx.SendTo(t, b.inside, replyTo(got, 401, "Unauthorized", "pbx1", []string{`WWW-Authenticate: Digest realm="example.com", nonce="n-everyone"`}, ""))
		b.phone.Expect(t, wait, "401 at the phone", isResponse(401, sip.REGISTER))
		if b.srv.Shield().Proven(b.phone.addr().Addr()) {
			t.Fatal("a request whose own challenge repeated its nonce proved the source")
		}
		b.phone.Send(t, b.register(r, 3600))
		got = b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID))
		b.pbx.SendTo(t, b.inside, replyTo(got, 401, "Unauthorized", "pbx1", []string{`WWW-Authenticate: Digest realm="example.com", nonce="n-relayed"`}, ""))
		b.phone.Expect(t, wait, "401 at the phone", isResponse(401, sip.REGISTER))
		answer := `Authorization: Digest username="erin", realm="example.com", nonce="n-relayed", uri="sip:example.com", response="00000000000000000000000000000000"`
		b.phone.Send(t, b.register(r, 3600, answer))
		got = b.pbx.Expect(t, wait, "REGISTER with the relayed nonce at the PBX", isRequestIn(sip.REGISTER, r.callID))
		b.pbx.SendTo(t, b.inside, replyTo(got, 403, "Forbidden", "pbx1", nil, ""))
		b.phone.Expect(t, wait, "403 at the phone", isResponse(403, sip.REGISTER))
		if !b.srv.Shield().Proven(b.phone.addr().Addr()) {
			t.Fatal("the source that sent back the relayed nonce is not proven")
		}
	})
	t.Run("ACK", func(t *testing.T) {
		t.Parallel()
		b := newFlowBedWith(t, nil, security)
		tr := b.ringAndAnswer(t)
		if b.srv.Shield().Proven(b.phone.addr().Addr()) {
			t.Fatal("proven before its ACK")
		}
		b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
		deadline := time.Now().Add(wait)
		for !b.srv.Shield().Proven(b.phone.addr().Addr()) {
			if time.Now().After(deadline) {
				t.Fatal("the ACK with natsbc's To tag did not prove its source")
			}
			time.Sleep(time.Millisecond)
		}
	})
}
