package sbc

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/certs/certstest"
	"github.com/natsbc/natsbc/policy"
)

// streamCaller is what a phone on a stream connection knows of its calls.
type streamCaller struct {
	contact, via, user string
}

func (c streamCaller) request(method, ruri, callID, fromTag, to string, seq int, extra []string, body string) string {
	hs := []string{
		"Via: " + c.via + ";branch=z9hG4bK-" + randomHex(6),
		"Max-Forwards: 70",
		"From: <sip:" + c.user + "@example.com>;tag=" + fromTag,
		"To: " + to,
		"Call-ID: " + callID,
		fmt.Sprintf("CSeq: %d %s", seq, method),
	}
	if method == "INVITE" || method == "REGISTER" {
		hs = append(hs, "Contact: <"+c.contact+">")
	}
	return sipMsg(method+" "+ruri+" SIP/2.0", append(hs, extra...), body)
}

// register has the phone register through natsbc and the PBX grant it;
// it returns natsbc's token Contact at the PBX.
func (b *streamBed) register(t *testing.T, p *streamPhone, c streamCaller) sip.Uri {
	t.Helper()
	callID := "reg-" + randomHex(6)
	p.Send(t, c.request("REGISTER", "sip:example.com", callID, randomHex(4), "<sip:"+c.user+"@example.com>", 1, []string{"Expires: 600"}, ""))
	got := b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequestIn(sip.REGISTER, callID))
	token := contactOf(t, got)
	if uriAddr(t, token) != b.inside {
		t.Fatalf("token Contact at the PBX = %s; want natsbc's inside socket", token.String())
	}
	for _, line := range headerLines(got) {
		if strings.Contains(line, ".invalid") || strings.Contains(line, phoneIP) {
			t.Errorf("REGISTER at the PBX leaks the phone's flow: %q", line)
		}
	}
	b.pbx.SendTo(t, b.inside, replyTo(got, 200, "OK", "pbx"+randomHex(3), []string{"Contact: <" + token.String() + ">;expires=600"}, ""))
	p.Expect(t, "200 to REGISTER", isResponse(200, sip.REGISTER))
	return token
}

// A phone over TLS registers (the PBX gets natsbc's token Contact), calls
// the UDP PBX, and the PBX's BYE reaches it on the connection it opened:
// natsbc's Contact towards it says transport=tls, and natsbc never opens a
// connection to the phone's Contact, though that address listens (sipgo
// #361).
func TestTLSPhoneCallByeOnItsOwnConnection(t *testing.T) {
	t.Parallel()
	b := newStreamBed(t, streamBedOpts{networks: []string{"tls"}})
	phonePair := b.ca.Issue(t, b.dir, "phone", phoneIP)
	own := newCountingTLS(t, phoneIP, &tls.Config{Certificates: []tls.Certificate{phonePair.TLS}})
	p := b.dialTLSPhone(t)
	c := streamCaller{user: "alice", contact: "sip:alice@" + own.addr().String() + ";transport=tls", via: "SIP/2.0/TLS " + own.addr().String()}

	b.register(t, p, c)
	if rec, err := b.log.waitFor("binding registered", wait); err != nil || rec["transport"] != "tls" {
		t.Fatalf("binding registered = %v, %v", rec, err)
	}
	// RFC 5626 §3.5.1 over TLS: a double-CRLF ping gets a CRLF pong.
	p.Send(t, "\r\n\r\n")
	p.answered(t, "a double CRLF")

	callID, tag := "tls-"+randomHex(6), "ph"+randomHex(4)
	p.Send(t, c.request("INVITE", "sip:1000@example.com", callID, tag, "<sip:1000@example.com>", 1,
		[]string{"Content-Type: application/sdp"}, sdpBody(phoneIP, 4000)))
	bInv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	pbxTag := "pbx" + randomHex(3)
	b.pbx.SendTo(t, parseAddrPort(bInv.Source()), replyTo(bInv, 200, "OK", pbxTag,
		[]string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">", "Content-Type: application/sdp"}, sdpBody(pbxIP, 6000)))
	ok := p.Expect(t, "200 to INVITE", isResponse(200, sip.INVITE))
	aContact := contactOf(t, ok)
	if tr, _ := aContact.UriParams.Get("transport"); tr != "tls" || uriAddr(t, aContact) != b.sockets["tls"] {
		t.Errorf("natsbc's Contact towards the phone = %s; want its TLS socket with transport=tls", aContact.String())
	}
	p.Send(t, c.request("ACK", aContact.String(), callID, tag, ok.To().Value(), 1, nil, ""))
	b.pbx.Expect(t, wait, "natsbc's ACK", isRequestIn(sip.ACK, bInv.CallID().Value()))

	bContact := contactOf(t, bInv)
	b.pbx.SendTo(t, b.inside, sipMsg("BYE "+bContact.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-bye" + randomHex(4) + ";rport",
		"Max-Forwards: 70",
		"From: " + bInv.To().Value() + ";tag=" + pbxTag,
		"To: " + bInv.From().Value(),
		"Call-ID: " + bInv.CallID().Value(),
		"CSeq: 2 BYE",
	}, ""))
	bye := p.Expect(t, "BYE on the phone's connection", isRequestIn(sip.BYE, callID)).(*sip.Request)
	if bye.Recipient.String() != c.contact {
		t.Errorf("BYE R-URI = %s; want the phone's Contact %s", bye.Recipient.String(), c.contact)
	}
	if v := bye.Via(); v.Transport != "TLS" || !v.Params.Has("alias") {
		t.Errorf("BYE Via = %s; want TLS with alias (RFC 5923)", v.Value())
	}
	p.Send(t, replyTo(bye, 200, "OK", "", nil, ""))
	b.pbx.Expect(t, wait, "200 to the BYE", isResponse(200, sip.BYE))
	if n := own.accepted.Load(); n != 0 {
		t.Errorf("natsbc opened %d connection(s) to the phone's Contact; want none", n)
	}
	if st := b.srv.Stats().TCP; st.Open != 1 {
		t.Errorf("natsbc holds %d stream connections; want the phone's one", st.Open)
	}
	if got := b.srv.Stats().Ops.Messages["tls"]; got[0] < 3 || got[1] < 3 {
		t.Errorf("tls messages counted in/out = %v", got)
	}
}

// trunkBed is a UDP phone calling through natsbc to a trunk over TLS that
// requires a client certificate of the test CA (mutual TLS).
type trunkBed struct {
	*flowBed
	trunk    *countingTLS
	natsbcIn netip.AddrPort // natsbc's TLS socket facing the trunk
}

// newTrunkBed: the trunk's certificate names trunkNames; natsbc checks the
// name trunk.example and shows its client certificate when withCert.
func newTrunkBed(t *testing.T, trunkNames []string, withCert bool) *trunkBed {
	t.Helper()
	b := &trunkBed{flowBed: &flowBed{log: newLogSink()}}
	dir := t.TempDir()
	ca := certstest.NewCA(t, dir, "test")
	trunkPair := ca.Issue(t, dir, "trunk", trunkNames...)
	b.trunk = newCountingTLS(t, pbxIP, &tls.Config{Certificates: []tls.Certificate{trunkPair.TLS},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()})
	natsbcPair := ca.Issue(t, dir, "natsbc", insideIP)
	tlsc := certs.Client{CAFile: ca.File, ServerName: "trunk.example"}
	if withCert {
		client := ca.Issue(t, dir, "natsbc-client", "natsbc.example")
		tlsc.CertFile, tlsc.KeyFile = client.CertFile, client.KeyFile
	}
	b.phone = newTestPeer(t, "phone", phoneIP)
	store := certs.NewStore(nil)
	t.Cleanup(store.Close)
	serverTLS, err := store.ServerConfig(certs.Server{CertFile: natsbcPair.CertFile, KeyFile: natsbcPair.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{
		Peers: []policy.Peer{{Name: "trunk", Networks: []netip.Prefix{netip.MustParsePrefix(pbxIP + "/32")},
			Address: b.trunk.addr().String(), Transport: "tls", Role: policy.RoleTrunk}},
		Routes: []policy.Route{{From: policy.Any, To: "trunk"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var outPC net.PacketConn
	b.outside, outPC = listenUDP(t, outsideIP)
	ln, err := tls.Listen("tcp", insideIP+":0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	b.natsbcIn = ln.Addr().(*net.TCPAddr).AddrPort()
	b.srv, err = New(Options{
		Config: Config{T1: flowT1, T2: flowT2, T4: flowT4, DrainTimeout: 100 * time.Millisecond,
			PeerTLS: map[string]certs.Client{"trunk": tlsc}},
		Listeners: []Listener{
			{Spec: ListenSpec{Name: "outside", Network: "udp", Addr: b.outside}, Packet: outPC},
			{Spec: ListenSpec{Name: "inside", Network: "tls", Addr: b.natsbcIn}, Stream: ln},
		},
		Policy: pol, Certs: store,
		Router: loopRouter{pbx: netip.MustParseAddr(pbxIP)},
		Logger: slog.New(slog.NewJSONHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.srv.Shutdown(ctx)
		if t.Failed() {
			t.Logf("natsbc log:\n%s", b.log.String())
		}
	})
	b.phone.target = b.outside
	b.phone.Send(t, options(b.phone, b.outside))
	b.phone.Expect(t, wait, "200 OK for OPTIONS", isResponse(200, sip.OPTIONS))
	return b
}

// natsbc opens TLS to a trunk that requires a client certificate, shows
// its own, checks the trunk's name (RFC 5922 §7.2), and the trunk's BYE on
// the connection the trunk accepted ends the call: one connection in all.
func TestTLSTrunkMutualTLSByeOnTheSameConnection(t *testing.T) {
	t.Parallel()
	b := newTrunkBed(t, []string{"trunk.example"}, true)
	tr := &setUpTrace{phone: newPhoneCall()}
	b.phone.Send(t, b.invite(tr.phone))
	inv := b.trunk.Expect(t, "INVITE at the trunk", isRequest(sip.INVITE))
	req := inv.msg.(*sip.Request)
	if v := req.Via(); v.Transport != "TLS" || !v.Params.Has("alias") || v.SentBy() != b.natsbcIn.String() {
		t.Errorf("trunk's INVITE Via = %s; want TLS from natsbc's TLS socket %s, with alias", v.Value(), b.natsbcIn)
	}
	bContact := contactOf(t, req)
	if tr, _ := bContact.UriParams.Get("transport"); tr != "tls" || uriAddr(t, bContact) != b.natsbcIn {
		t.Errorf("natsbc's Contact at the trunk = %s; want its TLS socket with transport=tls", bContact.String())
	}
	if state := inv.conn.(*tls.Conn).ConnectionState(); len(state.PeerCertificates) == 0 || state.PeerCertificates[0].DNSNames[0] != "natsbc.example" {
		t.Errorf("natsbc's client certificate at the trunk: %v", state.PeerCertificates)
	}
	tag := "tr" + randomHex(4)
	write := func(m string) {
		if _, err := inv.conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	write(replyTo(req, 200, "OK", tag, []string{"Contact: <sip:carrier@" + b.trunk.addr().String() + ";transport=tls>",
		"Content-Type: application/sdp"}, sdpBody(pbxIP, 6000)))
	ok := b.phone.Expect(t, wait, "200 at the phone", isResponse(200, sip.INVITE))
	tr.phone.aTag, tr.phone.aContact = toTagOf(ok), contactOf(t, ok)
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
	ack := b.trunk.Expect(t, "natsbc's ACK", isRequest(sip.ACK))
	if ack.conn != inv.conn {
		t.Error("natsbc's ACK came on another connection")
	}
	// The trunk hangs up, on the connection it accepted.
	write(sipMsg("BYE "+bContact.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/TLS " + b.trunk.addr().String() + ";branch=z9hG4bK-bye" + randomHex(4),
		"Max-Forwards: 70",
		"From: " + req.To().Value() + ";tag=" + tag,
		"To: " + req.From().Value(),
		"Call-ID: " + req.CallID().Value(),
		"CSeq: 2 BYE",
	}, ""))
	bye := b.phone.Expect(t, wait, "BYE at the phone", isRequestIn(sip.BYE, tr.phone.callID))
	b.phone.Send(t, replyTo(bye, 200, "OK", "", nil, ""))
	res := b.trunk.Expect(t, "200 to the trunk's BYE", isResponse(200, sip.BYE))
	if res.conn != inv.conn {
		t.Error("the 200 to the trunk's BYE came on another connection")
	}
	if n := b.trunk.accepted.Load(); n != 1 {
		t.Errorf("the trunk accepted %d connections; want 1", n)
	}
	if st := b.srv.Stats().TCP; st.Open != 0 {
		t.Errorf("natsbc's TLS socket holds %d connections; the trunk should have opened none", st.Open)
	}
	if rec, err := b.log.waitFor("TLS connection to peer opened", wait); err != nil || rec["client_certificate"] != true || rec["server_name"] != "trunk.example" {
		t.Errorf("TLS connection to peer opened = %v, %v", rec, err)
	}
}

// Without its client certificate natsbc's connection is refused, and the
// caller hears 503 at once with a log line that says why; a trunk whose
// certificate names another host is refused by natsbc (RFC 5922 §7.2).
func TestTLSTrunkRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		names    []string
		withCert bool
		why      string
	}{
		{"no client certificate", []string{"trunk.example"}, false, "refused natsbc's client certificate"},
		{"certificate for another name", []string{"other.example", pbxIP}, true, "trunk.example"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newTrunkBed(t, tt.names, tt.withCert)
			start := time.Now()
			b.phone.Send(t, b.invite(newPhoneCall()))
			b.phone.Expect(t, wait, "503 at the phone", isResponse(503, sip.INVITE))
			if d := time.Since(start); d > 64*flowT1 {
				t.Errorf("503 after %v; want it before a transaction timeout", d)
			}
			rec, err := b.log.waitFor("TLS connection to peer failed", wait)
			if err != nil || !strings.Contains(fmt.Sprint(rec["error"]), tt.why) {
				t.Errorf("TLS connection to peer failed = %v, %v; want an error saying %q", rec, err, tt.why)
			}
		})
	}
}

// A request to a tls peer whose own connection (from its client port) is
// gone goes to where the peer listens, never to that client port.
func TestTLSPeerReachedAtItsListener(t *testing.T) {
	t.Parallel()
	b := newTrunkBed(t, []string{"trunk.example"}, true)
	listener := b.trunk.addr().String()
	for dst, want := range map[string]string{
		pbxIP + ":54321":  listener,          // the trunk's client port
		listener:          listener,          // already its listener
		phoneIP + ":5061": phoneIP + ":5061", // no tls peer: as it is
	} {
		if got := b.srv.tlsListenerOf(dst); got != want {
			t.Errorf("tlsListenerOf(%s) = %s, want %s", dst, got, want)
		}
	}
}
