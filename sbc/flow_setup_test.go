package sbc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// Flow tests run a real Server on loopback UDP sockets between two scripted
// peers:
//
//	phone 127.0.0.3 ──▶ natsbc outside 127.0.0.2 │ natsbc inside 127.0.0.1 ◀──▶ pbx 127.0.0.1
//
// The phone writes 192.168.1.10:5060 in its Via and Contact while its socket
// is 127.0.0.3:<ephemeral>: to natsbc it looks like a phone behind a NAT.
const (
	flowT1 = 10 * time.Millisecond
	flowT2 = 80 * time.Millisecond
	flowT4 = 100 * time.Millisecond

	phoneIP     = "127.0.0.3"
	pbxIP       = "127.0.0.1"
	outsideIP   = "127.0.0.2"
	insideIP    = "127.0.0.1"
	privateIP   = "192.168.1.10"
	phoneViaHop = privateIP + ":5060"

	// wait bounds one expected message; every step normally takes
	// milliseconds, so this only matters when something is lost.
	wait = 2 * time.Second
)

// TestMain shortens sipgo's transaction timers (package globals) to match
// the Config timers the flow tests give the Server: 64*T1 = 640 ms; and
// sets sipgo's size limits as cmd does (TCP messages up to 1 MiB).
func TestMain(m *testing.M) {
	sip.SetTimers(flowT1, flowT2, flowT4)
	SetSipgoSizeLimits(1 << 20)
	os.Exit(m.Run())
}

// loopRouter faces the PBX from the inside socket and everyone else from
// the outside one, like a netlink route look-up on a two-interface host.
type loopRouter struct{ pbx netip.Addr }

func (r loopRouter) SourceFor(dst netip.Addr) (netip.Addr, error) {
	if dst == r.pbx {
		return netip.MustParseAddr(insideIP), nil
	}
	return netip.MustParseAddr(outsideIP), nil
}

// flowBed is one Server with its two peers.
type flowBed struct {
	srv             *Server
	log             *logSink
	phone, pbx      *testPeer
	outside, inside netip.AddrPort
}

// newFlowBed starts a Server; mod may adjust its Config. Cleanup shuts it
// down and, if the test failed, prints its log.
func newFlowBed(t *testing.T, mod func(*Config)) *flowBed {
	t.Helper()
	return newFlowBedWith(t, mod, nil)
}

// newFlowBedWith also lets the test adjust the Server's Options (policy,
// media anchor) before it starts; modOpts learns the PBX's address.
func newFlowBedWith(t *testing.T, mod func(*Config), modOpts func(o *Options, pbx netip.AddrPort)) *flowBed {
	t.Helper()
	b := &flowBed{log: newLogSink()}
	b.phone = newTestPeer(t, "phone", phoneIP)
	b.pbx = newTestPeer(t, "pbx", pbxIP)
	b.srv, b.outside, b.inside = startFlowServerWith(t, b.log, b.pbx.addr(), mod, modOpts)
	b.phone.target = b.outside
	b.pbx.target = b.inside
	b.waitServing(t)
	return b
}

// waitServing pings both sockets until natsbc answers: Start returns before
// sipgo serves them (see TestFlowFirstInviteAfterStart), so without this
// every flow would race natsbc's own start-up.
func (b *flowBed) waitServing(t *testing.T) {
	t.Helper()
	for _, p := range []*testPeer{b.phone, b.pbx} {
		p.Send(t, options(p, p.target))
		p.Expect(t, wait, "200 OK for OPTIONS", isResponse(200, sip.OPTIONS))
	}
}

// options is an out-of-dialog OPTIONS from p to natsbc's socket dst.
func options(p *testPeer, dst netip.AddrPort) string {
	return sipMsg("OPTIONS sip:"+dst.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + p.addr().String() + ";branch=z9hG4bK-opt" + randomHex(6) + ";rport",
		"Max-Forwards: 70",
		"From: <sip:ping@" + p.addr().String() + ">;tag=" + randomHex(4),
		"To: <sip:" + dst.String() + ">",
		"Call-ID: " + randomHex(8),
		"CSeq: 1 OPTIONS",
	}, "")
}

func startFlowServer(t *testing.T, sink *logSink, pbxAddr netip.AddrPort, mod func(*Config)) (*Server, netip.AddrPort, netip.AddrPort) {
	t.Helper()
	return startFlowServerWith(t, sink, pbxAddr, mod, nil)
}

func startFlowServerWith(t *testing.T, sink *logSink, pbxAddr netip.AddrPort, mod func(*Config), modOpts func(o *Options, pbx netip.AddrPort)) (*Server, netip.AddrPort, netip.AddrPort) {
	t.Helper()
	pol, err := policy.New(policy.Config{Peers: []policy.Peer{{
		Name:     "pbx",
		Networks: []netip.Prefix{netip.PrefixFrom(pbxAddr.Addr(), 32)},
		Address:  pbxAddr.String(),
		Role:     policy.RolePBX,
	}}})
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	outside, outPC := listenUDP(t, outsideIP)
	inside, inPC := listenUDP(t, insideIP)
	cfg := Config{T1: flowT1, T2: flowT2, T4: flowT4, DrainTimeout: 100 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	opts := Options{
		Config: cfg,
		Listeners: []Listener{
			{Spec: ListenSpec{Name: "outside", Network: "udp", Addr: outside}, Packet: outPC},
			{Spec: ListenSpec{Name: "inside", Network: "udp", Addr: inside}, Packet: inPC},
		},
		Policy: pol,
		Router: loopRouter{pbx: pbxAddr.Addr()},
		Logger: slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if modOpts != nil {
		modOpts(&opts, pbxAddr)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("sbc.New: %v", err)
	}
	srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		// Every way a call of any flow test ended gave its slot back.
		if n := srv.admit.held(); n != 0 {
			t.Errorf("%d call slots still held after Shutdown", n)
		}
		if t.Failed() {
			t.Logf("natsbc log:\n%s", sink.String())
		}
	})
	return srv, outside, inside
}

func listenUDP(t *testing.T, ip string) (netip.AddrPort, net.PacketConn) {
	t.Helper()
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatalf("listen %s: %v", ip, err)
	}
	return pc.LocalAddr().(*net.UDPAddr).AddrPort(), pc
}

// phoneCall is what the phone knows of its A-leg dialog.
type phoneCall struct {
	callID, tag, branch string
	aTag                string  // natsbc's tag on the A-leg
	aContact            sip.Uri // natsbc's Contact towards the phone
	cseq                int
}

// pbxCall is what the PBX knows of its B-leg dialog.
type pbxCall struct {
	invite   *sip.Request // the B-leg INVITE natsbc sent
	callID   string
	bTag     string  // natsbc's tag on the B-leg
	tag      string  // the PBX's own tag
	bContact sip.Uri // natsbc's Contact towards the PBX
	cseq     int
}

// setUpTrace holds every message of the call set-up, for assertions.
type setUpTrace struct {
	phoneInvite         string
	trying, ringing, ok sip.Message // what the phone got
	bInvite, bAck       sip.Message // what the PBX got
	pbxRinging, pbxOK   string      // what the PBX sent
	phone               *phoneCall
	pbx                 *pbxCall
}

func newPhoneCall() *phoneCall {
	return &phoneCall{callID: randomHex(8) + "@" + privateIP, tag: "ph" + randomHex(4), branch: "z9hG4bK-ph" + randomHex(6), cseq: 1}
}

// invite is the phone's initial INVITE: Via and Contact name its private
// address, no rport.
func (b *flowBed) invite(pc *phoneCall) string {
	return b.inviteWith(pc, sdpBody(privateIP, 4000))
}

// inviteWith is the phone's initial INVITE with body sdp.
func (b *flowBed) inviteWith(pc *phoneCall, sdp string) string {
	return sipMsg("INVITE sip:1000@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + pc.branch,
		"Max-Forwards: 70",
		"From: \"Phone\" <sip:2000@" + privateIP + ">;tag=" + pc.tag,
		"To: <sip:1000@" + b.outside.String() + ">",
		"Call-ID: " + pc.callID,
		"CSeq: 1 INVITE",
		"Contact: <sip:2000@" + phoneViaHop + ">",
		"Content-Type: application/sdp",
	}, sdp)
}

// ackFinal is the phone's ACK of a non-2xx final response to its initial
// INVITE: in the INVITE's transaction (same branch), with the response's
// To tag (RFC 3261 §17.1.1.3).
func (b *flowBed) ackFinal(pc *phoneCall, final sip.Message) string {
	return sipMsg("ACK sip:1000@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + pc.branch,
		"Max-Forwards: 70",
		"From: \"Phone\" <sip:2000@" + privateIP + ">;tag=" + pc.tag,
		"To: " + final.To().Value(),
		"Call-ID: " + pc.callID,
		"CSeq: 1 ACK",
	}, "")
}

// ringAndAnswer plays the call set-up up to the 2xx reaching the phone and
// natsbc's ACK reaching the PBX. The phone has not ACKed yet.
func (b *flowBed) ringAndAnswer(t *testing.T) *setUpTrace {
	t.Helper()
	tr := &setUpTrace{phone: newPhoneCall()}
	tr.phoneInvite = b.invite(tr.phone)
	b.phone.Send(t, tr.phoneInvite)
	tr.trying = b.phone.Expect(t, wait, "100 Trying", isResponse(100, sip.INVITE))

	tr.bInvite = b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	inv := tr.bInvite.(*sip.Request)
	tr.pbx = &pbxCall{invite: inv, callID: inv.CallID().Value(), bTag: fromTagOf(inv),
		tag: "pbx" + randomHex(4), bContact: contactOf(t, inv), cseq: 100}
	pbxContact := "Contact: <sip:1000@" + b.pbx.addr().String() + ">"
	tr.pbxRinging = replyTo(inv, 180, "Ringing", tr.pbx.tag, []string{pbxContact}, "")
	b.pbx.SendTo(t, parseAddrPort(inv.Source()), tr.pbxRinging)
	tr.ringing = b.phone.Expect(t, wait, "180 Ringing", isResponse(180, sip.INVITE))

	tr.pbxOK = replyTo(inv, 200, "OK", tr.pbx.tag,
		[]string{pbxContact, "Content-Type: application/sdp"}, sdpBody(pbxIP, 6000))
	b.pbx.SendTo(t, parseAddrPort(inv.Source()), tr.pbxOK)
	tr.ok = b.phone.Expect(t, wait, "200 OK for INVITE", isResponse(200, sip.INVITE))
	tr.phone.aTag = toTagOf(tr.ok)
	tr.phone.aContact = contactOf(t, tr.ok)
	tr.bAck = b.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, tr.pbx.callID))
	return tr
}

// establish sets a call up and has the phone ACK it.
func (b *flowBed) establish(t *testing.T) *setUpTrace {
	t.Helper()
	tr := b.ringAndAnswer(t)
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
	return tr
}

// phoneInDialog is a request of the phone within the A-leg dialog, sent to
// natsbc's Contact. seq 0 takes the phone's next CSeq.
func (b *flowBed) phoneInDialog(pc *phoneCall, method sip.RequestMethod, seq int, extra []string, body string) string {
	if seq == 0 {
		pc.cseq++
		seq = pc.cseq
	}
	hs := []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=z9hG4bK-ph" + randomHex(6),
		"Max-Forwards: 70",
		"From: \"Phone\" <sip:2000@" + privateIP + ">;tag=" + pc.tag,
		"To: <sip:1000@" + b.outside.String() + ">;tag=" + pc.aTag,
		"Call-ID: " + pc.callID,
		fmt.Sprintf("CSeq: %d %s", seq, method),
	}
	return sipMsg(string(method)+" "+pc.aContact.String()+" SIP/2.0", append(hs, extra...), body)
}

// pbxInDialog is a request of the PBX within the B-leg dialog, addressed to
// natsbc's B-leg Contact.
func (b *flowBed) pbxInDialog(pc *pbxCall, method sip.RequestMethod, extra []string, body string) string {
	pc.cseq++
	hs := []string{
		"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-pbx" + randomHex(6) + ";rport",
		"Max-Forwards: 70",
		"From: " + pc.invite.To().Value() + ";tag=" + pc.tag,
		"To: " + pc.invite.From().Value(),
		"Call-ID: " + pc.callID,
		fmt.Sprintf("CSeq: %d %s", pc.cseq, method),
	}
	return sipMsg(string(method)+" "+pc.bContact.String()+" SIP/2.0", append(hs, extra...), body)
}

// uriAddr is where a SIP URI points (no DNS: the tests use IP literals).
func uriAddr(t *testing.T, u sip.Uri) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(uriHostPort(u))
	if err != nil {
		t.Fatalf("URI %s: %v", u.String(), err)
	}
	return ap
}

// answer sends a response from p back to where req came from.
func answer(t *testing.T, p *testPeer, req sip.Message, code int, reason, tag string, extra []string, body string) {
	t.Helper()
	p.SendTo(t, parseAddrPort(req.Source()), replyTo(req, code, reason, tag, extra, body))
}

// waitGoroutines waits until at most n goroutines run, failing with every
// goroutine's stack when the deadline passes.
func waitGoroutines(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := runtime.NumGoroutine()
		if got <= n {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running after %v, want <= %d:\n%s", got, timeout, n, buf)
		}
		// Goroutine exit is no event a test can wait on: poll briefly.
		time.Sleep(5 * time.Millisecond)
	}
}

func headerLines(m sip.Message) []string {
	return strings.Split(strings.SplitN(m.String(), "\r\n\r\n", 2)[0], "\r\n")
}

func uriString(u sip.Uri) string { return u.String() }
