package ingress

import (
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 12, item 7: an unproven source gets the bytes it sent plus the
// credit, which refills at 1 KiB a second; a proven one (keepalive
// answered, or it sent back the nonce natsbc relayed to it) and a peer get
// everything; a CRLF keepalive is never counted.
func TestUnprovenCredit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := testShield(ShieldConfig{UnprovenCredit: 2000})
		victim := netip.MustParseAddr("192.0.2.99")
		sends := func(n int) int {
			ok := 0
			for range n {
				if s.MaySend(victim, 500) {
					ok++
				}
			}
			return ok
		}
		if got := sends(10); got != 4 {
			t.Fatalf("a new source: %d datagrams of 500 bytes sent, want the credit's 4", got)
		}
		if !s.MaySend(victim, 4) {
			t.Error("a CRLF keepalive was held back")
		}
		s.AdmitDatagram(victim, Endpoints{}, 700)
		s.AdmitDatagram(victim, Endpoints{}, 300)
		if got := sends(10); got != 2 {
			t.Fatalf("after hearing 1000 bytes: %d sent, want 2", got)
		}
		time.Sleep(time.Second)
		if got := sends(10); got != 2 {
			t.Fatalf("a second later: %d sent, want 2 (1 KiB a second)", got)
		}
		if st := s.Stats(); st.UnprovenDropped != 22 {
			t.Errorf("UnprovenDropped = %d, want 22", st.UnprovenDropped)
		}
		if s.Proven(victim) {
			t.Error("Proven before any proof")
		}
		s.Prove(victim)
		if !s.Proven(victim) || !s.Proven(pbx) {
			t.Error("not Proven after Prove, or a peer not Proven")
		}
		if got := sends(100); got != 100 {
			t.Fatalf("proven: %d of 100 sent", got)
		}
		phone := netip.MustParseAddr("198.51.100.7")
		other := netip.MustParseAddr("198.51.100.8")
		for range 10 { // spends its credit
			s.MaySend(phone, 500)
		}
		s.AuthSucceeded(phone) // a 2xx proves nothing: a forged request may need no credentials
		s.CredentialsShown(phone, "n-guessed")
		if s.MaySend(phone, 500) {
			t.Error("a 2xx or a nonce natsbc never sent proved a source")
		}
		s.ChallengeSent(phone, "n-1")
		s.ChallengeSent(other, "n-2")
		s.CredentialsShown(phone, "n-2") // sent to another address
		if s.Proven(phone) {
			t.Error("a nonce sent to another address proved a source")
		}
		// A PBX whose nonces do not depend on the client (natsbc is its one
		// client) gives two addresses the same nonce: it proves neither.
		s.ChallengeSent(other, "n-shared")
		s.ChallengeSent(phone, "n-shared")
		s.CredentialsShown(phone, "n-shared")
		if s.Proven(phone) {
			t.Error("a nonce relayed to two addresses proved a source")
		}
		s.CredentialsShown(phone, "n-1")
		if !s.MaySend(phone, 500) {
			t.Error("a source that sent back the nonce relayed to it is still bounded")
		}
		for range 100 {
			if !s.MaySend(pbx, 500) {
				t.Fatal("a peer was bounded")
			}
		}
	})
}

// The guard's WriteTo applies it: an unproven address gets no more than
// the credit.
func TestGuardWritesBoundedForUnproven(t *testing.T) {
	shield := testShield(ShieldConfig{UnprovenCredit: 250})
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
		t.Fatalf("the unproven address got %d of 5 datagrams of 100 bytes, want the 250-byte credit's 2", got)
	}
}

// A flood of new forged sources, which keeps the rate table full and
// evicting, cannot make natsbc forget a phone's proof; and proofs not used
// for two generations are forgotten, so the set stays bounded.
func TestProofsSurviveSourceFloodAndAgeOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := testShield(ShieldConfig{UnprovenCredit: 2000, MaxSources: 64})
		phone := netip.MustParseAddr("198.51.100.7")
		s.Prove(phone)
		for i := range 3 * proofsPerGeneration {
			forged := netip.AddrFrom4([4]byte{203, byte(i >> 16), byte(i >> 8), byte(i)})
			s.AdmitDatagram(forged, Endpoints{}, 100)
			s.MaySend(forged, 100)
			s.ChallengeSent(forged, "n-"+forged.String()) // the PBX challenges every forged request
		}
		if n := len(s.sources); n > 64 {
			t.Fatalf("the rate table holds %d sources, want at most 64", n)
		}
		if !s.Proven(phone) {
			t.Fatal("a flood of forged sources made natsbc forget a proof")
		}
		time.Sleep(proofGeneration)
		s.Prove(netip.MustParseAddr("198.51.100.9")) // turns a generation
		if !s.Proven(phone) {
			t.Fatal("a proof in use was forgotten after one generation")
		}
		time.Sleep(proofGeneration)
		s.Prove(netip.MustParseAddr("198.51.100.10"))
		time.Sleep(proofGeneration)
		s.Prove(netip.MustParseAddr("198.51.100.11"))
		if s.Proven(netip.MustParseAddr("198.51.100.9")) {
			t.Fatal("a proof unused for two generations was kept")
		}
	})
}
