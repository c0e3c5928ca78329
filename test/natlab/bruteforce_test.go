//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestRegisterBruteForceBanned (issue 12, brute force): a host on the
// internet guesses a user's password at the PBX (Kamailio, digest auth)
// through natsbc, one REGISTER with a wrong password after another, with an
// ordinary User-Agent. The PBX only ever sees natsbc's address; natsbc sees
// the guesser's, counts the PBX's 401s to its credentials, and bans it
// after security.auth_failures (10). A phone behind the NAT with the right
// password registers before, during and after the attack.
func TestRegisterBruteForceBanned(t *testing.T) {
	t.Parallel()
	const password, failures = "s3cret-natlab", 10
	l := NewLab(t)
	l.AddScannerHost(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: password})
	n := l.StartNatsbc(t, BaseConfig+registrarPeer)

	phone := func() Sipp {
		return Sipp{Scenario: "register_digest.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
			Remote: EdgeOutIP + ":5060", Service: "alice", Args: []string{"-au", "alice", "-ap", password}}
	}
	MustSucceed(t, l.StartSipp(t, "phone-before", phone()), 30*time.Second)

	// 30 guesses at 2/s: the 11th and later must never reach the PBX.
	guesser := l.StartSipp(t, "guesser", Sipp{Scenario: "register_guess.xml", NS: NSScan, IP: ScannerIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "alice", Calls: 30, Rate: 2,
		Timeout: 60 * time.Second, Args: []string{"-au", "alice", "-ap", "wrong"}})
	ban, ok := n.Log.WaitFunc(30*time.Second, func(e LogEntry) bool { return e.Msg() == "source banned" && e.Str("src") == ScannerIP })
	if !ok {
		t.Fatalf("natsbc did not ban the password guesser at %s", ScannerIP)
	}
	if why := ban.Str("why"); why != "authentication failures" {
		t.Errorf("guesser banned for %q: %s", why, ban.Raw)
	}
	MustSucceed(t, l.StartSipp(t, "phone-during", phone()), 30*time.Second)
	_ = guesser.Wait(90 * time.Second) // its banned guesses time out

	// Each guess the PBX answered is a 401 to a REGISTER with credentials
	// in the guesser's trace: exactly the 10 natsbc allows.
	trace, err := l.ReadSippTrace("guesser")
	if err != nil {
		t.Fatal(err)
	}
	guesses := 0
	for _, m := range trace {
		if m.Received && strings.HasPrefix(m.StartLine(), "SIP/2.0 401") && strings.HasPrefix(m.Header("CSeq"), "2 ") {
			guesses++
		}
	}
	if guesses != failures {
		t.Errorf("the guesser got %d wrong passwords answered, want %d before its ban", guesses, failures)
	}
	MustSucceed(t, l.StartSipp(t, "phone-after", phone()), 30*time.Second)
	if c := reg.Contacts(t, "alice"); len(c) == 0 {
		t.Error("the registrar holds no binding of the phone with the right password")
	}
	t.Logf("the guesser got %d answered guesses, then its ban (%s); the phone registered before, during and after", guesses, ban.Raw)
	n.AssertNoCrash(t)
}
