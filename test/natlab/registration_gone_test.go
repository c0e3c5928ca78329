//go:build linux

package natlab

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRegistrationGone (registration scenario d): a binding ends in three
// ways, and each time it is gone at natsbc ("binding removed" with the
// reason) and at the registrar (kamcmd), and a call to the phone is
// answered at once: 404 by the registrar for its AoR, 480 by natsbc for
// the token Contact the registrar held, 404 by natsbc for a tampered
// token. The phone is still up and would answer a call, so a rejection
// proves natsbc did not forward it; the phone's trace must show no INVITE.
//   - unregistered: the phone sends Expires: 0.
//   - expired: the phone asks 20 s and never refreshes (it still answers
//     OPTIONS, so only the clock ends the binding).
//   - keepalive: the phone stops answering OPTIONS (every second here,
//     three missed allowed) while its registration has 60 s to run.
func TestRegistrationGone(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		scenario string
		ooc      string
		expires  string // the phone's Expires for phone_register_once.xml
		config   string // appended to natsbc's config
		within   time.Duration
	}{
		{name: "unregistered", scenario: "phone_unregister.xml", ooc: "phone_answers.xml", within: 10 * time.Second},
		{name: "expired", scenario: "phone_register_once.xml", ooc: "phone_answers.xml", expires: "20", within: 30 * time.Second},
		{name: "keepalive", scenario: "phone_register_once.xml", ooc: "phone_deaf.xml", expires: "3600",
			config: "keepalive:\n  interval: 1s\n  max_missed: 3\n", within: 15 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
			n := l.StartNatsbc(t, BaseConfig+registrarPeer+c.config)
			phone := l.StartSipp(t, "phone", Sipp{Scenario: c.scenario, OOC: c.ooc,
				NS: NSLan, IP: PhoneIP, Port: 5060, Remote: EdgeOutIP + ":5060", Service: "alice",
				Hold: 90 * time.Second, Keys: map[string]string{"expires": c.expires}})

			b := awaitBinding(t, n, "alice", 10*time.Second)
			token := b.Str("token")
			if token == "" {
				t.Fatalf("binding registered without a token: %s", b.Raw)
			}
			reg.AwaitContacts(t, "alice", 5*time.Second)
			removed := awaitRemoved(t, n, "alice", c.name, c.within)
			switch c.name {
			case "expired":
				assertExpiredOnTime(t, b, removed, 20*time.Second)
			case "keepalive":
				if len(n.Log.Find("keepalive unanswered", nil)) == 0 {
					t.Errorf("binding dropped for keepalive without a \"keepalive unanswered\" line")
				}
			}
			reg.AwaitNoContacts(t, "alice", 5*time.Second)

			assertCallsRejected(t, l, n, token)
			select {
			case <-phone.Done():
				t.Errorf("the phone ended early: %v", phone.Wait(0))
			default:
			}
			if msgs, err := l.ReadSippTrace("phone"); err != nil {
				t.Errorf("phone trace: %v", err)
			} else if inv, ok := FirstReceived(msgs, "INVITE "); ok {
				t.Errorf("a call reached the phone after its binding was gone:\n%s", inv.Text)
			}
			n.AssertNoCrash(t)
		})
	}
}

// assertExpiredOnTime checks the binding was granted want and removed
// within a second or two of it.
func assertExpiredOnTime(t *testing.T, b, removed LogEntry, want time.Duration) {
	t.Helper()
	if got := b.Str("expires"); got != strconv.Itoa(int(want/time.Second)) {
		t.Errorf("binding granted expires %s, want %v (the phone's own, below nat_expires): %s", got, want, b.Raw)
	}
	if d := removed.At.Sub(b.At); d < want-time.Second || d > want+3*time.Second {
		t.Errorf("binding removed %v after it was registered, want about %v", d, want)
	}
}

// assertCallsRejected calls the gone phone from the inside three ways and
// wants each answered with a final response within a second.
func assertCallsRejected(t *testing.T, l *Lab, n *Natsbc, token string) {
	t.Helper()
	last := "a"
	if strings.HasSuffix(token, last) {
		last = "b"
	}
	tampered := token[:len(token)-1] + last
	for _, c := range []struct {
		what  string
		token string // "": the AoR at the registrar
		want  int
	}{
		{"the AoR, at the registrar", "", 404},
		{"the stale token, at natsbc", token, 480},
		{"a tampered token, at natsbc", tampered, 404},
	} {
		ruri, to := "sip:alice@"+PBXIP, PBXIP+":5060"
		if c.token != "" {
			ruri, to = fmt.Sprintf("sip:%s@%s:5060", c.token, EdgeInIP), EdgeInIP+":5060"
		}
		conn := l.DialUDP(t, NSPBX, to)
		res := ProbeInvite(conn, ruri, 5*time.Second)
		t.Logf("INVITE %s (%s): %v in %v", ruri, c.what, res.Codes, res.Took)
		if res.Status != c.want {
			t.Errorf("INVITE to %s answered %d (all: %v), want %d", c.what, res.Status, res.Codes, c.want)
		} else if res.Took > time.Second {
			t.Errorf("INVITE to %s answered after %v, want at once", c.what, res.Took)
		}
		if c.token == "" {
			continue
		}
		e, ok := n.Log.WaitFunc(2*time.Second, func(e LogEntry) bool {
			return e.Msg() == "call to binding rejected" && e.Str("token") == c.token
		})
		if !ok {
			t.Errorf("natsbc did not log \"call to binding rejected\" for %s", c.what)
		} else if e.Str("status") != strconv.Itoa(c.want) {
			t.Errorf("natsbc logged status %s for %s, want %d: %s", e.Str("status"), c.what, c.want, e.Raw)
		}
	}
}
