package media

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// sendRTP sends peer's next RTP packet to the relay port.
func sendRTP(t *testing.T, peer *fakeConn, n *fakeNet, port int, seq *uint16) {
	t.Helper()
	*seq++
	peer.sendTo(t, rtpPacket(0, *seq, uint32(*seq)*160, 1), relayAddr(n, port))
}

func (r *sessionRig) noTimeout(t *testing.T) {
	t.Helper()
	synctest.Wait()
	select {
	case reason := <-r.timeouts:
		t.Fatalf("timed out early: %s", reason)
	default:
	}
}

func (r *sessionRig) timedOut(t *testing.T, want string) {
	t.Helper()
	synctest.Wait()
	select {
	case reason := <-r.timeouts:
		if reason != want {
			t.Fatalf("reason %q, want %q", reason, want)
		}
	default:
		t.Fatal("no timeout")
	}
}

// The timeout is the call's (as rtpengine's): one leg falling silent while
// the other talks is one-way audio, not a dead call; when the last sender
// falls silent too, the call ends a timeout after its last packet.
func TestSessionTimeoutWhenEveryLegFallsSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{})
		aPort, bPort := r.call(t, r.s)
		phone := r.n.peer(t, aMapped)
		pbx := r.n.peer(t, bSDP.String())
		var aSeq, bSeq uint16
		for range 120 { // two minutes of talk
			sendRTP(t, phone, r.n, aPort, &aSeq)
			sendRTP(t, pbx, r.n, bPort, &bSeq)
			time.Sleep(time.Second)
		}
		r.noTimeout(t)
		// The PBX falls silent; the phone keeps talking for five minutes.
		for range 300 {
			sendRTP(t, phone, r.n, aPort, &aSeq)
			time.Sleep(time.Second)
		}
		r.noTimeout(t)
		// The phone's last packet left 1 s ago.
		time.Sleep(58 * time.Second)
		r.noTimeout(t)
		time.Sleep(time.Second)
		r.timedOut(t, "media timeout: no media from either leg for 60s")
		// Once only.
		time.Sleep(10 * time.Minute)
		r.noTimeout(t)
	})
}

func TestSessionNoTimeoutBeforeAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{})
		rewrite(t, r.s, LegA, phoneOffer, facingB, 0)
		time.Sleep(10 * time.Minute) // a long ring; nobody has the answer yet
		r.noTimeout(t)
		// A 183 with SDP: both legs negotiated, yet the caller sends nothing
		// until the 200, and a call queue may ring for many minutes.
		rewrite(t, r.s, LegB, pbxAnswer, facingA, 0)
		time.Sleep(10 * time.Minute)
		r.noTimeout(t)
		// The 200 starts the clock: silence is counted from it.
		r.s.Answered()
		time.Sleep(59 * time.Second)
		r.noTimeout(t)
		time.Sleep(time.Second)
		r.timedOut(t, "media timeout: no media from either leg for 60s")
	})
}

func TestSessionHoldTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{HoldTimeout: time.Hour})
		r.call(t, r.s)
		// The phone holds the PBX: it sends nothing (no music on hold), the
		// PBX answers recvonly and must not send either.
		hold := strings.Replace(phoneOffer, "a=sendrecv", "a=sendonly", 1)
		rewrite(t, r.s, LegA, hold, facingB, 0)
		rewrite(t, r.s, LegB, strings.Replace(pbxAnswer, "a=sendrecv", "a=recvonly", 1), facingA, 0)
		time.Sleep(59 * time.Minute)
		r.noTimeout(t)
		time.Sleep(time.Minute)
		r.timedOut(t, "media timeout: no media from either leg for 3600s")
	})
}

func TestSessionInactiveStreamNeedsNoRTP(t *testing.T) {
	// Neither leg must send when the answer says inactive, whatever the offer said.
	for _, offerDir := range []string{"a=inactive", "a=sendrecv"} {
		t.Run(offerDir, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newSessionRig(t, Config{HoldTimeout: time.Hour})
				rewrite(t, r.s, LegA, strings.Replace(phoneOffer, "a=sendrecv", offerDir, 1), facingB, 0)
				rewrite(t, r.s, LegB, strings.Replace(pbxAnswer, "a=sendrecv", "a=inactive", 1), facingA, 0)
				time.Sleep(3 * time.Hour)
				r.noTimeout(t)
			})
		})
	}
}

func TestSessionCloseInsideTimeoutCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{})
		var s Session
		closed := make(chan error, 1)
		s, err := r.anchor.NewSession("call-2", func(string) { closed <- s.Close() })
		if err != nil {
			t.Fatal(err)
		}
		rewrite(t, s, LegA, phoneOffer, facingB, 0)
		rewrite(t, s, LegB, pbxAnswer, facingA, 0)
		s.Answered()
		time.Sleep(61 * time.Second)
		synctest.Wait()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("callback did not run or Close blocked in it")
		}
	})
}
