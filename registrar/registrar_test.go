package registrar

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func testExchange(aor string, asked int, keepalive bool) *Exchange {
	uri := sip.Uri{Scheme: "sip", User: "alice", Host: "192.168.1.10", Port: 5060}
	return &Exchange{
		AoR:      aor,
		Contacts: []Contact{{Key: aor + "\x00" + uri.String(), URI: uri, Asked: asked}},
		Flow: Flow{Transport: "UDP", Local: netip.MustParseAddrPort("203.0.113.5:5060"),
			Source: netip.MustParseAddrPort("198.51.100.7:40000"), Adv: netip.MustParseAddrPort("203.0.113.5:5060")},
		Verdict: Verdict{Kind: "NAT", Keepalive: keepalive},
		PBX:     PBXSide{CallID: "reg-1", CSeq: 1, Transport: "UDP"},
	}
}

// A REGISTER the PBX grants becomes a binding its token reaches; the
// interval told to a NATed phone is capped at NATExpires; a refresh with
// nothing new is answered from the table; un-registering makes the token
// answer ErrGone, and a token natsbc never issued is ErrForged.
func TestRegistrarLifecycle(t *testing.T) {
	r := New(Config{NATExpires: time.Minute, KeepaliveInterval: 15 * time.Second, MaxMissed: 3})
	x := testExchange("sip:alice@example.com", 3600, true)
	r.Begin(x)
	tok := x.Tokens()[0]
	if _, err := r.Reach(tok); !errors.Is(err, ErrGone) {
		t.Fatalf("Reach before the PBX's 2xx: %v, want ErrGone", err)
	}
	id, err := r.TokenID(tok)
	if err != nil {
		t.Fatal(err)
	}
	granted := r.Commit(x, map[uint64]int{id: 3600})
	if granted[id] != 60 {
		t.Errorf("granted %d to a NATed phone, want NATExpires 60", granted[id])
	}
	b, err := r.Reach(tok)
	if err != nil || b.Flow != x.Flow || b.AoR != x.AoR || r.Count() != 1 {
		t.Fatalf("Reach = %+v, %v; count %d", b, err, r.Count())
	}
	// The copy is the caller's: changing it changes nothing in the table.
	b.Verdict.Kind = "tampered"
	if again, _ := r.Get(id); again.Verdict.Kind != "NAT" {
		t.Errorf("a Binding copy changed the table: %q", again.Verdict.Kind)
	}

	refresh := testExchange(x.AoR, 3600, true)
	r.Begin(refresh)
	if got, ok := r.AnswerCached(refresh); !ok || got[0] != 60 {
		t.Errorf("unchanged refresh: cached %v %v, want answered with 60", got, ok)
	}
	moved := testExchange(x.AoR, 3600, true)
	moved.Flow.Source = netip.MustParseAddrPort("198.51.100.7:40001")
	r.Begin(moved)
	if _, ok := r.AnswerCached(moved); ok {
		t.Error("a refresh from a new NAT mapping was answered from the table")
	}

	bye := testExchange(x.AoR, 0, true)
	r.Begin(bye)
	r.Commit(bye, map[uint64]int{})
	if _, err := r.Reach(tok); !errors.Is(err, ErrGone) || r.Count() != 0 {
		t.Errorf("after un-register: %v, count %d", err, r.Count())
	}
	if _, err := r.Reach(TokenPrefix + "aaaaaaaaaaaaaaaaaaaaaaaaaa"); !errors.Is(err, ErrForged) && !errors.Is(err, ErrNotToken) {
		t.Errorf("forged token: %v", err)
	}
}

type fakeHost struct {
	mu         sync.Mutex
	answer     bool
	pings      int
	unregister chan Binding
}

func (h *fakeHost) Ping(context.Context, Binding) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pings++
	return h.answer
}

func (h *fakeHost) Unregister(b Binding) { h.unregister <- b }

// A NATed phone that stops answering is dropped after MaxMissed pings and
// un-registered at the PBX with the next CSeq of its registration; Run
// ends with its context and leaves no ping behind.
func TestRunDropsSilentPhone(t *testing.T) {
	r := New(Config{NATExpires: time.Minute, KeepaliveInterval: 20 * time.Millisecond, MaxMissed: 3})
	x := testExchange("sip:bob@example.com", 3600, true)
	r.Begin(x)
	id, _ := r.TokenID(x.Tokens()[0])
	r.Commit(x, map[uint64]int{id: 3600})

	host := &fakeHost{unregister: make(chan Binding, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, host) }()
	select {
	case b := <-host.unregister:
		if b.ID != id || b.PBX.CSeq != 2 {
			t.Errorf("un-registered %d with CSeq %d, want %d with CSeq 2", b.ID, b.PBX.CSeq, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("binding of a silent phone not dropped")
	}
	cancel()
	<-done
	host.mu.Lock()
	defer host.mu.Unlock()
	if host.pings != 3 || r.Count() != 0 {
		t.Errorf("pings %d, count %d; want 3 pings and no binding", host.pings, r.Count())
	}
}

// MaxPerSource bounds the bindings one source address can make; its
// refreshes and removals always pass, and a binding whose flow moves to
// another address is counted there.
func TestAdmitBoundsBindingsPerSource(t *testing.T) {
	r := New(Config{NATExpires: time.Minute, KeepaliveInterval: 15 * time.Second, MaxMissed: 3, MaxPerSource: 2})
	register := func(aor string, x *Exchange) error {
		r.Begin(x)
		if err := r.Admit(x); err != nil {
			return err
		}
		id, _ := r.TokenID(x.Tokens()[0])
		r.Commit(x, map[uint64]int{id: 3600})
		return nil
	}
	for _, aor := range []string{"sip:a@example.com", "sip:b@example.com"} {
		if err := register(aor, testExchange(aor, 3600, true)); err != nil {
			t.Fatalf("%s: %v", aor, err)
		}
	}
	if err := register("sip:c@example.com", testExchange("sip:c@example.com", 3600, true)); !errors.Is(err, ErrTooManyBindings) {
		t.Fatalf("a third binding from one address: %v, want ErrTooManyBindings", err)
	}
	if err := register("sip:a@example.com", testExchange("sip:a@example.com", 3600, true)); err != nil {
		t.Fatalf("a refresh at the bound: %v", err)
	}
	// b's phone moves to another address (a NAT rebinding): a's address
	// has room again.
	moved := testExchange("sip:b@example.com", 3600, true)
	moved.Flow.Source = netip.MustParseAddrPort("198.51.100.99:40000")
	if err := register("sip:b@example.com", moved); err != nil {
		t.Fatal(err)
	}
	if err := register("sip:c@example.com", testExchange("sip:c@example.com", 3600, true)); err != nil {
		t.Fatalf("after b moved away: %v", err)
	}
	if n := r.store.fromSource(netip.MustParseAddr("198.51.100.7")); n != 2 {
		t.Errorf("bindings counted for the first address: %d, want 2", n)
	}
	bye := testExchange("sip:a@example.com", 0, true)
	r.Begin(bye)
	if err := r.Admit(bye); err != nil {
		t.Fatalf("an un-register at the bound: %v", err)
	}
	r.Commit(bye, map[uint64]int{})
	if n := r.store.fromSource(netip.MustParseAddr("198.51.100.7")); n != 1 {
		t.Errorf("bindings counted after a's un-register: %d, want 1", n)
	}
}
