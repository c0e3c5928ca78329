//go:build linux

package natlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Registrar is the lab's PBX: Kamailio's registrar and location service
// (testdata/kamailio-registrar.cfg), queried with kamcmd.
type Registrar struct {
	*Proc
	ctl string // kamcmd's unix socket
}

// RegistrarOptions choose how the registrar behaves.
type RegistrarOptions struct {
	// Password, when set, makes the registrar challenge every REGISTER
	// with 401 (realm: the To domain) and accept this password for any user.
	Password string
	// ChallengeInvite (with Password) also challenges every initial INVITE
	// with 407 (realm: the From domain), as PBXs do for outgoing calls.
	ChallengeInvite bool
	// MWIServer and PresenceServer (host:port), when set, receive the
	// SUBSCRIBEs for message-summary and presence.
	MWIServer, PresenceServer string
}

// StartKamailioRegistrar runs the registrar in the pbx namespace on
// ip:port (UDP and TCP) and waits until its UDP port is bound.
func (l *Lab) StartKamailioRegistrar(t *testing.T, ip string, port int, opts RegistrarOptions) *Registrar {
	t.Helper()
	// A unix socket path must stay under 108 bytes; t.TempDir() paths of
	// long test names do not.
	ctlDir, err := os.MkdirTemp("", "natlab-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ctlDir) })
	ctl := filepath.Join(ctlDir, "kamailio.ctl")
	auth := "# no authentication"
	if opts.Password != "" {
		auth = "#!define WITH_AUTH"
	}
	proxyAuth := "# INVITEs unchallenged"
	if opts.ChallengeInvite {
		if opts.Password == "" {
			t.Fatal("RegistrarOptions: ChallengeInvite needs a Password")
		}
		proxyAuth = "#!define WITH_PROXY_AUTH"
	}
	notifiers := "# SUBSCRIBEs go where the location table says"
	if opts.MWIServer != "" || opts.PresenceServer != "" {
		notifiers = "#!define WITH_NOTIFIERS"
	}
	p := l.runKamailio(t, "registrar", "kamailio-registrar.cfg", ip, port,
		"__CTL_SOCKET__", ctl, "__AUTH__", auth, "__PROXY_AUTH__", proxyAuth, "__PASSWORD__", opts.Password,
		"__NOTIFIERS__", notifiers, "__MWI_SERVER__", "sip:"+opts.MWIServer, "__PRESENCE_SERVER__", "sip:"+opts.PresenceServer)
	return &Registrar{Proc: p, ctl: ctl}
}

// Contacts returns the contact URIs the location table holds for the AoR
// (a user name: the registrar ignores domains), none when it has no binding.
func (r *Registrar) Contacts(t *testing.T, aor string) []string {
	t.Helper()
	out, err := exec.Command("kamcmd", "-s", "unix:"+r.ctl, "ul.lookup", "location", aor).CombinedOutput()
	text := string(out)
	switch {
	case strings.Contains(text, "AOR not found"):
		return nil
	case err != nil || strings.HasPrefix(text, "error"):
		t.Fatalf("kamcmd ul.lookup location %s: %v\n%s", aor, err, text)
	}
	var contacts []string
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Address: "); ok {
			contacts = append(contacts, v)
		}
	}
	return contacts
}

// AddContact gives the AoR (a user name) a binding to contact for an hour
// without a REGISTER, as a PBX's static extension: a PBX-side callee that
// does not register (sipp's echo) is reached through lookup like a phone.
func (r *Registrar) AddContact(t *testing.T, aor, contact string) {
	t.Helper()
	// table, AoR, contact, expires, q, path ("." for none), flags, cflags, methods
	out, err := exec.Command("kamcmd", "-s", "unix:"+r.ctl, "ul.add", "location", aor, contact,
		"3600", "1.0", ".", "0", "0", "0").CombinedOutput()
	if err != nil || strings.HasPrefix(string(out), "error") {
		t.Fatalf("kamcmd ul.add location %s %s: %v\n%s", aor, contact, err, out)
	}
}

// AoRCount is the number of AoRs with bindings in the location table.
func (r *Registrar) AoRCount(t *testing.T) int {
	t.Helper()
	// ul.dump of a thousand AoRs is too big a reply for kamcmd.
	out, err := exec.Command("kamcmd", "-s", "unix:"+r.ctl, "stats.get_statistics", "usrloc:").CombinedOutput()
	if err != nil || strings.HasPrefix(string(out), "error") {
		t.Fatalf("kamcmd stats.get_statistics usrloc: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "usrloc:location_users = "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("kamcmd: location_users %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatalf("kamcmd stats.get_statistics usrloc: no location_users in\n%s", out)
	return 0
}

// AwaitContacts polls the location table until the AoR has a binding and
// returns its contacts; it fails the test after timeout. A bounded poll:
// Kamailio announces no binding changes.
func (r *Registrar) AwaitContacts(t *testing.T, aor string, timeout time.Duration) []string {
	t.Helper()
	var got []string
	if !poll(timeout, func() bool { got = r.Contacts(t, aor); return len(got) > 0 }) {
		t.Fatalf("registrar: no binding for %q after %v", aor, timeout)
	}
	return got
}

// AwaitNoContacts polls until the AoR has no binding left at the registrar.
func (r *Registrar) AwaitNoContacts(t *testing.T, aor string, timeout time.Duration) {
	t.Helper()
	var got []string
	if !poll(timeout, func() bool { got = r.Contacts(t, aor); return len(got) == 0 }) {
		t.Fatalf("registrar still holds %v for %q after %v", got, aor, timeout)
	}
}

// poll calls cond every 100 ms until it is true (true) or timeout (false).
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ReceivedMessage is one SIP message the registrar logged on arrival.
type ReceivedMessage struct {
	From    string // source ip:port
	Headers string // start line and headers, without the body
}

// Received parses what the registrar logged of every request and reply
// it received (its "natlab-received" lines, the message following them).
func (r *Registrar) Received() []ReceivedMessage { return parseReceived(r.Log()) }

func parseReceived(log string) []ReceivedMessage {
	const marker = "natlab-received "
	var out []ReceivedMessage
	var cur *ReceivedMessage
	inHeaders := false
	for _, line := range strings.Split(log, "\n") {
		if i := strings.Index(line, marker); i >= 0 {
			out = append(out, ReceivedMessage{From: lastField(line[i:])})
			cur, inHeaders = &out[len(out)-1], true
			continue
		}
		// Message lines end in CR (SIP's CRLF); Kamailio's own end in LF.
		if cur == nil || !inHeaders || !strings.HasSuffix(line, "\r") {
			inHeaders = false
			continue
		}
		if line == "\r" {
			inHeaders = false
			continue
		}
		cur.Headers += strings.TrimSuffix(line, "\r") + "\n"
	}
	return out
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// addressingHeaders are the headers that say where a message goes or
// where an answer goes: what must never carry a phone's private address.
// Call-ID is left out: RFC 3261 §8.1.1.4 makes it opaque (sipp, like many
// phones, spells it with its own IP) and natsbc passes the phone's on.
var addressingHeaders = map[string]bool{
	"via": true, "v": true, "contact": true, "m": true, "from": true, "f": true,
	"to": true, "t": true, "route": true, "record-route": true, "path": true,
}

// AssertNeverReceived fails the test when the start line or an addressing
// header of any message the registrar received contains s (a private
// address of the phone).
func (r *Registrar) AssertNeverReceived(t *testing.T, s string) {
	t.Helper()
	msgs := r.Received()
	if len(msgs) == 0 {
		t.Errorf("registrar logged no received message: is its log format still the one Received parses? (%s)", r.LogPath)
	}
	for _, leak := range addressingLeaks(msgs, s) {
		t.Errorf("the registrar received %q: %s", s, leak)
	}
}

// addressingLeaks describes every start line or addressing header of msgs
// that contains s.
func addressingLeaks(msgs []ReceivedMessage, s string) []string {
	var out []string
	for _, m := range msgs {
		for i, line := range strings.Split(m.Headers, "\n") {
			name, _, _ := strings.Cut(line, ":")
			if (i == 0 || addressingHeaders[strings.ToLower(strings.TrimSpace(name))]) && strings.Contains(line, s) {
				out = append(out, fmt.Sprintf("%q from %s in:\n%s", line, m.From, m.Headers))
			}
		}
	}
	return out
}
