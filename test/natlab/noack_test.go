//go:build linux

package natlab

import (
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNoACKEndsCallBothLegs (scenario c): the phone never ACKs the 200.
// RFC 3261 §13.3.1.4: natsbc retransmits the 2xx until 64*T1 (32 s with
// T1 = 500 ms) and then ends the dialog; it must BYE both legs within
// 64*T1 + 2 s of the answer. Both sipp sides receive the BYE and answer
// 200 (their scenarios require it), and natsbc logs the diagnosis.
func TestNoACKEndsCallBothLegs(t *testing.T) {
	t.Parallel()
	const t1 = 500 * time.Millisecond
	const limit = 64*t1 + 2*time.Second
	l := NewLab(t)
	n := l.StartNatsbc(t, adminConfig("diagnosis:\n  keep_calls: 10\n"+pbxPeer))
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_noack.xml"))

	answered := n.Log.Await(t, 10*time.Second, "call answered", nil)
	MustSucceed(t, phone, limit+10*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	// When each side received its BYE, as its own message trace says (a
	// sipp process can take seconds to exit on a loaded machine).
	for _, side := range []struct {
		name string
		p    *Proc
	}{{"phone", phone}, {"callee", callee}} {
		bye := l.AwaitTraced(t, side.name, side.p, 5*time.Second, "natsbc's BYE", First(InDialog("BYE ")))
		if d := bye.At.Sub(answered.At); d > limit {
			t.Errorf("%s got its BYE %v after the answer, want within %v", side.name, d, limit)
		}
	}

	warn := n.Log.Await(t, 5*time.Second, "no ACK for 2xx, ending call", nil)
	if d := warn.At.Sub(answered.At); d > limit {
		t.Errorf("natsbc gave up %v after the answer, want within %v", d, limit)
	}
	if d := warn.At.Sub(answered.At); d < 64*t1-2*time.Second {
		t.Errorf("natsbc gave up %v after the answer: earlier than 64*T1 = %v", d, 64*t1)
	}
	if lvl := warn.Str("level"); lvl != "WARN" {
		t.Errorf("no-ACK line at level %q, want WARN", lvl)
	}
	for _, k := range []string{"a_call_id", "b_call_id", "leg", "sent_to", "contact", "via", "source", "route_rule"} {
		if !warn.Has(k) {
			t.Errorf("no-ACK line lacks %q: %s", k, warn.Raw)
		}
	}
	awaitEnded(t, n, "no-ack")
	assertOneCallEnded(t, n)

	// Issue 14, items 2 and 4: the line carries the verdict of natsbc
	// trace's engine, and trace on the call's pcap from the admin API
	// gives the same.
	if warn.Str("diagnosis") != "no ACK for 2xx" || warn.Str("diagnosis_cause") != "no ACK sent at all" {
		t.Errorf("no-ACK line diagnosis %q, cause %q", warn.Str("diagnosis"), warn.Str("diagnosis_cause"))
	}
	pcap := l.Dir + "/call.pcap"
	if err := os.WriteFile(pcap, []byte(ctl(t, l, "pcap", warn.Str("a_call_id"))), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(natsbcBin, "trace", "--call-id", warn.Str("a_call_id"), pcap).CombinedOutput()
	if code := exitCode(err); code != 3 || !strings.Contains(string(out), "no ACK sent at all") || !strings.Contains(string(out), warn.Str("diagnosis_rule")) {
		t.Errorf("natsbc trace on the call's pcap: exit %d\n%s", code, out)
	}

	// Issue 14, item 3: a real browser shows the call in the web view.
	id := url.PathEscape(warn.Str("a_call_id"))
	index := browse(t, l, "--dump-dom", "http://"+adminAddr+"/ui/")
	// The verdict is "no ACK for 2xx", or "ended by BYE ~32 s after the
	// 2xx" when natsbc's own BYE made it into the record: either way the
	// row is a lost ACK with its cause.
	if !strings.Contains(index, warn.Str("a_call_id")) || !strings.Contains(index, `<tr class="lost">`) || !strings.Contains(index, "<td>no ACK sent at all</td>") {
		t.Errorf("the web view's index does not list the call with its verdict:\n%s", index)
	}
	page := browse(t, l, "--dump-dom", "http://"+adminAddr+"/ui/calls/"+id)
	if n := strings.Count(page, `class="msg failing"`); n < 2 || !strings.Contains(page, "no ACK sent at all") {
		t.Errorf("the call's page: %d failing arrows, verdict missing:\n%s", n, page)
	}
	for _, leg := range []string{NATPublicIP, EdgeOutIP, EdgeInIP, PBXIP} {
		if !strings.Contains(page, `class="party">`+leg) {
			t.Errorf("the ladder has no lifeline for %s", leg)
		}
	}
	shot := l.Dir + "/web-view.png"
	browse(t, l, "--screenshot="+shot, "--window-size=1100,700", "http://"+adminAddr+"/ui/calls/"+id)
	if err := saveArtifact(shot); err != nil {
		t.Error(err)
	}
	n.AssertNoCrash(t)
}

// exitCode is a command's exit status (0 when err is nil).
func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
