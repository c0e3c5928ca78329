package sbc

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar/store"
)

var persistSecret = []byte("0123456789abcdef0123456789abcdef")

// restartBed is a flowBed whose Server keeps its bindings in a state file
// and can be replaced by a new one on the same sockets and file, as after
// a restart.
type restartBed struct {
	*flowBed
	path string
	st   *store.Store
}

func newRestartBed(t *testing.T) *restartBed {
	t.Helper()
	rb := &restartBed{path: filepath.Join(t.TempDir(), "state.db")}
	rb.open(t)
	rb.flowBed = newFlowBedWith(t, persistConfig, func(o *Options, _ netip.AddrPort) { o.State = rb.st })
	return rb
}

func persistConfig(c *Config) { c.Registrations.TokenSecret = persistSecret }

func (rb *restartBed) open(t *testing.T) {
	t.Helper()
	st, err := store.Open(rb.path)
	if err != nil {
		t.Fatal(err)
	}
	rb.st = st
	t.Cleanup(func() { _ = st.Close() })
}

// restart stops the Server, closes the file, and starts a new Server on the
// same addresses and file, with seed run on the file in between.
func (rb *restartBed) restart(t *testing.T, extra []Listener, seed func(st *store.Store)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rb.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	_ = rb.st.Close()
	rb.open(t)
	if seed != nil {
		seed(rb.st)
	}
	old := *rb.flowBed
	rb.flowBed = &flowBed{log: newLogSink(), phone: old.phone, pbx: old.pbx, outside: old.outside, inside: old.inside}
	rb.srv, _, _ = startFlowServerWith(t, rb.log, old.pbx.addr(), persistConfig, func(o *Options, _ netip.AddrPort) {
		o.State = rb.st
		for i, addr := range []netip.AddrPort{old.outside, old.inside} {
			_ = o.Listeners[i].Packet.Close()
			pc, err := net.ListenPacket("udp", addr.String())
			if err != nil {
				t.Fatalf("listen again on %s: %v", addr, err)
			}
			o.Listeners[i].Spec.Addr, o.Listeners[i].Packet = addr, pc
		}
		o.Listeners = append(o.Listeners, extra...)
	})
	rb.waitServing(t)
}

// The binding is on disk when the phone gets its 200, and after a restart
// the PBX's call to the token reaches the phone's socket at once; a stored
// binding past its expiry is deleted at load, and one on a socket natsbc no
// longer has is skipped.
func TestRegistrationSurvivesRestart(t *testing.T) {
	t.Parallel()
	rb := newRestartBed(t)
	r := newPhoneReg("alice")
	got, _ := rb.registerThrough(t, r, 3600, 3600)
	onDisk, err := rb.st.Bindings()
	if err != nil || len(onDisk) != 1 {
		t.Fatalf("state file after the 200: %d bindings (%v), want 1", len(onDisk), err)
	}
	if rec := onDisk[0]; rec.AOR != "sip:alice@example.com" || rec.Flow.Source != rb.phone.addr() ||
		rec.PBX.CallID != r.callID || rec.PBX.CSeq != 1 || rec.Verdict != "NAT" || !rec.Keepalive {
		t.Fatalf("stored binding = %+v", rec)
	}
	token := contactOf(t, got)

	expired, gone := onDisk[0], onDisk[0]
	expired.ID, expired.Key, expired.Expires = 11, "expired", time.Now().Add(-time.Second)
	gone.ID, gone.Key, gone.Flow.Local = 12, "gone", netip.MustParseAddrPort("192.0.2.99:5060")
	rb.restart(t, nil, func(st *store.Store) {
		if err := st.Apply([]store.Binding{expired, gone}, nil); err != nil {
			t.Fatal(err)
		}
	})
	if n := rb.srv.Bindings(); n != 1 {
		t.Fatalf("Bindings() after restart = %d, want 1 (alice; the expired and the socket-less one not)", n)
	}
	rec, err := rb.log.waitFor("bindings loaded from the state file", wait)
	if err != nil {
		t.Fatal(err)
	}
	if rec["loaded"] != 1.0 || rec["expired"] != 1.0 || rec["skipped"] != 1.0 {
		t.Errorf("load summary = %v", rec)
	}
	left, _ := rb.st.Bindings()
	if len(left) != 2 {
		t.Errorf("state file after load holds %d bindings, want 2 (the expired one deleted)", len(left))
	}

	_, inv := rb.pbxInvite(token.String())
	rb.pbx.SendTo(t, rb.inside, inv)
	in := rb.phone.Expect(t, wait, "INVITE at the phone after the restart", isRequest(sip.INVITE)).(*sip.Request)
	if in.Recipient.User != "alice" || in.Via().SentBy() != rb.outside.String() {
		t.Errorf("INVITE after restart: R-URI %s, Via %s", in.Recipient.String(), in.Via().SentBy())
	}
	rb.phone.Send(t, replyTo(in, 486, "Busy Here", "ph1", nil, ""))
	rb.pbx.Expect(t, wait, "486 at the PBX", isResponse(486, sip.INVITE))

	// A refresh after the restart is answered from the restored table
	// (registration caching), and its new expiry is on disk.
	before := onDisk[0].Expires
	rb.phone.Send(t, rb.register(r, 3600))
	rb.phone.Expect(t, wait, "200 to the refresh after the restart", isResponse(200, sip.REGISTER))
	for _, b := range mustBindings(t, rb.st) {
		if b.ID == onDisk[0].ID && !b.Expires.After(before) {
			t.Errorf("refresh after restart: stored expiry %s, not after %s", b.Expires, before)
		}
	}

	// Un-registering deletes it from the file before the phone's 200.
	rb.phone.Send(t, rb.register(r, 0))
	unreg := rb.pbx.Expect(t, wait, "un-REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID))
	rb.pbx.SendTo(t, rb.inside, replyTo(unreg, 200, "OK", "pbx9", nil, ""))
	rb.phone.Expect(t, wait, "200 to the un-REGISTER", isResponse(200, sip.REGISTER))
	for _, b := range mustBindings(t, rb.st) {
		if b.AOR == "sip:alice@example.com" && b.Key != "gone" {
			t.Fatalf("alice's binding still on disk after un-REGISTER: %+v", b)
		}
	}
}

// A stored TCP binding comes back without its connection: calls to it get
// 480 until the phone registers again (registrar's
// TestRestoredTCPBindingIsNotPinged: nor is it pinged meanwhile).
func TestRestoredTCPBindingAwaitsReconnect(t *testing.T) {
	t.Parallel()
	rb := newRestartBed(t)
	r := newPhoneReg("bob")
	got, _ := rb.registerThrough(t, r, 3600, 3600)
	token := contactOf(t, got)

	// The bed's phone speaks UDP: the stored flow is made a TCP one on a
	// TCP socket the restarted natsbc has, as a TCP phone's would be.
	ln, err := net.Listen("tcp", rb.outside.Addr().String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	tcp := Listener{Spec: ListenSpec{Name: "outside-tcp", Network: "tcp", Addr: ln.Addr().(*net.TCPAddr).AddrPort()}, Stream: ln}
	rb.restart(t, []Listener{tcp}, func(st *store.Store) {
		recs := mustBindings(t, st)
		recs[0].Flow.Transport, recs[0].Flow.Local = "TCP", tcp.Spec.Addr
		if err := st.Apply(recs, nil); err != nil {
			t.Fatal(err)
		}
	})
	rec, err := rb.log.waitFor("bindings loaded from the state file", wait)
	if err != nil {
		t.Fatal(err)
	}
	if rec["loaded"] != 1.0 || rec["awaiting_tcp_reconnect"] != 1.0 {
		t.Fatalf("load summary = %v, want the TCP binding loaded and awaiting its reconnect", rec)
	}

	_, inv := rb.pbxInvite(token.String())
	rb.pbx.SendTo(t, rb.inside, inv)
	rb.pbx.Expect(t, wait, "480 for the binding awaiting its reconnect", isResponse(480, sip.INVITE))

	// The phone registers again (a new flow): calls reach it.
	rb.registerThrough(t, r, 3600, 3600)
	_, inv = rb.pbxInvite(token.String())
	rb.pbx.SendTo(t, rb.inside, inv)
	in := rb.phone.Expect(t, wait, "INVITE after the phone registered again", isRequest(sip.INVITE)).(*sip.Request)
	rb.phone.Send(t, replyTo(in, 486, "Busy Here", "ph1", nil, ""))
	rb.pbx.Expect(t, wait, "486 at the PBX", isResponse(486, sip.INVITE))
}

func mustBindings(t *testing.T, st *store.Store) []store.Binding {
	t.Helper()
	recs, err := st.Bindings()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
