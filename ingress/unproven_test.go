package ingress

import (
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 12, item 7: an unproven source gets what it sent plus the credit,
// which refills at one a second; a proven one (keepalive answered, or the
// PBX accepted its credentials) and a peer get everything; a CRLF
// keepalive is never counted.
func TestUnprovenCredit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := testShield(ShieldConfig{UnprovenCredit: 4})
		victim := netip.MustParseAddr("192.0.2.99")
		sends := func(n int) int {
			ok := 0
			for range n {
				if s.MaySend(victim, 600) {
					ok++
				}
			}
			return ok
		}
		if got := sends(10); got != 4 {
			t.Fatalf("a new source: %d of 10 sent, want the credit, 4", got)
		}
		if !s.MaySend(victim, 4) {
			t.Error("a CRLF keepalive was held back")
		}
		s.Admit(victim, Endpoints{})
		s.Admit(victim, Endpoints{})
		if got := sends(10); got != 2 {
			t.Fatalf("after hearing 2 datagrams: %d sent, want 2", got)
		}
		time.Sleep(3 * time.Second)
		if got := sends(10); got != 3 {
			t.Fatalf("3 s later: %d sent, want 3 (one a second)", got)
		}
		if st := s.Stats(); st.UnprovenDropped != 21 {
			t.Errorf("UnprovenDropped = %d, want 21", st.UnprovenDropped)
		}
		s.Prove(victim)
		if got := sends(100); got != 100 {
			t.Fatalf("proven: %d of 100 sent", got)
		}
		phone := netip.MustParseAddr("198.51.100.7")
		for range 10 { // spends its credit
			s.MaySend(phone, 600)
		}
		s.AuthSucceeded(phone)
		if !s.MaySend(phone, 600) {
			t.Error("a source the PBX accepted credentials of is still bounded")
		}
		for range 100 {
			if !s.MaySend(pbx, 600) {
				t.Fatal("a peer was bounded")
			}
		}
	})
}

// The guard's WriteTo applies it: a forged source's address gets no more
// than the credit.
func TestGuardWritesBoundedForUnproven(t *testing.T) {
	shield := testShield(ShieldConfig{UnprovenCredit: 2})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	victim, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	g := NewGuardedPacketConn(pc, GuardConfig{Shield: shield})
	for range 5 {
		if _, err := g.WriteTo(make([]byte, 100), victim.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	// A marker sent past the guard shows when everything sent has arrived.
	if _, err := pc.WriteTo([]byte("end"), victim.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	got := 0
	buf := make([]byte, 200)
	for {
		_ = victim.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := victim.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) == "end" {
			break
		}
		got++
	}
	if got != 2 {
		t.Fatalf("the unproven address got %d of 5 datagrams, want the credit, 2", got)
	}
}
