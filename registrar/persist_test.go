package registrar

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/natsbc/natsbc/registrar/store"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func openTestStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func servedAll(string, netip.AddrPort) bool { return true }

// What Commit writes is on disk when it returns, and a registrar on the
// same file finds the binding by the same token; an un-register deletes it.
func TestCommitWritesBeforeReturning(t *testing.T) {
	st := openTestStore(t)
	cfg := Config{NATExpires: time.Minute, KeepaliveInterval: 15 * time.Second, MaxMissed: 3, TokenSecret: testSecret, Disk: st}
	r := New(cfg)
	x := testExchange("sip:alice@example.com", 3600, true)
	r.Begin(x)
	tok := x.Tokens()[0]
	id, _ := r.TokenID(tok)
	r.Commit(x, map[uint64]int{id: 3600})
	recs, err := st.Bindings()
	if err != nil || len(recs) != 1 || recs[0].ID != id || recs[0].Flow.Source != x.Flow.Source || recs[0].PBX.CallID != "reg-1" {
		t.Fatalf("state file after Commit: %+v, %v", recs, err)
	}

	again := New(cfg)
	if err := again.Restore(servedAll); err != nil {
		t.Fatal(err)
	}
	if b, err := again.Reach(tok); err != nil || b.Flow != x.Flow || b.Verdict.Kind != "NAT" {
		t.Fatalf("restored Reach = %+v, %v", b, err)
	}

	bye := testExchange(x.AoR, 0, true)
	again.Begin(bye)
	again.Commit(bye, map[uint64]int{})
	if recs, _ := st.Bindings(); len(recs) != 0 {
		t.Fatalf("state file after un-register holds %d bindings", len(recs))
	}
}

// A restored TCP binding is neither reachable nor pinged until the phone
// registers again on a new connection.
func TestRestoredTCPBindingIsNotPinged(t *testing.T) {
	st := openTestStore(t)
	cfg := Config{NATExpires: time.Minute, KeepaliveInterval: 15 * time.Second, MaxMissed: 3, TokenSecret: testSecret, Disk: st}
	first := New(cfg)
	x := testExchange("sip:bob@example.com", 3600, true)
	x.Flow.Transport = "TCP"
	first.Begin(x)
	tok := x.Tokens()[0]
	id, _ := first.TokenID(tok)
	first.Commit(x, map[uint64]int{id: 3600})

	r := New(cfg)
	if err := r.Restore(servedAll); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reach(tok); !errors.Is(err, ErrAwaitsReconnect) {
		t.Fatalf("Reach of a restored TCP binding: %v, want ErrAwaitsReconnect", err)
	}
	if _, due := r.dueBindings(0); len(due) != 0 {
		t.Fatalf("a binding awaiting its reconnect is pinged")
	}
	x2 := testExchange(x.AoR, 3600, true)
	x2.Flow.Transport, x2.Flow.Source = "TCP", netip.MustParseAddrPort("198.51.100.7:40001")
	r.Begin(x2)
	if _, cached := r.AnswerCached(x2); cached {
		t.Fatal("the phone's REGISTER on its new connection was answered from the table; its flow must be learnt")
	}
	r.Commit(x2, map[uint64]int{id: 3600})
	if b, err := r.Reach(tok); err != nil || b.Flow.Source != x2.Flow.Source {
		t.Fatalf("Reach after the phone registered again: %+v, %v", b, err)
	}
	if _, due := r.dueBindings(0); len(due) != 1 {
		t.Fatalf("the reconnected binding is not pinged")
	}
}

// BenchmarkRegisterPersist is what the state file adds to one REGISTER:
// the binding's record written and fsync'd before the 200 goes out
// (README "State on disk"). Run it on the disk natsbc will use: t.TempDir
// is on the file system of the test's TMPDIR.
func BenchmarkRegisterPersist(b *testing.B) {
	st := openTestStore(b)
	r := New(Config{NATExpires: time.Minute, KeepaliveInterval: 15 * time.Second, MaxMissed: 3,
		TokenSecret: testSecret, Disk: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	x := testExchange("sip:alice@example.com", 3600, true)
	r.Begin(x)
	e := x.entries[0]
	for i := 0; b.Loop(); i++ {
		r.mu.Lock()
		e.ID = uint64(i%1000 + 1) // a table of 1000 phones refreshing
		e.PBX.CSeq++
		e.Expires = time.Now().Add(time.Minute)
		ch := r.toDisk([]*entry{e}, nil)
		r.mu.Unlock()
		r.writeDisk(ch)
	}
}
